"""`kgrag doctor`: every check a user needs when something is wrong, each with its fix.

Each check returns a `Check` (`ok` / `warn` / `fail`, what was seen, what to do). A check never
raises: a failure to look is itself a `fail` with the reason. The checks of what the settings
name (the model, the embedder, the index, the data folder) are given the command's `Settings`.
The LLM is tried in a worker process (one generated token), so a crashing llama.cpp build is
reported here instead of killing `doctor`. The GGUF file in use (`KGRAG_MODEL`, else the
installed one) is checked without loading it, so a truncated file is named even with
`--no-generate`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kg.errors import KgragError

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["Check", "run_checks"]

Status = Literal["ok", "warn", "fail"]
MIN_FREE_BYTES = 3 * 1024**3  # room for the models (~2.3 GB) plus an index


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def run_checks(settings: Settings, generate: bool = True) -> list[Check]:
    """All checks of the installation and of what `settings` name, in the order a user should
    read them."""
    checks: list[Callable[[], Check]] = [
        python_check,
        llama_build_check,
        partial(llm_file_check, settings),
        *([partial(llm_generation_check, settings)] if generate else []),
        models_check,
        partial(embedder_check, settings),
        partial(index_check, settings),
        partial(folders_check, settings),
        disk_check,
        graphviz_check,
        chromium_check,
    ]
    return [_guarded(check) for check in checks]


def _guarded(check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as exc:  # a check that cannot look is a failed check, not a traceback
        function = check.func if isinstance(check, partial) else check
        name = function.__name__.removesuffix("_check").replace("_", " ")
        return Check(name, "fail", f"{type(exc).__name__}: {exc}", "run `make install`")


def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    in_venv = sys.prefix != sys.base_prefix
    if not in_venv:
        return Check("python", "warn", f"Python {version} outside a virtual environment "
                     f"({sys.prefix})", "run kgrag from the project's .venv (`make install`)")  # fmt: skip
    return Check("python", "ok", f"Python {version}, venv {sys.prefix}")


def llama_build_check() -> Check:
    from rag.llm.build import expected_report, plan_build, reported_features

    fix = "rebuild for this CPU: `.venv/bin/python -m rag.llm.build install --force`"
    try:
        import llama_cpp
    except ImportError as exc:
        return Check("llama.cpp build", "fail", f"llama-cpp-python is not importable: {exc}", fix)
    info = llama_cpp.llama_print_system_info()
    report = reported_features(info.decode() if isinstance(info, bytes) else str(info))
    plan = plan_build()
    wrong = [name for name, on in expected_report(plan).items() if report.get(name, False) != on]
    on = " ".join(sorted(name for name, value in report.items() if value))
    detail = f"llama-cpp-python {llama_cpp.__version__}; CPU features in use: {on}"
    if report.get("AMX_INT8"):
        return Check("llama.cpp build", "fail", f"{detail}. AMX kernels are compiled in: they "
                     "crash on the shipped Q4_K_M model", fix)  # fmt: skip
    if wrong:
        return Check("llama.cpp build", "warn", f"{detail}. Differs from this CPU's plan in: "
                     f"{', '.join(wrong)} (built on another CPU?)", fix)  # fmt: skip
    return Check("llama.cpp build", "ok", detail)


def llm_generation_check(settings: Settings) -> Check:
    """One token from the settings' GGUF (with their chat format) in a worker process."""
    from rag.llm.worker import WorkerGenerator
    from rag.protocols import Message

    path = settings.model_path()
    if not path.is_file():
        return Check("LLM generation", "fail", f"no model file at {path}",
                     "run `kgrag models --install`")  # fmt: skip
    worker = WorkerGenerator(path, max_tokens=1, n_ctx=512, chat_format=settings.chat_format)
    started = time.perf_counter()
    try:
        text = "".join(worker.stream([Message("user", "Say OK.")]))
    except KgragError as exc:
        return Check("LLM generation", "fail", str(exc),
                     "rebuild llama.cpp (`.venv/bin/python -m rag.llm.build install --force`) "
                     "or reinstall the model (`kgrag models --install`)")  # fmt: skip
    finally:
        worker.close()
    seconds = time.perf_counter() - started
    return Check("LLM generation", "ok", f"one token ({text.strip()!r}) from {path.name} in a "
                 f"worker process, {seconds:.1f} s including the model load")  # fmt: skip


def llm_file_check(settings: Settings) -> Check:
    """The GGUF file answers would load (`KGRAG_MODEL`, else the installed one), not only the
    store's: a regular file whose header parses and whose size holds every tensor it lists; a
    copy of the shipped model (its file name or its size) must also match its size and sha256."""
    from rag.llm.gguf import GgufError, read_gguf_header
    from rag.models.catalogue import ModelMissingError

    fix = ("point KGRAG_MODEL at a whole GGUF file (or unset it to use the installed model)"
           if settings.model else "run `kgrag models --install`")  # fmt: skip
    try:
        path = settings.model_path()
        header = read_gguf_header(path)
    except (GgufError, ModelMissingError) as exc:
        return Check("LLM file", "fail", str(exc), fix)
    problem, verified = _catalogue_problem(path)
    if problem:
        return Check("LLM file", "fail", f"{path} {problem}", fix)
    source = "KGRAG_MODEL" if settings.model else "installed"
    return Check("LLM file", "ok", f"{path} ({source}): GGUF v{header.version}, "
                 f"{header.name or 'unnamed'}, {header.tensors} tensors, "
                 f"{path.stat().st_size:,} bytes hold them all{verified}")  # fmt: skip


def _catalogue_problem(path: Path) -> tuple[str, str]:
    """('what is wrong', '') for a file that claims to be the shipped LLM (its file name or its
    size) but differs from it; else ('', how it was verified). The store's own file is rehashed
    by the models check; a copy elsewhere is rehashed here once per size and modification time
    (hashing 1.1 GB takes seconds, so the result is remembered)."""
    from rag.models.catalogue import QWEN_CODER, model_path

    size = path.stat().st_size
    spec = QWEN_CODER
    if path.name != spec.target and size != spec.size:
        return "", ""  # another model: its header and size are all that can be checked
    if size != spec.size:
        return (f"is named like the shipped {spec.name} but has {size:,} bytes, not "
                f"{spec.size:,} (truncated or damaged)", "")  # fmt: skip
    store = model_path(spec)
    if store is not None and store.exists() and path.resolve() == store.resolve():
        return "", "; sha256: see the models check"
    if _cached_sha256(path) != spec.sha256:
        return f"has the size of the shipped {spec.name} but not its sha256 (damaged)", ""
    return "", f"; sha256 matches the shipped {spec.name}"


def _cached_sha256(path: Path) -> str:
    """The file's sha256, rehashed only when its size or modification time changed since the
    last doctor run (the record lives in KGRAG_HOME; a cache that cannot be written is skipped)."""
    from kg.errors import WriteError
    from kg.fsutil import atomic_write_text, file_sha256
    from rag.models.catalogue import kgrag_home

    record = kgrag_home() / "doctor-sha256.json"
    info = path.stat()
    key, stamp = str(path.resolve()), [info.st_size, info.st_mtime_ns]
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    entry = known.get(key)
    if isinstance(entry, dict) and entry.get("stamp") == stamp and entry.get("sha256"):
        return str(entry["sha256"])
    digest = file_sha256(path)
    known = {k: v for k, v in known.items() if Path(k).exists()}  # forget deleted files
    known[key] = {"stamp": stamp, "sha256": digest}
    with suppress(WriteError, OSError):  # unwritable: the next run hashes again
        atomic_write_text(record, json.dumps(known, indent=1))
    return digest


def models_check() -> Check:
    from rag.models import catalogue as models

    states = models.status(verify=True)
    bad = [f"{s.spec.key} {s.detail}".strip() for s in states if not s.installed]
    if bad:
        return Check("models", "fail", "; ".join(bad), "run `kgrag models --install`")
    names = ", ".join(f"{s.spec.key} ({s.checksum})" for s in states)
    return Check("models", "ok", f"sha256 rehashed: {names}")


def embedder_check(settings: Settings) -> Check:
    """The settings' embedder loads and encodes."""
    from rag.engine import build_embedder

    embedder = build_embedder(settings)
    vector = embedder.encode_queries(["kgrag doctor"])
    backend = (
        "ONNX Runtime" if type(embedder).__name__ == "OnnxEmbedder" else "sentence-transformers"
    )
    return Check("embedder", "ok", f"{embedder.name} loads and encodes ({vector.shape[1]} dims, "
                 f"on {backend})")  # fmt: skip


def index_check(settings: Settings) -> Check:
    """The settings' index is there, readable, fresh for their corpus, and writable if not."""
    from kg.corpus import load_corpus
    from rag.indexing.index import read_manifest
    from rag.stores.base import store_kind
    from rag.stores.faiss import check_index_writable

    folder, uri = settings.index_dir, settings.vector_uri
    kind = store_kind(uri)
    where = f"{kind} store {uri}" if uri else str(folder)
    try:
        manifest = read_manifest(folder, uri, settings.vector_token)
    except KgragError as exc:
        return Check("index", "fail", f"{where}: {exc}",
                     "start the store, or fix KGRAG_VECTOR_URI (unset: FAISS)")  # fmt: skip
    corpus = load_corpus(settings.corpus)
    stale = manifest is None or manifest.corpus_sha256 != corpus.sha256
    if stale and not uri:  # the next command must rewrite the folder: say now if it cannot
        try:
            check_index_writable(folder)
        except KgragError as exc:
            return Check("index", "fail", str(exc), "make the folder writable, or set "
                         "KGRAG_INDEX_DIR to one you can write")  # fmt: skip
    if manifest is None:
        return Check("index", "warn", f"no usable index in {where}",
                     "run `kgrag index` (or any command that needs it builds it)")  # fmt: skip
    if manifest.corpus_sha256 != corpus.sha256:
        return Check("index", "warn", f"{where} was built for another version of "
                     f"{corpus.path}", "run `kgrag index` to update it")  # fmt: skip
    return Check("index", "ok", f"{where} ({manifest.store}, {manifest.index_type}): "
                 f"{manifest.passages} passages, {manifest.embedder}, "
                 f"matches {corpus.path.name}")  # fmt: skip


def folders_check(settings: Settings) -> Check:
    """The settings' data folder and the model store can be written."""
    from rag.models.catalogue import kgrag_home

    problems = []
    for folder in (settings.data_dir, kgrag_home()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
                pass
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror or exc}")
    if problems:
        return Check("folders", "fail", "; ".join(problems),
                     "make them writable, or point KGRAG_DATA_DIR / KGRAG_HOME elsewhere")  # fmt: skip
    return Check("folders", "ok", f"writable: {settings.data_dir}, {kgrag_home()}")


def disk_check() -> Check:
    from rag.models.catalogue import kgrag_home

    folder = _existing_parent(kgrag_home())
    free = shutil.disk_usage(folder).free
    detail = f"{free / 1024**3:.1f} GiB free at {folder}"
    if free < MIN_FREE_BYTES:
        return Check("disk", "warn", detail, "free at least 3 GiB for the models and the index")
    return Check("disk", "ok", detail)


def graphviz_check() -> Check:
    found = shutil.which("dot")
    if found is None:
        return Check("graphviz", "warn", "Graphviz's `dot` is not installed: the app's lineage "
                     "chart cannot be laid out", "run `make graphviz`")  # fmt: skip
    return Check("graphviz", "ok", f"{found} (lays out the lineage chart)")


def chromium_check() -> Check:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium")
                                         else None)  # fmt: skip
    if found is None:
        return Check("chromium", "warn", "Debian's chromium is not installed (only the browser "
                     "tests need it)", "run `make browser-deps`")  # fmt: skip
    return Check("chromium", "ok", f"{found} (for the browser tests)")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path

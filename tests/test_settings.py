"""`Settings` is read from the environment once, options win; `build_engine` picks the store
from `vector_uri`: a FAISS folder, a `.db` file (real Milvus Lite), or the toy in-memory store
that one `register_store` line adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus
from rag.engine import SharedParts, build_engine
from rag.models.catalogue import DEFAULT_EMBEDDER
from rag.settings import Settings
from rag.stores.base import register_store
from tests.fixtures.memory_store import SLOTS, MemoryStore
from tests.test_stores import load_corpus_subset
from ui.app_services import AppServices, ServeOptions
from ui.cli import build_parser
from ui.commands.common import settings_from

register_store("memory", MemoryStore)  # the one line that adds the toy store

_VARIABLES = ("KGRAG_CORPUS", "KGRAG_DATA_DIR", "KGRAG_INDEX_DIR", "KGRAG_VECTOR_URI",
              "KGRAG_VECTOR_TOKEN", "KGRAG_EMBEDDER", "KGRAG_MODEL")  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_defaults_follow_the_data_folder_and_the_corpus_fallback(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings.from_env()
    assert settings == Settings(corpus=SHIPPED_CORPUS, data_dir=data, index_dir=data / "index",
                                embedder=DEFAULT_EMBEDDER)  # fmt: skip
    assert settings.vector_uri == "" and settings.model is None
    data.mkdir()
    (data / "corpus.txt").write_text(SHIPPED_CORPUS.read_text("utf-8"), "utf-8")
    assert Settings.from_env().corpus == data / "corpus.txt"  # the user's copy, once made
    other = tmp_path / "other-data"
    other.mkdir()
    (other / "library.jsonl").write_text("", "utf-8")
    assert Settings.from_env(data_dir=other).corpus == other / "library.jsonl"


def test_the_environment_is_read_and_options_win(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {"KGRAG_CORPUS": tmp_path / "env.txt", "KGRAG_INDEX_DIR": tmp_path / "env-ix",
           "KGRAG_VECTOR_URI": str(tmp_path / "env.db"), "KGRAG_VECTOR_TOKEN": "t0k",
           "KGRAG_EMBEDDER": "use-multilingual", "KGRAG_MODEL": tmp_path / "env.gguf"}  # fmt: skip
    for name, value in env.items():
        clean_env.setenv(name, str(value))
    read = Settings.from_env()
    assert (read.corpus, read.index_dir, read.vector_uri, read.vector_token, read.embedder,
            read.model) == tuple(env.values())  # fmt: skip
    assert read.model_path() == tmp_path / "env.gguf"
    given = Settings.from_env(corpus=tmp_path / "mine.txt", index_dir=tmp_path / "ix",
                              vector_uri="memory://x", vector_token="", embedder="e",
                              model=tmp_path / "m.gguf")  # fmt: skip
    assert (given.corpus, given.index_dir, given.vector_uri, given.vector_token, given.embedder,
            given.model) == (tmp_path / "mine.txt", tmp_path / "ix", "memory://x", "", "e",
                             tmp_path / "m.gguf")  # fmt: skip


def test_command_options_become_settings_without_touching_the_environment(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    clean_env.setenv("KGRAG_VECTOR_URI", "qdrant://nowhere")
    args = build_parser().parse_args(
        ["ask", "q", "--vector-uri", str(tmp_path / "kg.db"), "--index-dir", str(tmp_path)]
    )
    settings = settings_from(args)
    assert settings.vector_uri == str(tmp_path / "kg.db") and settings.index_dir == tmp_path
    assert os.environ["KGRAG_VECTOR_URI"] == "qdrant://nowhere", "the option stays an option"


def test_a_toy_store_added_by_one_line_serves_the_engine_built_from_settings(
    clean_env: pytest.MonkeyPatch, corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    small = load_corpus_subset(corpus, tmp_path, 6)
    uri = "memory://settings-test"
    settings = Settings.from_env(corpus=small.path, index_dir=tmp_path / "ix", vector_uri=uri)
    # read once: what the environment says after the settings were read changes nothing
    clean_env.setenv("KGRAG_VECTOR_URI", "qdrant://nowhere")
    clean_env.setenv("KGRAG_INDEX_DIR", str(tmp_path / "elsewhere"))
    shared = SharedParts(embedder=hashing_embedder)
    try:
        engine = build_engine(settings, shared=shared, progress=False)
        target = small.papers[3]
        found = engine.retriever.retrieve(target.title, 3)
        assert found.hits[0].paper_id == target.id
        assert shared.index is not None and shared.index.manifest.store == "memory"
        assert SLOTS[uri].manifest == shared.index.manifest
        assert not (tmp_path / "ix").exists() and not (tmp_path / "elsewhere").exists()
        assert engine.embedder is hashing_embedder  # the shared embedder, not a second one
    finally:
        SLOTS.pop(uri, None)


def test_build_engine_picks_faiss_for_a_folder_and_milvus_lite_for_a_db_file(
    clean_env: pytest.MonkeyPatch, corpus: Corpus, use_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    small = load_corpus_subset(corpus, tmp_path, 6)
    question = "长上下文 注意力"
    stores, hits = {}, {}
    for name, uri in (("faiss", ""), ("milvus", str(tmp_path / "milvus" / "kg.db"))):
        settings = Settings.from_env(corpus=small.path, index_dir=tmp_path / f"ix-{name}",
                                     vector_uri=uri)  # fmt: skip
        shared = SharedParts(embedder=use_embedder)
        engine = build_engine(settings, shared=shared, progress=False)
        hits[name] = [h.paper_id for h in engine.retriever.retrieve(question, 3).hits]
        assert shared.index is not None
        stores[name] = (shared.index.store.kind, shared.index.manifest.store)
        shared.index.store.close()
    assert stores == {"faiss": ("faiss", "faiss"), "milvus": ("milvus-lite", "milvus-lite")}
    assert (tmp_path / "ix-faiss" / "manifest.json").is_file()
    assert not (tmp_path / "ix-milvus").exists(), "a .db URI keeps nothing in the index folder"
    assert hits["milvus"] == hits["faiss"]
    # the app's Index tab reads the manifest of whichever store its settings name
    app = AppServices(ServeOptions(corpus=small.path, index_dir=tmp_path / "ix-milvus",
                                   vector_uri=str(tmp_path / "milvus" / "kg.db")))  # fmt: skip
    manifest = app.manifest()
    assert manifest is not None and manifest.store == "milvus-lite"
    assert manifest.corpus_sha256 == small.sha256


def test_the_other_settings_are_read_and_options_win(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("KGRAG_EMBEDDER_BACKEND", "KGRAG_CHAT_FORMAT", "KGRAG_GENERATOR"):
        clean_env.delenv(name, raising=False)
    default = Settings.from_env()
    assert (default.embedder_backend, default.chat_format, default.generator) == ("", None, "")
    assert not default.corpus_pinned  # found (the shipped list), not named
    env = {"KGRAG_EMBEDDER_BACKEND": "Torch", "KGRAG_CHAT_FORMAT": "llama-2",
           "KGRAG_GENERATOR": "llama-cpp", "KGRAG_CORPUS": str(tmp_path / "env.txt")}  # fmt: skip
    for name, value in env.items():
        clean_env.setenv(name, value)
    read = Settings.from_env()
    assert (read.embedder_backend, read.chat_format, read.generator) == ("torch", "llama-2",
                                                                          "llama-cpp")  # fmt: skip
    assert read.corpus_pinned and read.corpus == tmp_path / "env.txt"
    given = Settings.from_env(embedder_backend="", chat_format="gemma", generator="x")
    assert (given.embedder_backend, given.chat_format, given.generator) == ("", "gemma", "x")
    clean_env.delenv("KGRAG_CORPUS")
    assert Settings.from_env(corpus=tmp_path / "mine.txt").corpus_pinned  # --corpus names it too


def test_kgrag_debug_lets_an_error_raise_with_its_traceback(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kg.errors import KgragError
    from ui.cli import main

    missing = ["papers", "--corpus", str(tmp_path / "absent.txt")]
    clean_env.delenv("KGRAG_DEBUG", raising=False)
    assert main(missing) == 2  # one line on stderr
    clean_env.setenv("KGRAG_DEBUG", "1")
    with pytest.raises(KgragError):
        main(missing)


# Where kg/, rag/ and ui/ may read the process environment: the settings module, kg's own
# settings (`kg.environment`: kg imports nothing of rag), and the llama.cpp build script, which
# runs before kgrag's dependencies are installed. Ray's start-up wait is a write (`ray_encoder`
# sets it for Ray and checks an operator's own value is kept).
_MAY_READ_THE_ENVIRONMENT = {
    "rag/settings.py", "kg/environment.py", "rag/llm/build.py", "rag/embedding/ray_encoder.py"
}  # fmt: skip
# Entry points run as `python -m …` read the settings once, as the CLI's commands do.
_ENTRY_POINTS = {"rag/settings.py", "rag/evaluation/calibrate.py"}


def test_only_the_settings_module_reads_the_environment() -> None:
    import ast

    root = Path(__file__).resolve().parents[1]
    readers = set()
    packages = ("kg", "rag", "ui")
    for path in sorted(p for package in packages for p in root.glob(f"{package}/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            looked_up = isinstance(node, ast.Call | ast.Subscript | ast.Compare)
            text = ast.unparse(node) if looked_up else ""
            writes = ("os.environ.setdefault", "os.environ.pop", "os.environ.update")
            if ("os.environ" in text or "os.getenv" in text) and not text.startswith(writes):
                readers.add(str(path.relative_to(root)))
    assert readers <= _MAY_READ_THE_ENVIRONMENT, sorted(readers - _MAY_READ_THE_ENVIRONMENT)
    assert "rag/settings.py" in readers
    # nor does any part of rag/ read the settings again behind its caller's back: the entry
    # points (the CLI's commands, the app) read them once and pass them in
    fallbacks = {str(p.relative_to(root)) for p in root.glob("rag/**/*.py")
                 if "from_env(" in p.read_text("utf-8")}  # fmt: skip
    assert fallbacks <= _ENTRY_POINTS, sorted(fallbacks - _ENTRY_POINTS)

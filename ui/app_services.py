"""What the app needs from the library, loaded lazily and reloaded when its files change:
corpus, graph, index, answers.

The graph is built at start (it is fast); the embedder, index and LLM load on first use — or in
the background right after start (`warm_up`) so the first question does not pay for them.
`kgrag add` / `kgrag remove` in another process rewrite the library, and `kgrag index` the
index: each use compares the files' signatures with those it loaded and reloads what changed,
so a page load or an answer never serves a library that is no longer there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.corpus import Corpus, Paper, load_corpus
from kg.errors import KgragError

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from rag.answering.engine import Engine
    from rag.answering.records import Answer
    from rag.checking.verify import Verdict
    from rag.indexing.index import VectorIndex
    from rag.protocols import Generator
    from rag.settings import Settings
    from rag.stores.base import Manifest

log = logging.getLogger("kgrag.app")

FileSignature = tuple[int, int, int] | None


def file_signature(path: Path | None) -> FileSignature:
    """(mtime_ns, size, inode) of `path`, None when it is missing: an atomic rewrite (a new file
    renamed over the old one, as `kg.library` writes) changes the inode even within a clock tick."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass(frozen=True)
class ServeOptions:
    """What `kgrag serve` was given; None means the setting's default (`rag.settings`)."""

    corpus: Path | None = None
    index_dir: Path | None = None
    embedder: str | None = None
    model: str | None = None
    vector_uri: str | None = None
    chat_format: str | None = None

    def settings(self) -> Settings:
        """The app's settings: these options over the environment, read now (once, when the
        app starts: `AppServices` keeps them)."""
        from rag.settings import Settings

        return Settings.from_env(corpus=self.corpus, index_dir=self.index_dir,
                                 vector_uri=self.vector_uri, embedder=self.embedder,
                                 model=self.model, chat_format=self.chat_format)  # fmt: skip


class AppServices:
    """Holds the loaded corpus, graph and answer engine; safe to use from Gradio's threads."""

    def __init__(self, options: ServeOptions) -> None:
        from rag.engine import SharedParts

        self.options = options
        self.settings = options.settings()
        self._lock = threading.RLock()
        self._shared = SharedParts()  # one embedder for the app's lifetime, the opened index
        self._kg: KnowledgeGraph | None = None
        self._engine: Engine | None = None
        self._generator: Generator | None = None  # kept across engines (one LLM worker)
        self._corpus_seen: tuple[FileSignature, ...] = ()  # the corpus files the graph came from
        self._index_seen: FileSignature = None  # the index file when last compared
        self.warm_error: str | None = None
        self._warming = threading.Event()  # the background warm-up is loading the models
        self._warmed = threading.Event()  # ... and has finished: the models are loaded

    # ---- corpus and graph -----------------------------------------------------------------
    def pinned(self) -> bool:
        """Whether `--corpus` / `KGRAG_CORPUS` names the paper list (no library behind it)."""
        return self.settings.corpus_pinned

    def corpus_path(self) -> Path:
        """The list served now: decided again each time, since `kgrag add` in another process
        may have created the library since the app started."""
        from kg.corpus import default_corpus_path

        if self.pinned():
            return self.settings.corpus
        return default_corpus_path(data_dir=self.settings.data_dir)

    def kg(self) -> KnowledgeGraph:
        with self._lock:
            self.refresh()
            if self._kg is None:
                from kg.graph import build_graph

                seen = self._corpus_signature()  # before reading: a write meanwhile is seen next
                self._kg = build_graph(load_corpus(self.corpus_path()))
                self._corpus_seen = seen
            return self._kg

    def refresh(self) -> bool:
        """Forget the graph and the engine when the files they were loaded from changed (an
        add or remove by the CLI, an index rebuilt by another process); the next use loads
        them again. True when something was forgotten."""
        with self._lock:
            corpus = self._kg is not None and self._corpus_signature() != self._corpus_seen
            index = self._index_replaced()
            if corpus:
                log.info("the library changed on disk; reloading it")
                self._kg = None
            if corpus or index:
                self._forget_engine()
            return corpus or index

    def _corpus_signature(self) -> tuple[FileSignature, ...]:
        from kg.paths import user_corpus_path, user_library_path

        files = [self.corpus_path()]
        if not self.pinned():  # the library, and the list copy it is layered over
            data = self.settings.data_dir
            files += [user_library_path(data), user_corpus_path(data)]
        return tuple(file_signature(f) for f in files)

    def _index_replaced(self) -> bool:
        """Whether the index on disk is no longer the one the engine opened. The file is only
        a cheap trigger: the app's own index updates rewrite it too, and leave the same
        manifest on disk as in memory."""
        seen = file_signature(self._index_file())
        if seen == self._index_seen:
            return False
        self._index_seen = seen
        opened = self._shared.index
        if opened is None:
            return False
        on_disk = self._disk_manifest()
        return on_disk is None or _identity(on_disk) != _identity(opened.manifest)

    def _index_file(self) -> Path | None:
        """The file an index update rewrites: a FAISS folder's manifest, a Milvus Lite `.db`;
        None for a Milvus server (nothing local shows its changes)."""
        from rag.stores.base import store_kind
        from rag.stores.faiss import MANIFEST

        uri, kind = self.settings.vector_uri, store_kind(self.settings.vector_uri)
        if kind == "faiss":
            folder = uri.removeprefix("faiss://").removeprefix("faiss:") if uri else ""
            return Path(folder or self.settings.index_dir) / MANIFEST
        return Path(uri) if kind == "milvus-lite" else None

    def _forget_engine(self) -> None:
        """Drop the engine and the index it opened, keeping the LLM worker (it does not depend
        on the library) for the next engine."""
        if self._engine is not None and self._engine._generator is not None:
            self._generator = self._engine._generator
        self._engine = None
        self._shared.index = None  # the Index tab then reads the manifest on disk

    def corpus(self) -> Corpus:
        return self.kg().corpus

    def paper(self, paper_id: str) -> Paper:
        found = self.corpus().by_id().get(paper_id)
        if found is None:
            raise KgragError(f"no paper with id {paper_id!r} in the corpus.")
        return found

    def papers(self) -> tuple[Paper, ...]:
        return self.corpus().papers

    # ---- index and answers ----------------------------------------------------------------
    def engine(self) -> Engine:
        """The answer engine over the app's graph (models and index load on first use)."""
        from rag.engine import build_engine

        with self._lock:
            kg = self.kg()  # reloads the library first if it changed
            if self._engine is None:
                settings = replace(self.settings, corpus=self.corpus_path())
                self._engine = build_engine(settings, kg=kg, generator=self._generator,
                                            shared=self._shared)  # fmt: skip
            return self._engine

    def warm(self) -> None:
        """Load the embedder, the index and the LLM worker now, and have llama.cpp evaluate the
        fixed system prompt, rather than at the first question."""
        self.engine().warm_up()

    def models_state(self) -> str:
        """Where the models stand, for the Ask tab's waiting note: `ready` (the warm-up
        finished, or a question started the LLM), `loading` (the warm-up is still loading
        them), `failed` (the warm-up failed: the next question tries again) or `cold` (no
        warm-up: the first question loads them)."""
        if self._warmed.is_set() or self.llm_queue() is not None:
            return "ready"
        if self._warming.is_set():
            return "loading"
        return "failed" if self.warm_error else "cold"

    def llm_queue(self) -> int | None:
        """Questions waiting for the LLM right now (None when it has not started)."""
        engine = self._engine
        generator = engine._generator if engine is not None else self._generator
        if generator is None:
            return None
        ahead = getattr(generator, "ahead", None)
        return int(ahead()) if ahead is not None else None

    def ask_stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Text chunks as generated, then the checked `Answer` (see `rag.answering.pipeline.stream`)."""
        from rag.answering.pipeline import stream

        return stream(question, engine=self.engine(), history=tuple(history))

    def check_claim(self, claim: str) -> Verdict:
        """`kgrag verify` on the app's library: the claim against the papers a search ranks
        first (`rag.checking.library.check_claim`; the embedder and index load on first use)."""
        from rag.checking.library import check_claim

        engine = self.engine()
        return check_claim(engine.kg, claim, engine.embedder, engine.retriever)

    def manifest(self) -> Manifest | None:
        """The index manifest (of whichever store the settings name), or None when no index
        exists yet (nothing is built here)."""
        self.refresh()
        if self._shared.index is not None:
            return self._shared.index.manifest
        return self._disk_manifest()

    def _disk_manifest(self) -> Manifest | None:
        from rag.indexing.index import read_manifest

        s = self.settings
        return read_manifest(s.index_dir, s.vector_uri, s.vector_token)

    def index_dir(self) -> Path:
        return self.settings.index_dir

    def model_file(self) -> str:
        try:
            return str(self.settings.model_path())
        except KgragError as exc:
            return f"missing — {exc}"

    def update_index(self) -> VectorIndex | None:
        """Bring the index up to date with the corpus (embeds only new papers)."""
        with self._lock:
            index = self._shared.index
            if index is not None and index.manifest.corpus_sha256 != self.corpus().sha256:
                self._forget_engine()  # a fresh engine opens (and updates) the index again
            _ = self.engine().retriever
            return self._shared.index

    def warm_up(self, on_error: Callable[[str], None] | None = None) -> threading.Thread:
        """Load the engine in a background thread so the first question is quick."""

        def run() -> None:
            self._warming.set()
            try:
                self.warm()
                self._warmed.set()
            except KgragError as exc:
                self.warm_error = str(exc)
                log.warning("answer engine not ready: %s", exc)
                if on_error:
                    on_error(str(exc))
            except Exception as exc:  # never let the warm-up kill the server
                self.warm_error = f"{type(exc).__name__}: {exc}"
                log.exception("answer engine failed to load")
            finally:
                self._warming.clear()

        thread = threading.Thread(target=run, name="kgrag-warm-up", daemon=True)
        thread.start()
        return thread

    def add_files(
        self,
        paths: Sequence[Path | str],
        fmt: str = "auto",
        options: Any = None,
        names: Sequence[str] | None = None,
    ) -> Any:
        """Add library files (seed list, BibTeX, arXiv Atom, CSV, JSONL) to the user's library
        with `kg.library.add_files`, then reload the graph; the `AddReport` says what changed.
        A malformed file raises `ReaderError` (naming the line or entry key) and adds nothing.
        `names`: what the papers' `source` records (an upload's own name, not its temp path)."""
        from kg.library import add_files

        self._check_not_pinned("add papers with `kgrag add`")
        with self._lock:
            report = add_files(paths, fmt, options, names=names)
            if report.of("added") or report.of("merged"):
                self._forget_library()
            return report

    def edit_paper(self, paper_id: str, edit: Any) -> Any:
        """Set a paper's organisations, category or date (`kg.library.edit_paper`, a
        `PaperEdit`), then reload the graph; the `EditReport` says what changed. An unknown
        id, category or a malformed date raises a `KgragError` and nothing is written."""
        from kg.library import edit_paper

        self._check_not_pinned("edit papers with `kgrag edit`")
        with self._lock:
            report = edit_paper(paper_id, edit)
            if report.changes:
                self._forget_library()
            return report

    def _check_not_pinned(self, instead: str) -> None:
        if self.pinned():
            raise KgragError(
                f"this app serves {self.corpus_path()} (--corpus / KGRAG_CORPUS); {instead}, "
                "or start `kgrag serve` without --corpus to use your library."
            )

    def _forget_library(self) -> None:
        """The library changed: the graph and the engine are loaded again at their next use
        (the index then embeds only what changed)."""
        self._kg = None  # the library, now that it exists, is the list served
        self._forget_engine()


def _identity(manifest: Manifest) -> tuple[str, ...]:
    """What tells two index versions apart (an update rewrites the rows and the build time)."""
    return (manifest.corpus_sha256, manifest.rows_sha256, manifest.built_at, manifest.embedder)

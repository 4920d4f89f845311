"""What the app needs from the library, loaded once and lazily: corpus, graph, index, answers.

The graph is built at start (it is fast); the embedder, index and LLM load on first use — or in
the background right after start (`warm_up`) so the first question does not pay for them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.corpus import Corpus, Paper, load_corpus
from kg.errors import KgragError

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from rag.answer import Answer, Engine
    from rag.index import VectorIndex
    from rag.settings import Settings
    from rag.store import Manifest

log = logging.getLogger("kgrag.app")


@dataclass(frozen=True)
class ServeOptions:
    """What `kgrag serve` was given; None means the setting's default (`rag.settings`)."""

    corpus: Path | None = None
    index_dir: Path | None = None
    embedder: str | None = None
    model: str | None = None
    vector_uri: str | None = None

    def settings(self) -> Settings:
        """The app's engine settings: these options over the environment, read now."""
        from rag.settings import Settings

        return Settings.from_env(corpus=self.corpus, index_dir=self.index_dir,
                                 vector_uri=self.vector_uri, embedder=self.embedder,
                                 model=self.model)  # fmt: skip


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
        self._corpus_path = options.corpus
        self.warm_error: str | None = None

    # ---- corpus and graph -----------------------------------------------------------------
    def corpus_path(self) -> Path:
        return self._corpus_path or self.settings.corpus

    def kg(self) -> KnowledgeGraph:
        with self._lock:
            if self._kg is None:
                from kg.graph import build_graph

                self._kg = build_graph(load_corpus(self.corpus_path()))
            return self._kg

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
            if self._engine is None:
                settings = replace(self.settings, corpus=self.corpus_path())
                self._engine = build_engine(settings, kg=self.kg(), shared=self._shared)
            return self._engine

    def warm(self) -> None:
        """Load the embedder, the index and the LLM worker now, and have llama.cpp evaluate the
        fixed system prompt, rather than at the first question."""
        self.engine().warm_up()

    def llm_queue(self) -> int | None:
        """Questions waiting for the LLM right now (None when it has not started)."""
        if self._engine is None or self._engine._generator is None:
            return None
        ahead = getattr(self._engine._generator, "ahead", None)
        return int(ahead()) if ahead is not None else None

    def ask_stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Text chunks as generated, then the checked `Answer` (see `rag.answer.stream`)."""
        from rag.answer import stream

        return stream(question, engine=self.engine(), history=tuple(history))

    def manifest(self) -> Manifest | None:
        """The index manifest (of whichever store the settings name), or None when no index
        exists yet (nothing is built here)."""
        if self._shared.index is not None:
            return self._shared.index.manifest
        from rag.index import read_manifest

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
                self._engine = None  # a fresh engine opens (and updates) the index again
            _ = self.engine().retriever
            return self._shared.index

    def warm_up(self, on_error: Callable[[str], None] | None = None) -> threading.Thread:
        """Load the engine in a background thread so the first question is quick."""

        def run() -> None:
            try:
                self.warm()
            except KgragError as exc:
                self.warm_error = str(exc)
                log.warning("answer engine not ready: %s", exc)
                if on_error:
                    on_error(str(exc))
            except Exception as exc:  # never let the warm-up kill the server
                self.warm_error = f"{type(exc).__name__}: {exc}"
                log.exception("answer engine failed to load")

        thread = threading.Thread(target=run, name="kgrag-warm-up", daemon=True)
        thread.start()
        return thread

    def add_files(self, paths: Sequence[Path | str], fmt: str = "auto", options: Any = None) -> Any:
        """Add library files (seed list, BibTeX, arXiv Atom, CSV, JSONL) to the user's library
        with `kg.library.add_files`, then reload the graph; the `AddReport` says what changed.
        A malformed file raises `ReaderError` (naming the line or entry key) and adds nothing."""
        from kg.corpus import default_corpus_path
        from kg.library import add_files

        if self.options.corpus is not None or os.environ.get("KGRAG_CORPUS"):
            raise KgragError(
                f"this app serves {self.corpus_path()} (--corpus / KGRAG_CORPUS); add papers "
                "with `kgrag add`, or start `kgrag serve` without --corpus to use your library."
            )
        with self._lock:
            report = add_files(paths, fmt, options)
            if report.of("added") or report.of("merged"):
                # the library, now that it exists, is the paper list the app serves
                self._corpus_path = default_corpus_path(data_dir=self.settings.data_dir)
                self._kg = None
                self._engine = None
            return report

"""What the app needs from the library, loaded once and lazily: corpus, graph, index, answers.

The graph is built at start (it is fast); the embedder, index and LLM load on first use — or in
the background right after start (`warm_up`) so the first question does not pay for them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.corpus import Corpus, Paper, default_corpus_path, load_corpus
from kg.errors import KgragError

log = logging.getLogger("kgrag.app")


@dataclass(frozen=True)
class ServeOptions:
    """Paths and model choices for one app; None means the library's default."""

    corpus: Path | None = None
    index_dir: Path | None = None
    embedder: str | None = None
    model: str | None = None


class AppServices:
    """Holds the loaded corpus, graph and answer engine; safe to use from Gradio's threads."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self._lock = threading.RLock()
        self._embedder_lock = threading.Lock()
        self._retriever_lock = threading.Lock()
        self._retriever: tuple[Any, Any] | None = None  # (graph it serves, Retriever)
        self._kg: Any = None
        self._engine: Any = None
        self._index: Any = None
        self._embedder: Any = None
        self._corpus_path = options.corpus
        self.warm_error: str | None = None

    # ---- corpus and graph -----------------------------------------------------------------
    def corpus_path(self) -> Path:
        return self._corpus_path or default_corpus_path()

    def kg(self) -> Any:
        with self._lock:
            if self._kg is None:
                from kg.graph import build_graph

                self._kg = build_graph(load_corpus(self.corpus_path()))
            return self._kg

    def corpus(self) -> Corpus:
        corpus: Corpus = self.kg().corpus
        return corpus

    def paper(self, paper_id: str) -> Paper:
        found = self.corpus().by_id().get(paper_id)
        if found is None:
            raise KgragError(f"no paper with id {paper_id!r} in the corpus.")
        return found

    def papers(self) -> tuple[Paper, ...]:
        return self.corpus().papers

    # ---- index and answers ----------------------------------------------------------------
    def engine(self) -> Any:
        """The answer engine over the app's graph (models and index load on first use)."""
        with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
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

    def ask_stream(self, question: str, history: Sequence[str] = ()) -> Iterator[Any]:
        """Text chunks as generated, then the checked `Answer` (see `rag.answer.stream`)."""
        from rag.answer import stream

        return stream(question, engine=self.engine(), history=tuple(history))

    def manifest(self) -> Any:
        """The index manifest, or None when no index exists yet (nothing is built here)."""
        from rag.index import default_index_dir

        index_dir = self.options.index_dir or default_index_dir()
        path = Path(index_dir) / "manifest.json"
        if self._index is not None:
            return self._index.manifest
        if not path.is_file():
            return None
        import json

        from rag.index import Manifest

        try:
            return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KgragError(f"the index manifest {path} is unreadable ({exc}); "
                             "press “Update index” to rebuild it.") from exc  # fmt: skip

    def index_dir(self) -> Path:
        from rag.index import default_index_dir

        return Path(self.options.index_dir or default_index_dir())

    def model_file(self) -> str:
        try:
            from rag.llm import default_model_path

            return str(self.options.model or default_model_path())
        except KgragError as exc:
            return f"missing — {exc}"

    def update_index(self) -> Any:
        """Bring the index up to date with the corpus (embeds only new papers)."""
        with self._lock:
            stale = self._index is not None and (
                self._index.manifest.corpus_sha256 != self.corpus().sha256
            )
            if stale:
                self._engine = None  # a fresh engine opens (and updates) the index again
            _ = self.engine().retriever
            return self._index

    def add_papers(self, text: str, source: str) -> Any:
        """Validate and merge an uploaded list into the user's copy, then reload the graph."""
        from kg.usercorpus import add_papers

        if self.options.corpus is not None or os.environ.get("KGRAG_CORPUS"):
            raise KgragError(
                f"this app serves {self.corpus_path()} (--corpus / KGRAG_CORPUS); add papers by "
                "editing that file, or start `kgrag serve` without --corpus to use your own copy."
            )
        with self._lock:
            result = add_papers(text, source)
            if result.added:
                self._corpus_path = result.path
                self._kg = None
                self._engine = None
            return result

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

    def _make_engine(self) -> Any:
        from rag.answer import Engine
        from rag.llm import load_generator

        kg = self.kg()
        options = self.options

        def make_retriever() -> Any:
            from rag.retrieve import Retriever

            # The warm-up thread and a first question may both ask: open the index once.
            with self._retriever_lock:
                if self._retriever is None or self._retriever[0] is not kg:
                    self._index = self._open_index(engine.embedder, progress=True)
                    self._retriever = (kg, Retriever(kg, self._index, engine.embedder))
                return self._retriever[1]

        engine = Engine(
            kg,
            embedder_factory=self._shared_embedder,
            generator_factory=lambda: load_generator(options.model),
            retriever_factory=make_retriever,
        )
        return engine

    def _shared_embedder(self) -> Any:
        """One embedder for the app's lifetime: engines are rebuilt when papers are added."""
        from rag.embed import load_embedder

        with self._embedder_lock:  # not self._lock: graph answers must not wait for the model
            if self._embedder is None:
                self._embedder = load_embedder(self.options.embedder)
            return self._embedder

    def _open_index(self, embedder: Any, progress: bool) -> Any:
        from rag.index import open_index

        return open_index(self.corpus(), embedder, self.options.index_dir, progress=progress)

    def add_files(self, paths: Sequence[Path | str], fmt: str = "auto", options: Any = None) -> Any:
        """Add library files (seed list, BibTeX, arXiv Atom, CSV, JSONL) to the user's library
        with `kg.library.add_files`, then reload the graph; the `AddReport` says what changed.
        A malformed file raises `ReaderError` (naming the line or entry key) and adds nothing."""
        from kg.library import add_files

        if self.options.corpus is not None or os.environ.get("KGRAG_CORPUS"):
            raise KgragError(
                f"this app serves {self.corpus_path()} (--corpus / KGRAG_CORPUS); add papers "
                "with `kgrag add`, or start `kgrag serve` without --corpus to use your library."
            )
        with self._lock:
            report = add_files(paths, fmt, options)
            if report.of("added") or report.of("merged"):
                self._corpus_path = None  # the library, now that it exists (default_corpus_path)
                self._kg = None
                self._engine = None
            return report

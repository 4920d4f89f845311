"""The composition root: `build_engine(settings)` assembles the answer engine.

This module is the one place that chooses the parts: the embedder (`build_embedder`, from
`settings.embedder`), the vector store (`build_index`, from `settings.vector_uri`) and the
generator (`build_generator`, the LLM in a worker process). The CLI, the app and the benches call
it; nothing else picks a store, an embedder or a generator. A new store is one module plus one
line in `rag.stores.base.STORES` (or `register_store`), a new embedder a branch in
`rag.embedding.embedders.load_embedder`: both are then chosen here from the settings.

Heavy parts load on first use (a graph answer loads neither the embedder nor the LLM).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.answering.pipeline import Engine
from rag.settings import Settings

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from kg.graph import KnowledgeGraph
    from rag.indexing.index import DocumentEncoder, VectorIndex
    from rag.protocols import Embedder, Generator, Retriever

__all__ = ["SharedParts", "build_embedder", "build_engine", "build_generator", "build_index"]


@dataclass
class SharedParts:
    """What a long-running caller keeps across the engines it builds (the app builds a new one
    when papers are added): one embedder for its lifetime, and the index the latest engine
    opened (what the app's Index tab shows)."""

    embedder: Embedder | None = None
    index: VectorIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def build_embedder(settings: Settings) -> Embedder:
    """The embedder `settings.embedder` names."""
    from rag.embedding.embedders import load_embedder

    return load_embedder(settings.embedder)


def build_generator(settings: Settings) -> Generator:
    """The LLM: llama.cpp with `settings.model_path()` in a crash-proof worker process. The
    file is located when the worker first starts: a question refused before it needs the LLM
    needs no installed model, even where its length was measured against the LLM's context."""
    from rag.llm.generator import load_generator

    generator: Generator = load_generator(settings.model_path, settings.max_tokens)
    return generator


def build_index(
    settings: Settings,
    corpus: Corpus,
    embedder: Embedder,
    *,
    progress: bool = True,
    encode: DocumentEncoder | None = None,
) -> VectorIndex:
    """The index of `corpus` in the store `settings.vector_uri` names (FAISS in
    `settings.index_dir` when it names none): reused, updated or built (`rag.indexing.index.open_index`)."""
    from rag.indexing.index import open_index

    return open_index(corpus, embedder, settings.index_dir, progress=progress,
                      vector_uri=settings.vector_uri, vector_token=settings.vector_token,
                      encode=encode)  # fmt: skip


def build_engine(
    settings: Settings,
    *,
    kg: KnowledgeGraph | None = None,
    generator: Generator | None = None,
    shared: SharedParts | None = None,
    progress: bool = True,
) -> Engine:
    """The answer engine over `settings.corpus` (or the graph `kg` already built from it).

    `generator` replaces the LLM (a bench that also drives it directly); `shared` keeps the
    embedder and records the opened index across engines; `progress` shows the index build."""
    if kg is None:
        from kg.corpus import load_corpus
        from kg.graph import build_graph

        kg = build_graph(load_corpus(settings.corpus))
    graph = kg
    parts = shared if shared is not None else SharedParts()

    def make_embedder() -> Embedder:
        with parts.lock:  # the warm-up thread and a first question may both ask: load it once
            if parts.embedder is None:
                parts.embedder = build_embedder(settings)
            return parts.embedder

    opened: list[Retriever] = []
    opening = threading.Lock()

    def make_retriever() -> Retriever:
        from rag.retrieval.retrieve import Retriever as HybridRetriever

        with opening:  # open (and maybe build) the index once per engine
            if not opened:
                embedder = make_embedder()
                index = build_index(settings, graph.corpus, embedder, progress=progress)
                parts.index = index
                opened.append(HybridRetriever(graph, index, embedder))
            return opened[0]

    def make_generator() -> Generator:
        return build_generator(settings)

    factory: Callable[[], Generator] = make_generator
    return Engine(graph, generator=generator, retriever_factory=make_retriever,
                  embedder_factory=make_embedder, generator_factory=factory)  # fmt: skip

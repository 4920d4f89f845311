"""The composition root: `build_engine(settings)` assembles the answer engine.

This module is the one place that chooses the parts, each from its registry by the settings: the
embedder (`build_embedder`: `settings.embedder` in `rag.embedding.embedders.EMBEDDERS`), the
vector store (`build_index`: `settings.vector_uri` in `rag.stores.base.STORES`), the retriever
over them (`build_retriever`) and the generator (`build_generator`: `settings.generator` in
`rag.llm.generators.GENERATORS`, the LLM in a worker process by default). The CLI, the app and
the benches call it; nothing else picks a store, an embedder or a generator. A new backend is
one module plus one line in its registry; it is then chosen here from the settings.

Heavy parts load on first use (a graph answer loads neither the embedder nor the LLM).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.answering.engine import Engine
from rag.settings import Settings

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from kg.graph import KnowledgeGraph
    from rag.indexing.index import DocumentEncoder, VectorIndex
    from rag.protocols import Embedder, Generator, Retriever
    from rag.retrieval.retrieve import Retriever as HybridRetriever

__all__ = [
    "SharedParts",
    "build_embedder",
    "build_engine",
    "build_generator",
    "build_index",
    "build_retriever",
]


@dataclass
class SharedParts:
    """What a long-running caller keeps across the engines it builds (the app builds a new one
    when papers are added): one embedder for its lifetime, and the index the latest engine
    opened (what the app's Index tab shows)."""

    embedder: Embedder | None = None
    index: VectorIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def build_embedder(settings: Settings) -> Embedder:
    """The embedder `settings.embedder` names, on the backend `settings.embedder_backend` asks."""
    from rag.embedding.embedders import load_embedder

    return load_embedder(settings.embedder, settings.embedder_backend)


def build_generator(settings: Settings) -> Generator:
    """The LLM `settings.generator` names (llama.cpp in a crash-proof worker process by default)
    with `settings.model_path()` and `settings.chat_format`. The file is located when the model
    first loads: a question refused before it needs the LLM needs no installed model, even
    where its length was measured against the LLM's context."""
    from rag.llm.generators import GeneratorRequest, load_generator

    request = GeneratorRequest(settings.model_path, settings.max_tokens, settings.chat_format)
    return load_generator(settings.generator, request)


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


def build_retriever(
    settings: Settings,
    corpus: Corpus,
    *,
    graph: KnowledgeGraph | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> HybridRetriever:
    """Hybrid retrieval (dense + BM25, fused) over the index of `corpus` (`build_index`); hits
    are expanded along `graph` (None: no expansion). `embedder`: one already loaded (else the
    settings' is loaded)."""
    from rag.retrieval.retrieve import Retriever as HybridRetriever

    embedder = embedder if embedder is not None else build_embedder(settings)
    index = build_index(settings, corpus, embedder, progress=progress)
    return HybridRetriever(graph, index, embedder)


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
        with opening:  # open (and maybe build) the index once per engine
            if not opened:
                retriever = build_retriever(settings, graph.corpus, graph=graph,
                                            embedder=make_embedder(), progress=progress)  # fmt: skip
                parts.index = retriever.index
                opened.append(retriever)
            return opened[0]

    def make_generator() -> Generator:
        return build_generator(settings)

    factory: Callable[[], Generator] = make_generator
    return Engine(graph, generator=generator, retriever_factory=make_retriever,
                  embedder_factory=make_embedder, generator_factory=factory)  # fmt: skip

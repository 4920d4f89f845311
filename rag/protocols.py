"""The seams of kgrag's answer pipeline, each a small Protocol: what the code actually calls.

- `Embedder` — text → float32, L2-normalised rows (backends registered in
  `rag.embedding.embedders.EMBEDDERS`).
- `Generator` — chat `Message`s → a stream of text pieces (backends registered in
  `rag.llm.generators.GENERATORS`); `TokenCounter` — a generator with a context window.
- `Retriever` — a question → hits with their passages and the top dense cosine that the refusal
  threshold reads (`rag.retrieval.retrieve.Retriever` is the one implementation).

Interfaces only: implementations import this module, never the reverse, and each backend's
factory is typed to return its seam, so mypy checks the fit where the backend is registered.
The vector store's contract lives with the store (`rag.stores.base`). This module imports nothing
heavy; a new backend implements one of these and is chosen where the engine is assembled.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Embedder",
    "Generator",
    "Message",
    "RetrievedHit",
    "RetrievedPassage",
    "Retrieval",
    "Retriever",
    "TokenCounter",
]


@runtime_checkable
class Embedder(Protocol):
    """What the index and retriever need from an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Message:
    """One chat message: role is `system`, `user` or `assistant`."""

    role: str
    content: str


class Generator(Protocol):
    """Anything that turns chat messages into a stream of text pieces."""

    def stream(self, messages: Sequence[Message]) -> Iterator[str]: ...


@runtime_checkable
class TokenCounter(Protocol):
    """A generator with a context window: a question can be measured in its tokens before any
    retrieval, so one that cannot fit is refused at once instead of after the work."""

    n_ctx: int
    max_tokens: int

    def count_tokens(self, text: str) -> int: ...


class RetrievedPassage(Protocol):
    """The passage a hit was found by (its text is what the model is shown)."""

    @property
    def text(self) -> str: ...


class RetrievedHit(Protocol):
    """A paper in the results: `via` ⊆ (dense, bm25, graph), `why` says why it is there."""

    @property
    def paper_id(self) -> str: ...

    @property
    def via(self) -> Sequence[str]: ...

    @property
    def why(self) -> str: ...

    @property
    def snippet(self) -> str: ...

    @property
    def passage(self) -> RetrievedPassage: ...


class Retrieval(Protocol):
    """One query's hits, best first, and the top dense cosine of the query to any passage."""

    @property
    def hits(self) -> Sequence[RetrievedHit]: ...

    @property
    def top_similarity(self) -> float: ...


@runtime_checkable
class Retriever(Protocol):
    """What the answer engine asks of retrieval (`rag.answering.sources`)."""

    def retrieve(self, query: str, k: int = 5) -> Retrieval: ...

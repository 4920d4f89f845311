"""The records an answer is returned as: `Answer`, its `Citation`s and the `Source`s shown.

Frozen, plain data: what `rag.answering.pipeline.stream` ends with, what `kgrag ask --json`
prints (`Answer.to_json`), what the app shows and what the evaluation scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "Citation", "Source"]


@dataclass(frozen=True)
class Citation:
    id: str
    title: str
    page: int | None = None
    """The PDF page of the sentence supporting what the answer cites the paper for (None: an
    abstract or the graph)."""
    sentence: str = ""
    """That supporting sentence of the source as shown (what the app's card marks); empty for a
    graph answer. Not part of `to_json`: the source's snippet holds it."""


@dataclass(frozen=True)
class Source:
    """A source shown with the answer, and how it was found (`via`: dense / bm25 / graph)."""

    id: str
    title: str
    snippet: str
    via: tuple[str, ...] = ()
    why: str = ""
    page: int | None = None
    """The PDF page of the body passage the snippet's best sentence is from; None otherwise."""
    section: str | None = None
    """That passage's section heading ("4.2 Results"); None otherwise."""


@dataclass(frozen=True)
class Answer:
    """A checked answer: only verified citations remain in `text` and `citations`."""

    question: str
    text: str
    route: str
    citations: tuple[Citation, ...] = ()
    sources: tuple[Source, ...] = ()
    removed_citations: int = 0
    unsupported_sentences: int = 0
    extractive: bool = False
    similarity: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The `kgrag ask --json` shape."""
        return {
            "question": self.question,
            "answer": self.text,
            "route": self.route,
            "citations": [{"id": c.id, "title": c.title, "page": c.page} for c in self.citations],
            "sources": [
                {
                    "id": s.id,
                    "title": s.title,
                    "snippet": s.snippet,
                    "page": s.page,
                    "section": s.section,
                }
                for s in self.sources
            ],  # fmt: skip
            "removed_citations": self.removed_citations,
            "unsupported_sentences": self.unsupported_sentences,
        }

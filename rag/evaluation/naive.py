"""The naive baseline kgrag is measured against: top-3 abstracts, 500 characters each, the same
LLM, no routing, no refusal, no checks.

`kgrag eval answers --baseline naive` and `python -m bench answers` run it on the same questions
and in the same process as kgrag, so the two are compared on one machine state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.answering import prompts
from rag.answering.pipeline import Answer, Citation, Source
from rag.answering.route import detect_language
from rag.checking.cite import cited_numbers
from rag.llm.generator import Message

if TYPE_CHECKING:
    from kg.corpus import Paper
    from rag.answering.pipeline import Engine

__all__ = ["NAIVE_CHARS", "NAIVE_PAPERS", "naive_messages", "naive_papers", "naive_stream"]

NAIVE_PAPERS = 3
NAIVE_CHARS = 500
NAIVE_ROUTE = "naive"


def naive_papers(engine: Engine, question: str) -> list[Paper]:
    """The top retrieved papers (direct hits of the same hybrid retriever, no expansion)."""
    by_id = engine.kg.corpus.by_id()
    hits = engine.retriever.retrieve(question, NAIVE_PAPERS).hits
    ids = [h.paper_id for h in hits if tuple(h.via) != ("graph",) and h.paper_id in by_id]
    return [by_id[i] for i in dict.fromkeys(ids)][:NAIVE_PAPERS]


def naive_messages(question: str, papers: list[Paper]) -> list[Message]:
    """The naive prompt: each paper's title and the first 500 characters of its abstract."""
    language = detect_language(question)
    blocks = [prompts.render("naive_source", language, number=i, title=p.title,
                             abstract=(p.abstract or p.influence)[:NAIVE_CHARS])
              for i, p in enumerate(papers, start=1)]  # fmt: skip
    user = prompts.render("naive_user", language, sources="\n\n".join(blocks), question=question)
    return [Message("system", prompts.render("naive_system", language)), Message("user", user)]


def naive_stream(question: str, engine: Engine) -> Iterator[str | Answer]:
    """The baseline's answer as it streams, then an `Answer` holding the raw text unchanged
    (citations are read from it, valid numbers only; nothing is checked or removed)."""
    papers = naive_papers(engine, question)
    pieces: list[str] = []
    for piece in engine.generator.stream(naive_messages(question, papers)):
        pieces.append(piece)
        yield piece
    text = "".join(pieces).strip()
    numbers = dict.fromkeys(n for n in cited_numbers(text) if 1 <= n <= len(papers))
    yield Answer(
        question=question,
        text=text,
        route=NAIVE_ROUTE,
        citations=tuple(Citation(papers[n - 1].id, papers[n - 1].title) for n in numbers),
        sources=tuple(Source(p.id, p.title, p.abstract[:160]) for p in papers),
    )

"""People: who wrote with an author, what an author wrote, what else the authors of a paper
wrote, who wrote a paper ("Who are Tri Dao's co-authors?", "Which papers did T. Dao write?",
"Medusa 的作者还写了什么?"). Only papers whose authors the graph knows (`kg.library`).

Routing: `detect` (the author cues of `data/route_cues.json`); answer: `answer`, from the
graph's authored edges.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kg import queries
from kg.records import Node
from rag.answering.graph_common import Citer, GraphAnswer, list_joiner
from rag.answering.graph_phrases import phrase
from rag.answering.question import GRAPH, Question, Route, route_cues

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["INTENTS", "answer", "detect"]

INTENTS = ("coauthors", "author_papers", "authors")


def detect(question: Question) -> Route | None:
    """Who wrote with X, what X wrote, what else the authors of a paper wrote, who wrote a
    paper (only for papers whose authors the graph knows)."""
    base, text, authors, cues = question.base, question.text, question.authors, route_cues()
    if authors and cues.regex("coauthor").search(text):
        return replace(base, kind=GRAPH, intent="coauthors", authors=authors)
    works = [w for w in base.works if w.kind == "paper" and _has_authors(question, w)]
    if works and cues.regex("authors_of").search(text):
        intent = "author_papers" if cues.regex("else").search(text) else "authors"
        return replace(base, kind=GRAPH, intent=intent, works=(works[0],), authors=())
    if authors and cues.regex("wrote").search(text):
        return replace(base, kind=GRAPH, intent="author_papers", authors=authors, works=())
    return None


def _has_authors(question: Question, node: Node) -> bool:
    return any(k == "authored" for _, _, k in question.kg.graph.in_edges(node.id, keys=True))


def answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang = "zh" if route.language == "zh" else "en"
    if route.intent == "coauthors":
        return _coauthors(kg, route.authors[0], lang)
    citer, join = Citer(kg), list_joiner(lang)

    def refs(papers: list[Paper]) -> str:
        return join.join(f"{p.title} ({p.date}) [P{citer.number(p)}]" for p in papers)

    if route.authors:
        author = route.authors[0]
        papers = queries.papers_of_author(kg, author)
        return citer.answer([phrase("author_papers", lang, name=author.label, n=len(papers),
                                    papers=refs(papers))])  # fmt: skip
    work = route.works[0]
    names = join.join(a.label for a in queries.authors_of(kg, work))
    ref = citer.node_ref(work)
    if route.intent == "authors":
        return citer.answer([phrase("authors", lang, work=ref, names=names)])
    others: dict[str, Paper] = {}
    for author in queries.authors_of(kg, work):
        for paper in queries.papers_of_author(kg, author):
            if paper.id != work.paper_id:
                others[paper.id] = paper
    listed = sorted(others.values(), key=lambda p: (p.date, p.line))
    if not listed:
        return citer.answer([phrase("authors_else_none", lang, work=ref, names=names)])
    return citer.answer([phrase("authors_else", lang, work=ref, names=names, papers=refs(listed))])


def _coauthors(kg: KnowledgeGraph, author: Node, lang: str) -> GraphAnswer:
    citer = Citer(kg)
    own = {p.id for p in queries.papers_of_author(kg, author)}
    parts = []
    for other, count in queries.coauthors(kg, author):
        shared = [p for p in queries.papers_of_author(kg, other) if p.id in own]
        marks = "".join(f"[P{citer.number(p)}]" for p in shared)
        parts.append(phrase("coauthor_with", lang, name=other.label, n=count, refs=marks))
    if not parts:
        return GraphAnswer(phrase("coauthors_none", lang, name=author.label), ())
    return citer.answer([phrase("coauthors", lang, name=author.label,
                                names=list_joiner(lang).join(parts))])  # fmt: skip

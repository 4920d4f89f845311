"""What every exact graph answer shares: the `GraphAnswer` record, the `[Pn]` numbering of the
papers it cites, the papers a question's filters allow, and the words describing those filters.

Every paper an answer lists is cited `[Pn]`, numbered in the order of `GraphAnswer.papers`. The
question types (`rag.answering.intents`) write their answers with these; their sentences are in
`rag.answering.graph_phrases`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg import queries
from kg.errors import KgragError
from kg.lang import has_han
from kg.records import Node
from kg.tables import CategoryTable, load_category_table
from rag.answering.graph_phrases import phrase, word
from rag.answering.question import Route

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = [
    "Citer",
    "GraphAnswer",
    "candidate_papers",
    "category_label",
    "describe",
    "list_joiner",
    "paper_line",
    "technique_label",
]


@dataclass(frozen=True)
class GraphAnswer:
    text: str
    papers: tuple[Paper, ...]


@dataclass
class Citer:
    """Numbers papers `[P1]`, `[P2]`… in the order they are first cited."""

    kg: KnowledgeGraph
    papers: list[Paper] = field(default_factory=list)

    def number(self, paper: Paper) -> int:
        if paper not in self.papers:
            self.papers.append(paper)
        return self.papers.index(paper) + 1

    def node_ref(self, node: Node) -> str:
        """`Llama 2 (2023-07) [P2]` for a paper, `GPT-3 (2020-05)` for an outside work."""
        date = f" ({node.date})" if node.date else ""
        if node.paper_id:
            return f"{node.label}{date} [P{self.number(self.kg.paper(node.paper_id))}]"
        return f"{node.label}{date}"

    def answer(self, lines: list[str]) -> GraphAnswer:
        """The answer made of `lines`, citing the papers numbered so far."""
        return GraphAnswer("\n".join(lines), tuple(self.papers))


def candidate_papers(kg: KnowledgeGraph, route: Route) -> list[Paper]:
    """The papers every filter of the question allows (organisation, category, date, technique)."""
    since = route.dates.since if route.dates else None
    until = route.dates.until if route.dates else None
    orgs: list[str | None] = [n.label for n in route.organizations] or [None]
    cats: list[str | None] = [n.id.removeprefix("category:") for n in route.categories] or [None]
    found: dict[str, Paper] = {}
    for org in orgs:
        for cat in cats:
            for paper in queries.papers_by(kg, org=org, category=cat, since=since, until=until):
                found[paper.id] = paper
    for technique in route.techniques:
        users = {use.paper.id for use in queries.papers_with_technique(kg, technique)}
        found = {pid: p for pid, p in found.items() if pid in users}
    return sorted(found.values(), key=lambda p: (p.date, p.line))


def paper_line(paper: Paper, lang: str, citer: Citer) -> str:
    return phrase("paper_line", lang, title=paper.title, date=paper.date,
                  organizations=", ".join(paper.organizations), number=citer.number(paper))  # fmt: skip


def list_joiner(lang: str) -> str:
    """How the items of a list of works are joined: `A, B` or `A、B`."""
    return "、" if lang == "zh" else ", "


def describe(kg: KnowledgeGraph, route: Route, papers: list[Paper] | None = None) -> str:
    """The question's filters in words: "published by Meta in the NLP category since 2023-05"."""
    lang = route.language
    parts = []
    if route.organizations:
        names = word("joiner", lang).join(n.label for n in route.organizations)
        parts.append(_labs_note(route, papers or [], word("published_by", lang, value=names)))
    if route.categories:
        table = load_category_table()
        labels = [category_label(table, n, lang) for n in route.categories]
        parts.append(word("in_category", lang, value=word("joiner", lang).join(labels)))
    if route.techniques:
        names = word("joiner", lang).join(technique_label(kg, n, lang) for n in route.techniques)
        parts.append(word("with_technique", lang, value=names))
    if route.dates:
        parts.append(_date_words(route, lang))
    if not parts:
        parts.append(word("in_corpus", lang))
    return (" " if lang == "en" else ",").join(parts)


def _date_words(route: Route, lang: str) -> str:
    dates = route.dates
    assert dates is not None
    if dates.month:
        return word("in_month", lang, value=dates.month)
    if dates.since and dates.until:
        return word("between", lang, start=dates.since, end=dates.until)
    if dates.since:
        return word("since", lang, start=dates.since)
    return word("until", lang, end=dates.until)


def category_label(table: CategoryTable, node: Node, lang: str) -> str:
    key = node.id.removeprefix("category:")
    try:
        category = table.get(key)
    except KgragError:
        return node.label
    return category.label_zh if lang == "zh" else category.label_en


def technique_label(kg: KnowledgeGraph, node: Node, lang: str) -> str:
    if lang == "zh":
        chinese = [a for a in kg.names.aliases_of(node.id) if has_han(a)]
        if chinese:
            return chinese[0]
    return node.label


def _labs_note(route: Route, papers: list[Paper], text: str) -> str:
    """ "published by Google (1 of them by Google DeepMind)": an organisation's papers include
    its labs', and the answer says how many came from them."""
    named = {n.label for n in route.organizations}
    by_labs = [p for p in papers if not named & set(p.organizations)]
    if not by_labs:
        return text
    labs = sorted({o for p in by_labs for o in p.organizations})
    joined = word("joiner", route.language).join(labs)
    return phrase("labs_note", route.language, value=text, count=len(by_labs), labs=joined)

"""One paper's attributes: who published it, when, in which category, which techniques it
uses, what it is known for, its abstract ("Who published Medusa?", "GPTQ 是什么时候发布的?").

Routing: `detect` (the attribute rules of `data/route_cues.json`, for a question naming exactly
one corpus paper); answer: `answer`, the asked facts from the graph, the first sentence stating
the answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kg import queries
from kg.tables import load_category_table
from rag.answering.graph_common import Citer, GraphAnswer, category_label, technique_label
from rag.answering.graph_phrases import phrase, word
from rag.answering.question import GRAPH, Question, Route, route_cues

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["INTENTS", "answer", "detect"]

INTENTS = ("attribute",)

# The phrases that name a paper's organisations and what to say instead when it has none.
_NAMING_ORGANIZATIONS = {
    "organization": "attr_organization_unknown",
    "date": "attr_date_unknown_organization",
}


def detect(question: Question) -> Route | None:
    base, shape, cues = question.base, question.shape, route_cues()
    if len(base.works) != 1 or base.works[0].kind != "paper":
        return None
    if cues.regex("count").search(shape) or cues.regex("several_papers").search(shape):
        return None  # about several papers, not one attribute
    asked = tuple(rule.then for rule in cues.rules("attributes") if rule.cue.regex.search(shape))
    if not asked:
        return None
    return replace(base, kind=GRAPH, intent="attribute", attributes=asked, categories=(),
                   organizations=(), dates=None)  # fmt: skip


def answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    """The asked facts about one paper, the first sentence stating the answer."""
    node = route.works[0]
    if node.paper_id is None:
        return None
    paper = kg.paper(node.paper_id)
    lang, citer = route.language, Citer(kg)
    number = citer.number(paper)
    values = {"work": node.label, "date": paper.date, "number": number,
              "organizations": word("joiner", lang).join(paper.organizations)}  # fmt: skip
    lines = [_line(kg, paper, name, lang, values) for name in route.attributes]
    if paper.title != node.label:
        lines.append(phrase("attr_title", lang, title=paper.title))
    return citer.answer(lines)


def _line(kg: KnowledgeGraph, paper: Paper, name: str, lang: str, values: dict[str, object]) -> str:
    if name == "category":
        label = paper.category_label if lang == "zh" else category_label(
            load_category_table(), kg.node(f"category:{paper.category}"), lang)  # fmt: skip
        return phrase("attr_category", lang, category=f"{label} ({paper.category})", **values)
    if name == "techniques":
        uses = queries.techniques_of(kg, f"paper:{paper.id}")
        if not uses:
            return phrase("attr_no_techniques", lang, **values)
        joiner = word("joiner", lang) if lang == "zh" else ", "
        names = joiner.join(technique_label(kg, u.technique, lang) + _also(u, lang) for u in uses)
        return phrase("attr_techniques", lang, techniques=names, **values)
    if name == "influence":
        return phrase("attr_influence", lang, influence=paper.influence, **values)
    if name == "abstract":
        return phrase("attr_abstract", lang, abstract=paper.abstract or paper.influence, **values)
    if not paper.organizations and name in _NAMING_ORGANIZATIONS:  # a PDF's, a bare list's
        return phrase(_NAMING_ORGANIZATIONS[name], lang, **values)
    return phrase(f"attr_{name}", lang, **values)


def _also(use: queries.TechniqueUse, lang: str) -> str:
    """The English name after a Chinese one, so either language finds it."""
    return f" ({use.technique.label})" if lang == "zh" else ""

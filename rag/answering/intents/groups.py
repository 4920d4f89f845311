"""Superlatives over groups: which organisation, month, quarter, year, category or technique
has the most (or fewest) papers ("Which organisation published the most papers?",
"哪个月发表的论文最多?").

Routing: `detect` (the most / fewest cues and the group nouns of `data/route_cues.json`);
answer: `answer`, the winning groups and their papers, from the graph.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kg import queries
from kg.tables import load_category_table
from rag.answering.graph_common import (
    Citer,
    GraphAnswer,
    candidate_papers,
    category_label,
    describe,
    list_joiner,
    paper_line,
)
from rag.answering.graph_phrases import group_word, phrase
from rag.answering.question import GRAPH, Question, Route, route_cues

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["INTENTS", "answer", "detect"]

INTENTS = ("most", "fewest")


def detect(question: Question) -> Route | None:
    """Which organisation / month / category … has the most (or fewest) papers."""
    base, shape, cues = question.base, question.shape, route_cues()
    order = "fewest" if cues.regex("fewest").search(shape) else \
        "most" if cues.regex("most").search(shape) else ""  # fmt: skip
    if not order or base.works:
        return None
    group = _asked_group(shape)
    if not group:
        return None
    return replace(base, kind=GRAPH, intent=order, group=group)


def _asked_group(shape: str) -> str:
    cues = route_cues()
    groups = cues.rules("groups")
    for rule in groups:
        if cues.fill("group_asked", nouns=rule.cue.source).search(shape):
            return rule.then
    if cues.regex("who").search(shape):
        return "organization"
    for rule in groups:
        if rule.then != "year" and cues.fill("group_named", nouns=rule.cue.source).search(shape):
            return rule.then
    return ""


def answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    """The group (organisation, month, quarter, …) with the most or fewest papers, and them."""
    lang = route.language
    papers = candidate_papers(kg, route)
    summaries = queries.summarize_by(kg, route.group, papers)
    if not summaries:
        return GraphAnswer(phrase("no_papers", lang, description=describe(kg, route)), ())
    pick = max if route.intent == "most" else min
    count = pick(s.count for s in summaries)
    winners = [s.group for s in summaries if s.count == count]
    labels = [_group_label(kg, route.group, g, lang) for g in winners]
    citer = Citer(kg)
    have = "has" if len(winners) == 1 else "have"
    lines = [phrase(route.intent, lang, groups=list_joiner(lang).join(labels), have=have,
                    count=count, scope=_scope(kg, route), group=group_word(route.group, lang))]  # fmt: skip
    chosen = [p for p in papers if set(queries.group_keys(kg, route.group, p)) & set(winners)]
    return citer.answer(lines + [paper_line(p, lang, citer) for p in chosen])


def _scope(kg: KnowledgeGraph, route: Route) -> str:
    if not route.has_filters:
        return ""
    description = describe(kg, route)
    return f" ({description})" if route.language == "en" else f"{description}的"


def _group_label(kg: KnowledgeGraph, group: str, key: str, lang: str) -> str:
    if group == "quarter":
        year, quarter = key.split("-Q")
        return phrase(
            "quarter", lang, year=year, quarter=quarter, quarter_zh="一二三四"[int(quarter) - 1]
        )
    if group == "category":
        return category_label(load_category_table(), kg.node(f"category:{key}"), lang)
    return key

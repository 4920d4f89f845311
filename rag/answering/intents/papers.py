"""Papers over filters: which papers an organisation, category, technique or date range has, how
many, and the earliest or latest of them ("Which papers did Meta publish in May 2023?",
"2023年上半年有几篇多模态论文?"). A topic beyond the filters ("… about code") goes hybrid:
retrieval over the graph's candidates.

Routing: `detect`; answer: `answer` (intents papers | count | earliest | latest).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.answering.graph_common import Citer, GraphAnswer, candidate_papers, describe, paper_line
from rag.answering.graph_phrases import phrase, word
from rag.answering.question import GRAPH, HYBRID, Question, Route, blank, route_cues

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["INTENTS", "answer", "detect"]

INTENTS = ("papers", "count", "earliest", "latest")


def detect(question: Question) -> Route | None:
    base, shape, cues = question.base, question.shape, route_cues()
    paperish = bool(cues.regex("paper_word").search(shape))
    counting = bool(cues.regex("count").search(shape)) and (paperish or base.has_filters)
    counting = counting and not cues.regex("measure_with_filter").search(shape)
    # "Gemini 在多少个多模态基准上…": a quantity of the named work, not a count of papers
    counting = counting and not (base.works and cues.regex("measure").search(shape))
    listing = bool(cues.regex("list").search(shape))
    extreme = _extreme(shape) if (paperish or base.has_filters) else ""
    if not (base.has_filters or (counting and paperish) or (extreme and paperish)):
        return None
    if base.works and not (counting or extreme):
        return None  # a named paper or work: a question about its content
    if base.unknown_names:
        return None  # about something the graph does not know: retrieval (or refusal) decides
    topic = _topic(question)
    if counting:
        return base.to(GRAPH, "count")
    if extreme:
        return base.to(HYBRID if topic else GRAPH, extreme, topic)
    if listing or paperish:
        return base.to(HYBRID if topic else GRAPH, "papers", topic)
    if base.organizations or base.categories:
        # named, but no structural intent: retrieval over the graph's candidates, never a refusal
        return base.to(HYBRID, "papers", topic)
    return None


def _extreme(shape: str) -> str:
    cues = route_cues()
    earliest, latest = cues.regex("earliest").search(shape), cues.regex("latest").search(shape)
    if earliest and latest:
        return "earliest" if earliest.start() < latest.start() else "latest"
    return "earliest" if earliest else "latest" if latest else ""


def _topic(question: Question) -> str:
    """What a filtered question is about beyond its filters ("about code"), or ""."""
    cues, dates = route_cues(), question.base.dates
    blanked = blank(question.text, question.mentions)
    if dates is not None:
        blanked = blanked[: dates.start] + " " * (dates.end - dates.start) + blanked[dates.end :]
    match = cues.regex("topic").search(blanked)
    if not match:
        return ""
    topic = next(g for g in match.groups() if g is not None)
    topic = re.sub(r"[?？。.!！,，]+", " ", topic)
    topic = cues.regex("topic_drop").sub(" ", topic)
    topic = cues.regex("zh_topic_drop_tail").sub(" ", topic)
    topic = cues.regex("zh_topic_drop").sub(" ", topic)
    topic = " ".join(topic.split())
    return "" if cues.regex("stop_topic").match(topic) else topic


def answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang = route.language
    papers = candidate_papers(kg, route)
    description = describe(kg, route, papers)
    citer = Citer(kg)
    if not papers:
        return GraphAnswer(phrase("no_papers", lang, description=description), ())
    if route.intent in ("earliest", "latest"):
        pick = min if route.intent == "earliest" else max
        date = pick(p.date for p in papers)
        which = word("first" if route.intent == "earliest" else "last", lang)
        return citer.answer([
            phrase("extreme", lang, which=which, description=description, title=p.title,
                   organizations=", ".join(p.organizations), date=p.date, number=citer.number(p))
            for p in papers if p.date == date
        ])  # fmt: skip
    header_name = "count" if route.intent == "count" else "papers_header"
    header = phrase(header_name, lang, count=len(papers), description=description)
    if route.intent == "count":
        header = header.rstrip(".。") + ":"
    return citer.answer([header] + [paper_line(p, lang, citer) for p in papers])

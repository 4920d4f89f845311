"""Question types: one table pairing each routing rule with the graph answer it gets.

Each type is one module here with `detect(question) -> Route | None` (the routing rule: does
this analysed question belong to the type, and with which intent) and `answer(kg, route) ->
GraphAnswer | None` (the exact answer from the graph; None lets retrieval answer instead), plus
the `INTENTS` its routes carry. `QUESTION_TYPES` lists them in the order they are tried: the
first type whose rule claims a question routes it. A new question type is a module and one line
in the table (its sentences go in `data/graph_phrases.json`, its cue words in
`data/route_cues.json`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.errors import KgragError
from rag.answering.graph_common import GraphAnswer
from rag.answering.intents import attributes, authors, citations, groups, lineage, papers
from rag.answering.question import Question, Route

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["QUESTION_TYPES", "QuestionType", "answer_from_graph", "detect"]


@dataclass(frozen=True)
class QuestionType:
    """A routing rule (`detect`) and the graph answer (`answer`) of the intents it gives."""

    name: str
    intents: tuple[str, ...]
    detect: Callable[[Question], Route | None]
    answer: Callable[[KnowledgeGraph, Route], GraphAnswer | None]


QUESTION_TYPES: tuple[QuestionType, ...] = (
    QuestionType("citations", citations.INTENTS, citations.detect, citations.answer),
    QuestionType("authors", authors.INTENTS, authors.detect, authors.answer),
    QuestionType("lineage", lineage.INTENTS, lineage.detect, lineage.answer),
    QuestionType("attributes", attributes.INTENTS, attributes.detect, attributes.answer),
    QuestionType("groups", groups.INTENTS, groups.detect, groups.answer),
    QuestionType("papers", papers.INTENTS, papers.detect, papers.answer),
)


def detect(question: Question) -> Route:
    """The route of the first question type that claims `question`, else its base route
    (retrieval + LLM)."""
    for kind in QUESTION_TYPES:
        found = kind.detect(question)
        if found is not None:
            return found
    return question.base


def answer_from_graph(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    """The exact answer for a graph-routed question, or None when the graph cannot give one."""
    kind = next((k for k in QUESTION_TYPES if route.intent in k.intents), None)
    if kind is None:
        return None
    try:
        return kind.answer(kg, route)
    except KgragError:
        return None  # an ambiguous or unknown name: let retrieval try

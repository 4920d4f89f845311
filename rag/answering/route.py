"""Which way a question goes: exactly from the graph, through retrieval + LLM, or both.

Routing reads the graph's own vocabulary (`kg.names.find_mentions`: organisations, categories,
works, papers, techniques, bilingual; see `rag.answering.question`) and the cue words of
`data/route_cues.json` for the structural intent, which the question types of
`rag.answering.intents` decide in turn (list, count, earliest/latest, based on, descends from,
path, attributes, superlatives, authors). Refusal ("none") needs retrieval evidence too, so
`rag.answering.pipeline` decides it after this analysis (see `rag.answering.refusal`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.answering import intents
from rag.answering.question import GRAPH, HYBRID, NONE, RAG, Route, analyse, detect_language

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["GRAPH", "HYBRID", "NONE", "RAG", "Route", "detect_language", "route"]


def route(kg: KnowledgeGraph, question: str) -> Route:
    """Analyse a question: its language, the graph things it names and its structural intent."""
    return intents.detect(analyse(kg, question))

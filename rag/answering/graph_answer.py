"""Exact answers to structural questions, read from the graph (`kg.queries`); no LLM.

`answer_from_graph` hands a graph-routed question to the answer of its question type (the
table in `rag.answering.intents`). Every paper an answer lists is cited `[Pn]`, numbered in the
order of `GraphAnswer.papers` (`rag.answering.graph_common`).
"""

from __future__ import annotations

from rag.answering.graph_common import GraphAnswer, candidate_papers
from rag.answering.intents import answer_from_graph

__all__ = ["GraphAnswer", "answer_from_graph", "candidate_papers"]

"""Lineage of a named work: what it builds on (ancestors), what builds on it (descendants), its
whole family (lineage), the works sharing its parent (siblings) and the path between two works
("What is Llama 2 based on?", "哪些模型基于 LLaMA?", "How is LLaVA related to Vicuna?").

Routing: `detect` reads the direction rules of `data/route_cues.json` in the question's shape;
answer: `answer`, from the graph's lineage edges, each with the sentence it was derived from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg import queries
from kg.records import LineageEdge
from rag.answering.graph_common import Citer, GraphAnswer, list_joiner
from rag.answering.graph_phrases import phrase, relation
from rag.answering.question import GRAPH, Question, Route, route_cues

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["INTENTS", "answer", "detect"]

INTENTS = ("ancestors", "descendants", "lineage", "path", "siblings")
_EVIDENCE_CHARS = 120


def detect(question: Question) -> Route | None:
    base, shape, cues = question.base, question.shape, route_cues()
    if not base.works or cues.regex("measure").search(shape):
        return None
    direction = _direction(shape)
    if len(base.works) >= 2 and (direction or cues.regex("relation").search(shape)):
        intent = "path"
    elif cues.regex("siblings").search(shape):
        intent = "siblings"
    elif direction:
        intent = direction
    elif cues.regex("lineage").search(shape):
        intent = "lineage"
    else:
        return None
    return base.to(GRAPH, intent)


def _direction(shape: str) -> str:
    """ancestors | descendants from the first direction rule the shape meets, else ""."""
    for rule in route_cues().rules("direction"):
        if rule.cue.regex.search(shape):
            return rule.then
    return ""


def answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    if route.intent == "path":
        return _path(kg, route)
    if route.intent == "siblings":
        return _siblings(kg, route)
    return _family(kg, route)


def _family(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    lang, root, citer = route.language, route.works[0], Citer(kg)
    family = queries.lineage(kg, root)
    if root.kind == "work" and not (family.ancestors or family.descendants):
        return None  # a work the corpus only names: nothing to answer from the graph
    if route.intent == "ancestors" and not family.ancestors:
        # what the paper builds on may be outside the corpus ("built on REINFORCE"): only its
        # abstract can say, so retrieval answers (the graph holds no in-corpus parent)
        return None
    work = citer.node_ref(root)
    parts = []
    if route.intent in ("ancestors", "lineage"):
        parts.append(("up", family.ancestors))
    if route.intent in ("descendants", "lineage"):
        parts.append(("down", family.descendants))
    lines: list[str] = []
    for direction, nodes in parts:
        if nodes:
            chain = list_joiner(lang).join(citer.node_ref(n) for n in nodes)
            lines.append(phrase(f"lineage_{direction}", lang, work=work, chain=chain))
        else:
            lines.append(phrase(f"lineage_none_{direction}", lang, work=work))
    shown = {root.id} | {n.id for _, nodes in parts for n in nodes}
    edges = [e for e in family.edges if e.source.id in shown and e.target.id in shown]
    return citer.answer(lines + _evidence_lines(kg, edges, lang, citer))


def _path(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang, citer = route.language, Citer(kg)
    start, end = route.works[0], route.works[1]
    edges = queries.path_between(kg, start, end)
    if not edges:
        return citer.answer(
            [phrase("no_path", lang, start=citer.node_ref(start), end=citer.node_ref(end))]
        )
    nodes = [start]
    for edge in edges:
        nodes.append(edge.target if edge.source.id == nodes[-1].id else edge.source)
    chain = " → ".join(citer.node_ref(n) for n in nodes)
    lines = [phrase("path", lang, start=start.label, end=end.label, chain=chain)]
    return citer.answer(lines + _evidence_lines(kg, edges, lang, citer))


def _evidence_lines(
    kg: KnowledgeGraph, edges: list[LineageEdge], lang: str, citer: Citer
) -> list[str]:
    """One line per lineage edge with the sentence it was derived from and its paper cited."""
    by_id = kg.corpus.by_id()
    lines = []
    for edge in edges:
        paper = by_id.get(edge.paper)
        if paper is None or not edge.evidence:
            continue
        evidence = edge.evidence
        if len(evidence) > _EVIDENCE_CHARS:
            evidence = evidence[: _EVIDENCE_CHARS - 2] + "…"
        lines.append(phrase("evidence_line", lang, child=edge.source.label,
                            parent=edge.target.label, relation=relation(edge.relation, lang),
                            evidence=evidence, number=citer.number(paper)))  # fmt: skip
    return lines


def _siblings(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    """Works that share a parent with the named work, per parent, with the parent cited."""
    lang, root, citer = route.language, route.works[0], Citer(kg)
    parents = [e.target for e in queries.lineage_edges(kg) if e.source.id == root.id]
    if not parents:
        return None
    work = citer.node_ref(root)
    lines = []
    for parent in parents:
        children = [e.source for e in queries.lineage_edges(kg)
                    if e.target.id == parent.id and e.source.id != root.id]  # fmt: skip
        if children:
            chain = list_joiner(lang).join(citer.node_ref(n) for n in children)
            lines.append(phrase("siblings", lang, parent=citer.node_ref(parent), work=work,
                                chain=chain))  # fmt: skip
    if not lines:
        lines.append(phrase("no_siblings", lang, work=work))
    return citer.answer(lines)

"""Technique queries: the papers that name a technique (`papers_with_technique`) and the
techniques a paper names (`techniques_of`), each use with the sentence that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.paper import Paper
from kg.queries.nodes import NameOrNode, as_node
from kg.records import Node
from kg.schema import KnowledgeGraph

__all__ = ["TechniqueUse", "papers_with_technique", "techniques_of"]


@dataclass(frozen=True)
class TechniqueUse:
    """`paper` uses `technique`, as `evidence` (a sentence at source `line`) shows."""

    paper: Paper
    technique: Node
    evidence: str
    line: int


def papers_with_technique(kg: KnowledgeGraph, name: NameOrNode) -> list[TechniqueUse]:
    """Papers whose title, influence note or abstract names the technique, by date.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [u.paper.id for u in papers_with_technique(kg, "量化")]
        ['gptq']
    """
    technique = as_node(kg, name, ("technique",))
    uses = [
        _use(kg, u, technique, data)
        for u, _, data in kg.graph.in_edges(technique.id, data=True)
        if data.get("kind") == "uses_technique"
    ]
    return sorted(uses, key=lambda u: (u.paper.date, u.paper.line))


def techniques_of(kg: KnowledgeGraph, paper: NameOrNode) -> list[TechniqueUse]:
    """The techniques a paper names, with the sentence naming each.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> "mixture of experts" in [u.technique.label for u in techniques_of(kg, "Mixtral")]
        True
    """
    node = as_node(kg, paper, ("paper",))
    return [
        _use(kg, node.id, kg.node(v), data)
        for _, v, data in kg.graph.out_edges(node.id, data=True)
        if data.get("kind") == "uses_technique"
    ]


def _use(
    kg: KnowledgeGraph, paper_node: str, technique: Node, data: dict[str, object]
) -> TechniqueUse:
    paper = kg.paper(kg.node(paper_node).paper_id or "")
    line = data.get("line", 0)
    return TechniqueUse(
        paper, technique, str(data.get("evidence", "")), line if isinstance(line, int) else 0
    )

"""What every query shares: a name or a `Node` turned into the node (`as_node`), a node's
record read from a graph in kgrag's schema (`graph_node`), an edge's kind, papers by date.

Names are resolved with `kg.names.resolve` (bilingual, forgiving; ambiguity raises).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kg.names import resolve
from kg.paper import Paper
from kg.records import Node
from kg.schema import KnowledgeGraph

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["LINEAGE", "WORK_KINDS", "NameOrNode", "as_node", "by_date", "edge_kind", "graph_node"]

LINEAGE = "builds_on"  # the edge kind of lineage: the child builds on the parent
WORK_KINDS = ("paper", "work")  # what lineage queries resolve names to
NameOrNode = str | Node


def as_node(kg: KnowledgeGraph, name: NameOrNode, kinds: tuple[str, ...] | None = None) -> Node:
    """`name` itself when it is a `Node`, else the one node of `kinds` it names."""
    return name if isinstance(name, Node) else resolve(kg, name, kinds)


def graph_node(graph: nx.MultiDiGraph, node_id: str) -> Node:
    """The record of a node, read from its attributes (missing ones from its id)."""
    data = graph.nodes[node_id]
    prefix, _, rest = node_id.partition(":")
    paper_id = data.get("paper_id") or (rest if prefix == "paper" else "")
    return Node(
        id=node_id,
        kind=str(data.get("kind") or prefix),
        label=str(data.get("label") or node_id.split(":", 1)[-1]),
        date=str(data.get("date") or "") or None,
        paper_id=str(paper_id) or None,
        title=str(data["title"]) if data.get("title") else None,
    )


def edge_kind(key: Any, data: dict[str, Any]) -> str:
    return str(data.get("kind", key))


def by_date(papers: Iterable[Paper]) -> list[Paper]:
    """Papers in date order (then by their line), the order every paper list is shown in."""
    return sorted(papers, key=lambda p: (p.date, p.line))

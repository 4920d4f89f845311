"""What an export holds: the part of the graph chosen (`selection`: all of it, or one work's
lineage family) and its attributes as typed scalars (`scalar`), in `export_graph`, the copy
every file export writes. Shared by `kg.export` (GraphML, GEXF, JSON) and `kg.neo4j` (CSV).

Exports hold scalar typed attributes only (lists joined, no missing values): every node and
edge has `label` and `kind`; lineage edges have `relation`, `evidence` and `method`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kg.queries import lineage
from kg.schema import KnowledgeGraph

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["export_graph", "scalar", "selection"]


def export_graph(kg: KnowledgeGraph, root: str | None = None) -> nx.MultiDiGraph:
    """A copy of the graph ready for export: unique edge ids, every attribute a filled scalar."""
    import networkx as nx

    source = kg.graph
    keep, edges = selection(kg, root)
    out = nx.MultiDiGraph()
    out.graph.update({k: scalar(v) for k, v in source.graph.items()})
    if root is not None:
        out.graph["root"] = root
    node_keys = _attribute_defaults(source.nodes[n] for n in keep)
    for node in sorted(keep):
        out.add_node(node, **_filled(source.nodes[node], node_keys))
    edge_keys = _attribute_defaults(source.edges[u, v, k] for u, v, k in edges)
    for index, (u, v, k) in enumerate(sorted(edges)):
        out.add_edge(u, v, key=f"e{index}", **_filled(source.edges[u, v, k], edge_keys))
    return out


def selection(kg: KnowledgeGraph, root: str | None) -> tuple[set[str], list[tuple[str, str, str]]]:
    """The node ids and (source, target, key) edges to export: all, or `root`'s lineage family."""
    if root is None:
        return set(kg.graph.nodes), list(kg.graph.edges(keys=True))
    family = lineage(kg, root)
    keep = {family.root.id, *(n.id for n in family.ancestors), *(n.id for n in family.descendants)}
    return keep, [(e.source.id, e.target.id, "builds_on") for e in family.edges]


def _attribute_defaults(items: Any) -> dict[str, Any]:
    """The union of attribute names with a typed empty default for each."""
    defaults: dict[str, Any] = {}
    for data in items:
        for key, value in data.items():
            value = scalar(value)
            defaults.setdefault(key, type(value)())
    return defaults


def _filled(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    filled = dict(defaults)
    filled.update({k: scalar(v) for k, v in data.items()})
    return filled


def scalar(value: Any) -> str | int | float | bool:
    """An attribute value as exports hold it: scalars kept, lists joined with "; ", None as ""."""
    if isinstance(value, bool | int | float | str):
        return value
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(v) for v in value)
    return str(value)

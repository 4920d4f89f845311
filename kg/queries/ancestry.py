"""Lineage queries: what a work builds on and what builds on it (`ancestors`, `descendants`),
its whole family (`lineage`), every lineage edge (`lineage_edges`) and the path between two
works (`path_between`).
"""

from __future__ import annotations

from kg.queries.nodes import WORK_KINDS, NameOrNode, as_node
from kg.records import Lineage, LineageEdge, Node
from kg.schema import KnowledgeGraph

__all__ = [
    "ancestors",
    "descendants",
    "lineage",
    "lineage_children",
    "lineage_edges",
    "lineage_parents",
    "path_between",
    "walk",
]


def ancestors(kg: KnowledgeGraph, name: NameOrNode) -> list[Node]:
    """What `name` builds on, directly or not, nearest first.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [n.label for n in ancestors(kg, "Code Llama")]
        ['Llama 2', 'LLaMA']
    """
    return walk(kg, as_node(kg, name, WORK_KINDS), upward=True)


def descendants(kg: KnowledgeGraph, name: NameOrNode) -> list[Node]:
    """What builds on `name`, directly or not, nearest first.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [n.label for n in descendants(kg, "Llama 2")]
        ['Code Llama']
    """
    return walk(kg, as_node(kg, name, WORK_KINDS), upward=False)


def lineage(kg: KnowledgeGraph, name: NameOrNode) -> Lineage:
    """The lineage family of `name`: its ancestors, descendants and the edges among them.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> family = lineage(kg, "llama2")
        >>> [(e.source.label, e.relation, e.target.label) for e in family.edges]
        [('Llama 2', 'successor', 'LLaMA'), ('Code Llama', 'extends', 'Llama 2')]
    """
    root = as_node(kg, name, WORK_KINDS)
    up, down = walk(kg, root, upward=True), walk(kg, root, upward=False)
    # Only edges on a path through the root: a sibling's other parents are not this lineage.
    # Read from the family's own edges, so the cost follows the family, not the library.
    ups, downs = {root.id, *(n.id for n in up)}, {root.id, *(n.id for n in down)}
    edges = {
        (u, v): _lineage_edge(kg, u, v, data)
        for family in (ups, downs)
        for u in family
        for _, v, key, data in kg.graph.out_edges(u, keys=True, data=True)
        if key == "builds_on" and v in family
    }
    ordered = sorted(edges.values(), key=lambda e: (e.source.date or "", e.source.id, e.target.id))
    return Lineage(root, tuple(up), tuple(down), tuple(ordered))


def lineage_edges(kg: KnowledgeGraph) -> list[LineageEdge]:
    """Every `builds_on` edge, in a stable order (by the child's date, then parent).

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> any(e.source.label == "Mixtral of Experts" and e.relation == "same_architecture"
        ...     for e in lineage_edges(kg))
        True
    """
    edges = [
        _lineage_edge(kg, u, v, data)
        for u, v, key, data in kg.graph.edges(keys=True, data=True)
        if key == "builds_on"
    ]
    return sorted(edges, key=lambda e: (e.source.date or "", e.source.id, e.target.id))


def path_between(kg: KnowledgeGraph, a: NameOrNode, b: NameOrNode) -> list[LineageEdge]:
    """The lineage edges linking `a` and `b` (either direction), or [] when unrelated.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [(e.source.label, e.target.label) for e in path_between(kg, "LLaMA", "Code Llama")]
        [('Llama 2', 'LLaMA'), ('Code Llama', 'Llama 2')]
    """
    start, end = as_node(kg, a, WORK_KINDS), as_node(kg, b, WORK_KINDS)
    # Breadth first over lineage edges either way from `a`: the cost follows the family.
    came_from: dict[str, tuple[str, str, str]] = {start.id: ("", "", "")}
    frontier = [start.id]
    while frontier and end.id not in came_from:
        following = []
        for node_id in frontier:
            steps = [(v, node_id, v) for v in lineage_parents(kg, node_id)]
            steps += [(u, u, node_id) for u in lineage_children(kg, node_id)]
            for nxt, source, target in steps:
                if nxt not in came_from:
                    came_from[nxt] = (node_id, source, target)
                    following.append(nxt)
        frontier = following
    if end.id not in came_from or start.id == end.id:
        return []
    path, node_id = [], end.id
    while node_id != start.id:
        previous, source, target = came_from[node_id]
        data = kg.graph.get_edge_data(source, target, key="builds_on") or {}
        path.append(_lineage_edge(kg, source, target, data))
        node_id = previous
    return path[::-1]


def walk(kg: KnowledgeGraph, root: Node, upward: bool) -> list[Node]:
    """Every node above (`upward`) or below `root` along lineage edges, nearest first."""
    step = lineage_parents if upward else lineage_children
    seen: dict[str, int] = {}
    frontier, depth = [root.id], 0
    while frontier:
        depth += 1
        following = []
        for node_id in frontier:
            for nxt in step(kg, node_id):
                if nxt not in seen and nxt != root.id:
                    seen[nxt] = depth
                    following.append(nxt)
        frontier = following
    return sorted((kg.node(i) for i in seen), key=lambda n: (seen[n.id], n.date or "", n.id))


def lineage_parents(kg: KnowledgeGraph, node_id: str) -> list[str]:
    return sorted(v for _, v, k in kg.graph.out_edges(node_id, keys=True) if k == "builds_on")


def lineage_children(kg: KnowledgeGraph, node_id: str) -> list[str]:
    return sorted(u for u, _, k in kg.graph.in_edges(node_id, keys=True) if k == "builds_on")


def _lineage_edge(kg: KnowledgeGraph, u: str, v: str, data: dict[str, object]) -> LineageEdge:
    line, page = data.get("line", 0), data.get("page")  # page: a full text's sentence only
    return LineageEdge(
        kg.node(u), kg.node(v), str(data.get("relation", "")), str(data.get("evidence", "")),
        str(data.get("method", "")), str(data.get("paper", "")), line if isinstance(line, int) else 0,
        page if isinstance(page, int) and page > 0 else None,
    )  # fmt: skip

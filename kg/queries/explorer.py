"""What the app's lineage explorer and cards show: a work's lineage neighbourhood with its
edges (`neighbourhood`, capped at `NEIGHBOURHOOD_MAX_NODES`), a node's card (`node_links`),
the works to choose from (`work_labels`) and a telling first picture (`richest_lineage`).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from kg.errors import KgragError
from kg.paper import Paper
from kg.queries.authorship import authors_of, coauthors, papers_of_author
from kg.queries.citations import CITES
from kg.queries.nodes import LINEAGE, WORK_KINDS, edge_kind, graph_node
from kg.records import GraphEdge, Neighbourhood, Node, NodeLinks
from kg.schema import KnowledgeGraph

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "NEIGHBOURHOOD_MAX_EXTRAS",
    "NEIGHBOURHOOD_MAX_NODES",
    "neighbourhood",
    "node_links",
    "richest_lineage",
    "work_labels",
]

NEIGHBOURHOOD_MAX_NODES = 120  # lineage nodes drawn at most, however large the graph
NEIGHBOURHOOD_MAX_EXTRAS = 14  # organisations or techniques shown at most, most connected first
_CARD_LINKS = {  # node kind -> the edge kind by which papers point at it
    "organization": "published_by",
    "technique": "uses_technique",
    "category": "in_category",
    "work": "builds_on",
}


def neighbourhood(
    kg: KnowledgeGraph | nx.MultiDiGraph,
    root: str,
    depth: int = 3,
    organizations: bool = False,
    techniques: bool = False,
    path: Sequence[str] = (),
    citations: bool = False,
) -> Neighbourhood:
    """`root` (a node id), its ancestors and descendants within `depth` lineage hops (nearest
    first, at most NEIGHBOURHOOD_MAX_NODES), the nodes of a highlighted `path`, and optionally
    the organisations and techniques linked to them; a bare graph in kgrag's schema works too.
    With `citations`, the papers citing the root or cited by it join (oldest first, within the
    node cap) and every `cites` edge among the works drawn is an edge, cited → citing.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> near = neighbourhood(kg, "paper:llama-2", depth=1)
        >>> [n.label for n in near.works]
        ['Llama 2', 'LLaMA', 'Code Llama']
        >>> [(e.parent, e.child, e.relation) for e in near.lineage_edges()]
        [('paper:llama', 'paper:llama-2', 'successor'), ('paper:llama-2', 'paper:code-llama', 'extends')]
        >>> [n.label for n in neighbourhood(kg, "paper:llama-2", 1, organizations=True).extras]
        ['Meta']
    """
    graph = kg.graph if isinstance(kg, KnowledgeGraph) else kg
    members, hidden = _lineage_members(graph, root, depth)
    for node in path:
        if node not in members and graph.has_node(node):
            members.append(node)
    left_out = _add_citing_and_cited(graph, root, members) if citations else 0
    pairs = {frozenset(pair) for pair in zip(path, path[1:], strict=False)}
    edges = _neighbourhood_edges(graph, members, pairs)
    if citations:
        edges += _citation_edges(graph, members)
    extras: list[str] = []
    if organizations:
        extras += _extras(graph, members, "published_by", edges)
    if techniques:
        extras += _extras(graph, members, "uses_technique", edges)
    return Neighbourhood(
        root,
        tuple(graph_node(graph, n) for n in members),
        tuple(graph_node(graph, n) for n in extras),
        tuple(edges),
        hidden,
        tuple(path),
        left_out,
    )


def node_links(kg: KnowledgeGraph, node_id: str) -> NodeLinks:
    """A node's card: the corpus papers linked to it and its direct lineage neighbours.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> links = node_links(kg, "paper:llama-2")
        >>> [n.label for n in links.builds_on], [n.label for n in links.built_on_by]
        (['LLaMA'], ['Code Llama'])
        >>> [p.id for p in node_links(kg, "org:Meta").papers]
        ['llama', 'llama-2', 'code-llama']

    A paper's card lists its authors (in the paper's order), an author's card their papers
    and co-authors (see `authors_of`, `papers_of_author`, `coauthors`).
    """
    graph = kg.graph
    if not graph.has_node(node_id):
        raise KgragError(f"{node_id!r} is not in the graph; the corpus may have changed.")
    node = graph_node(graph, node_id)
    wanted = _CARD_LINKS.get(node.kind, "")
    by_id = kg.corpus.by_id()
    papers: list[Paper] = []
    for source, _, key, data in graph.in_edges(node_id, keys=True, data=True):
        if edge_kind(key, data) == wanted and source.startswith("paper:"):
            paper = by_id.get(source.split(":", 1)[1])
            if paper is not None and paper not in papers:
                papers.append(paper)
    parents = [v for _, v, k, d in graph.out_edges(node_id, keys=True, data=True)
               if edge_kind(k, d) == LINEAGE]  # fmt: skip
    children = [u for u, _, k, d in graph.in_edges(node_id, keys=True, data=True)
                if edge_kind(k, d) == LINEAGE]  # fmt: skip
    if node.kind == "author":  # authored edges run author -> paper
        papers = papers_of_author(kg, node)
    return NodeLinks(
        node,
        tuple(sorted(papers, key=lambda p: (p.date, p.title))),
        tuple(graph_node(graph, n) for n in parents),
        tuple(graph_node(graph, n) for n in children),
        authors=tuple(authors_of(kg, node)) if node.kind == "paper" else (),
        coauthors=tuple(coauthors(kg, node)) if node.kind == "author" else (),
    )


def work_labels(kg: KnowledgeGraph) -> list[str]:
    """The labels of every paper and work, sorted ignoring case (the explorer's choices).

    Example:
        >>> from kg.graph import load_graph
        >>> labels = work_labels(load_graph())
        >>> "Code Llama" in labels and "FlashAttention" in labels
        True
    """
    labels = {
        str(data.get("label")) for _, data in kg.graph.nodes(data=True)
        if data.get("kind") in WORK_KINDS and data.get("label")
    }  # fmt: skip
    return sorted(labels, key=str.casefold)


def richest_lineage(kg: KnowledgeGraph) -> Node | None:
    """The paper with the largest lineage family (within six hops): a telling first picture.

    Example:
        >>> from kg.graph import load_graph
        >>> richest_lineage(load_graph()).kind
        'paper'
    """
    best: Node | None = None
    size = -1
    for node, data in kg.graph.nodes(data=True):
        if data.get("kind") != "paper":
            continue
        family = len(neighbourhood(kg, node, depth=6).works)
        if family > size:
            best, size = graph_node(kg.graph, node), family
    return best


def _lineage_members(graph: nx.MultiDiGraph, root: str, depth: int) -> tuple[list[str], int]:
    """BFS over lineage edges both ways (ancestors up, descendants down), nearest first."""
    order = [root]
    seen = {root}
    hidden: set[str] = set()
    for step in (_graph_parents, _graph_children):
        queue: deque[tuple[str, int]] = deque([(root, 0)])
        while queue:
            node, hops = queue.popleft()
            for nxt in step(graph, node):
                if nxt in seen or nxt in hidden:
                    continue
                if hops + 1 > depth or len(order) >= NEIGHBOURHOOD_MAX_NODES:
                    hidden.add(nxt)
                    continue
                seen.add(nxt)
                order.append(nxt)
                queue.append((nxt, hops + 1))
    return order, len(hidden)


def _graph_parents(graph: nx.MultiDiGraph, node: str) -> Iterable[str]:
    """Works `node` builds on (edge child -> parent), in the graph's order."""
    return (v for _, v, k, d in graph.out_edges(node, keys=True, data=True)
            if edge_kind(k, d) == LINEAGE)  # fmt: skip


def _graph_children(graph: nx.MultiDiGraph, node: str) -> Iterable[str]:
    return (u for u, _, k, d in graph.in_edges(node, keys=True, data=True)
            if edge_kind(k, d) == LINEAGE)  # fmt: skip


def _neighbourhood_edges(
    graph: nx.MultiDiGraph, members: list[str], path_pairs: set[frozenset[str]]
) -> list[GraphEdge]:
    inside = set(members)
    edges: list[GraphEdge] = []
    for child in members:
        for _, parent, key, data in graph.out_edges(child, keys=True, data=True):
            if parent in inside and edge_kind(key, data) == LINEAGE:
                on_path = frozenset((parent, child)) in path_pairs
                edges.append(_graph_edge(parent, child, data, on_path))
    return edges


def _add_citing_and_cited(graph: nx.MultiDiGraph, root: str, members: list[str]) -> int:
    """Add the papers citing `root` and those it cites to `members` (oldest first) while the
    node cap allows; returns how many did not fit."""
    linked = {u for u, _, k in graph.in_edges(root, keys=True) if k == CITES}
    linked |= {v for _, v, k in graph.out_edges(root, keys=True) if k == CITES}
    new = sorted(linked - set(members), key=lambda n: (str(graph.nodes[n].get("date") or ""), n))
    room = max(NEIGHBOURHOOD_MAX_NODES - len(members), 0)
    members += new[:room]
    return len(new) - len(new[:room])


def _citation_edges(graph: nx.MultiDiGraph, members: list[str]) -> list[GraphEdge]:
    """Every `cites` edge among `members`, as cited paper → citing paper (time's direction)."""
    inside = set(members)
    edges: list[GraphEdge] = []
    for citing in members:
        for _, cited, key, data in graph.out_edges(citing, keys=True, data=True):
            if cited in inside and key == CITES:
                edges.append(_graph_edge(cited, citing, data))
    return edges


def _graph_edge(parent: str, child: str, data: dict[str, Any], on_path: bool = False) -> GraphEdge:
    page = data.get("page")
    return GraphEdge(
        parent=parent,
        child=child,
        kind=str(data.get("kind", LINEAGE)),
        relation=str(data.get("relation", "")),
        evidence=str(data.get("evidence", "")),
        method=str(data.get("method", "")),
        line=int(data.get("line") or 0),
        on_path=on_path,
        page=page if isinstance(page, int) and page > 0 else None,
        contexts=_contexts(data.get("contexts")),
    )


def _contexts(raw: Any) -> tuple[tuple[int, str], ...]:
    """A `cites` edge's citing sentences, stored as JSON `[[page, sentence], …]`."""
    if not raw:
        return ()
    return tuple((int(page), str(text)) for page, text in json.loads(str(raw)))


def _extras(
    graph: nx.MultiDiGraph, members: list[str], kind: str, edges: list[GraphEdge]
) -> list[str]:
    """Organisation or technique nodes linked to the drawn works, most connected first."""
    links: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for node in members:
        for _, target, key, data in graph.out_edges(node, keys=True, data=True):
            if edge_kind(key, data) == kind:
                links.setdefault(target, []).append((node, data))
    chosen = sorted(links, key=lambda t: (-len(links[t]), str(t)))[:NEIGHBOURHOOD_MAX_EXTRAS]
    for target in chosen:
        for node, data in links[target]:
            edges.append(_graph_edge(target, node, data))
    return chosen

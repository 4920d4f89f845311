"""The graph's counts (`graph_stats`): nodes and edges by kind, lineage edges by method and
relation; what `kgrag stats` prints and the app's Index tab shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kg.queries.nodes import LINEAGE
from kg.records import GraphStats
from kg.schema import KnowledgeGraph

__all__ = ["graph_stats"]


def graph_stats(kg: KnowledgeGraph) -> GraphStats:
    """Node and edge counts by kind, lineage edges by method and relation.

    Example:
        >>> from kg.graph import load_graph
        >>> from kg.queries import lineage_edges
        >>> stats = graph_stats(load_graph())
        >>> stats.lineage_count == len(lineage_edges(load_graph()))
        True
        >>> list(stats.to_json())
        ['corpus', 'papers', 'nodes', 'edges', 'lineage_methods', 'lineage_relations']
    """
    graph = kg.graph
    lineage = [d for _, _, k, d in graph.edges(keys=True, data=True) if k == LINEAGE]

    def counted(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(Counter(values).items()))

    return GraphStats(
        corpus=str(kg.corpus.path),
        papers=len(kg.corpus.papers),
        nodes=counted(d["kind"] for _, d in graph.nodes(data=True)),
        edges=counted(k for _, _, k in graph.edges(keys=True)),
        lineage_methods=counted(d["method"] for d in lineage),
        lineage_relations=counted(d["relation"] for d in lineage),
    )

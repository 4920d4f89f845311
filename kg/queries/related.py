"""The papers related to one paper, with why (`neighbours_for_expansion`): what the answer
engine adds to retrieved passages (`rag.retrieval`).
"""

from __future__ import annotations

from kg.queries.ancestry import lineage_children, lineage_parents, walk
from kg.queries.nodes import as_node
from kg.records import Node
from kg.schema import KnowledgeGraph

__all__ = ["neighbours_for_expansion"]

# A technique used by more than this share of the corpus is too common to relate two papers.
_RARE_TECHNIQUE_SHARE = 0.25


def neighbours_for_expansion(kg: KnowledgeGraph, paper_id: str) -> list[tuple[str, str]]:
    """Corpus papers related to `paper_id`, with why: lineage first, then comparisons,
    then papers sharing a rare technique. Each neighbour appears once.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> neighbours_for_expansion(kg, "code-llama")[0]
        ('llama-2', 'parent of Code Llama')
        >>> ('specinfer', 'also uses speculative decoding') in neighbours_for_expansion(kg, "gptq")
        False
        >>> ('gptq', 'also uses quantization') in neighbours_for_expansion(kg, "specinfer")
        False
    """
    me = as_node(kg, f"paper:{paper_id}")
    found: dict[str, str] = {}
    for _, target, data in kg.graph.out_edges(me.id, data=True):
        _expand_edge(kg, me, target, data["kind"], "parent of", "compared against by", found)
    for source, _, data in kg.graph.in_edges(me.id, data=True):
        _expand_edge(kg, me, source, data["kind"], "builds on", "compared against", found)
    for node in walk(kg, me, upward=True):
        _add_neighbour(kg, found, me, node.id, f"ancestor of {me.label}")
    for node in walk(kg, me, upward=False):
        _add_neighbour(kg, found, me, node.id, f"descendant of {me.label}")
    for parent in lineage_parents(kg, me.id):
        for sibling in lineage_children(kg, parent):
            _add_neighbour(kg, found, me, sibling, f"also builds on {kg.node(parent).label}")
    for technique in _rare_techniques(kg, me.id):
        for user in _technique_users(kg, technique):
            _add_neighbour(kg, found, me, user, f"also uses {kg.node(technique).label}")
    return list(found.items())


def _expand_edge(
    kg: KnowledgeGraph, me: Node, other: str, kind: str, lineage_why: str, compare_why: str,
    found: dict[str, str],
) -> None:  # fmt: skip
    if kind == "builds_on":
        _add_neighbour(kg, found, me, other, f"{lineage_why} {me.label}")
    elif kind == "compared_against":
        _add_neighbour(kg, found, me, other, f"{compare_why} {me.label}")


def _add_neighbour(
    kg: KnowledgeGraph, found: dict[str, str], me: Node, other: str, why: str
) -> None:
    node = kg.node(other)
    if node.kind == "paper" and node.id != me.id and node.paper_id and node.paper_id not in found:
        found[node.paper_id] = why


def _technique_users(kg: KnowledgeGraph, technique: str) -> list[str]:
    users = [u for u, _, k in kg.graph.in_edges(technique, keys=True) if k == "uses_technique"]
    return sorted(users, key=lambda u: kg.node(u).date or "")


def _rare_techniques(kg: KnowledgeGraph, node_id: str) -> list[str]:
    limit = max(2, int(len(kg.corpus.papers) * _RARE_TECHNIQUE_SHARE))
    mine = [v for _, v, k in kg.graph.out_edges(node_id, keys=True) if k == "uses_technique"]
    counted = [(len(_technique_users(kg, t)), t) for t in mine]
    return [t for n, t in sorted(counted) if 1 < n <= limit]

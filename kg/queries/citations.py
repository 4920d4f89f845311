"""Citation queries: what a paper's reference list holds and which papers of the corpus it
cites, and which papers cite it (`paper_citations`), read from the paper's own node and its
`cites` edges (no pass over the other papers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kg.queries.nodes import NameOrNode, as_node, graph_node
from kg.records import Node
from kg.schema import KnowledgeGraph

__all__ = ["CITES", "CitationLink", "PaperCitations", "ReferenceEntry", "paper_citations"]

CITES = "cites"  # the edge kind: the citing paper → the cited paper


@dataclass(frozen=True)
class ReferenceEntry:
    """One entry of a paper's reference list and the corpus paper it names (None when none),
    `how` it was found: arxiv | doi | title | None."""

    text: str
    paper: Node | None
    how: str | None


@dataclass(frozen=True)
class CitationLink:
    """A `cites` edge seen from one end: the paper at the other end, the reference entry (the
    evidence), how it was resolved, and the citing sentences as (page, sentence)."""

    paper: Node
    evidence: str
    how: str
    contexts: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class PaperCitations:
    paper: Node
    references: tuple[ReferenceEntry, ...]
    cites: tuple[CitationLink, ...]
    cited_by: tuple[CitationLink, ...]

    def to_json(self) -> dict[str, Any]:
        """The `kgrag citations --json` shape."""
        return {
            "paper": {"id": self.paper.paper_id, "title": self.paper.title},
            "references": [
                {
                    "text": r.text,
                    "paper_id": r.paper.paper_id if r.paper else None,
                    "title": r.paper.title if r.paper else None,
                    "how": r.how,
                }
                for r in self.references
            ],
            "cited_by": [{"id": c.paper.paper_id, "title": c.paper.title} for c in self.cited_by],
        }


def paper_citations(kg: KnowledgeGraph, name: NameOrNode) -> PaperCitations:
    """The reference list of the paper `name` (empty without a full text), the corpus papers it
    cites and those citing it, each in date order. Raises the name resolver's error for a name
    that is no paper or is ambiguous.

    Example:
        >>> from kg.graph import load_graph
        >>> paper_citations(load_graph(), "Llama 2").cited_by  # the shipped list has no full texts
        ()
    """
    node = as_node(kg, name, ("paper",))
    graph = kg.graph
    entries = json.loads(str(graph.nodes[node.id].get("references") or "[]"))
    references = tuple(
        ReferenceEntry(str(e["text"]), _paper_node(kg, e.get("paper_id")), e.get("how"))
        for e in entries
    )
    cites = [
        _link(kg, v, d)
        for _, v, k, d in graph.out_edges(node.id, keys=True, data=True)
        if k == CITES
    ]
    cited_by = [
        _link(kg, u, d)
        for u, _, k, d in graph.in_edges(node.id, keys=True, data=True)
        if k == CITES
    ]
    return PaperCitations(node, references, _by_date(cites), _by_date(cited_by))


def _paper_node(kg: KnowledgeGraph, paper_id: str | None) -> Node | None:
    node_id = f"paper:{paper_id}" if paper_id else ""
    return graph_node(kg.graph, node_id) if node_id in kg.graph else None


def _link(kg: KnowledgeGraph, node_id: str, data: dict[str, Any]) -> CitationLink:
    contexts = tuple(
        (int(page), str(text)) for page, text in json.loads(str(data.get("contexts") or "[]"))
    )
    return CitationLink(graph_node(kg.graph, node_id), str(data.get("evidence", "")),
                        str(data.get("method", "")), contexts)  # fmt: skip


def _by_date(links: list[CitationLink]) -> tuple[CitationLink, ...]:
    return tuple(sorted(links, key=lambda c: (c.paper.date or "", c.paper.id)))

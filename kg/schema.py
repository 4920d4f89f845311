"""The knowledge graph's shape: `KnowledgeGraph` (the `networkx.MultiDiGraph`, the corpus it
was built from and the name index over its nodes), the paper node id (`node_id_for_paper`)
and the edge kinds (`EDGE_LABELS`).

Node ids: `paper:<paper id>`, `org:<canonical name>`, `category:<key>`, `technique:<id>`,
`work:<slug>`, `author:<slug>`. Every node has `kind` and `label` (and `date` where known).
Edge keys are their kinds: `published_by`, `in_category`, `uses_technique`, `builds_on`
(lineage, with a `relation`), `compared_against` (not lineage), `part_of` and `authored`
(author → paper, with the author's `position` on the paper), `cites` (paper → paper, from a
full text's reference list: `evidence` the entry, `method` how it was resolved, `page`,
`reference` its 1-based place in the list, `contexts` the citing sentences as JSON
`[[page, sentence], …]`). Every edge a paper gives rise to carries `evidence`, `paper`, `line`
and `method`. A paper with a full text has `references` (JSON: every entry in list order with
the paper it resolved to, `{"text", "paper_id", "how"}`) and `references_unresolved` (a count):
an entry that names no paper of the corpus stays there, not as a node.

`kg.graph` builds it; the lineage rules, the queries, the checks and the exports read it. It
is re-exported by `kg.graph`, where callers import it from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from kg.names import NameIndex
from kg.paper import Corpus, Paper
from kg.records import Node

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["EDGE_LABELS", "KnowledgeGraph", "node_id_for_paper"]

EDGE_LABELS = {
    "published_by": "published by",
    "in_category": "in category",
    "uses_technique": "uses technique",
    "builds_on": "builds on",
    "compared_against": "compared against",
    "part_of": "part of",
    "authored": "authored",
    "cites": "cites",
}


# The field edges a paper has into a group node, indexed by `KnowledgeGraph.papers_into`.
_FIELD_EDGES = frozenset({"published_by", "in_category"})


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """The graph, the corpus it was built from, and the name index over its nodes."""

    graph: nx.MultiDiGraph
    corpus: Corpus
    names: NameIndex

    def node(self, node_id: str) -> Node:
        return self.names.nodes[node_id]

    def paper(self, paper_id: str) -> Paper:
        return self.corpus.by_id()[paper_id]

    def papers_into(self, node_id: str, kind: str) -> tuple[str, ...]:
        """The ids of the papers with a `kind` field edge into `node_id` (an organisation's
        `published_by`, a category's `in_category`), in the corpus' order. The index is built
        once per graph (a graph is read-only once built), so a look-up costs its answer."""
        return self._papers_into.get((node_id, kind), ())

    @cached_property
    def _papers_into(self) -> dict[tuple[str, str], tuple[str, ...]]:
        index: dict[tuple[str, str], list[str]] = {}
        for u, v, key in self.graph.edges(keys=True):  # papers' edges come in the corpus' order
            if key in _FIELD_EDGES and u.startswith("paper:"):
                index.setdefault((v, key), []).append(u.removeprefix("paper:"))
        return {k: tuple(ids) for k, ids in index.items()}


def node_id_for_paper(paper_id: str) -> str:
    return f"paper:{paper_id}"

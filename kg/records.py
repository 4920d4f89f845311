"""The typed records the graph queries return (shared by `kg.names` and `kg.queries`).

Each record that a command prints has `to_json()`: the CLI's `--json` and the app's API both
call it, so the two shapes cannot drift apart (the README documents them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kg.paper import Paper

__all__ = [
    "KINDS",
    "GraphEdge",
    "GraphStats",
    "Lineage",
    "LineageEdge",
    "Neighbourhood",
    "Node",
    "NodeLinks",
    "PaperAuthors",
    "paper_json",
]

KINDS = ("paper", "organization", "category", "technique", "work", "author")
LINEAGE = "builds_on"
CITES = "cites"  # citing paper -> cited paper in the graph; cited -> citing as a GraphEdge


@dataclass(frozen=True)
class Node:
    """A graph node: `id` like `paper:code-llama`; `paper_id` and `title` set for papers only."""

    id: str
    kind: str
    label: str
    date: str | None = None
    paper_id: str | None = None
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A node as `kgrag lineage --json` prints it (papers add their title and id).

        Example:
            >>> Node("work:gpt-3", "work", "GPT-3").to_json()
            {'id': 'work:gpt-3', 'kind': 'work', 'name': 'GPT-3', 'date': None}
        """
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "name": self.label,
                                "date": self.date}  # fmt: skip
        if self.kind == "paper":
            data["title"] = self.title
            data["paper_id"] = self.paper_id
        return data


@dataclass(frozen=True)
class LineageEdge:
    """`source` (child) builds on `target` (parent), with the evidence for it: `line` of the
    paper list (0 for curated facts and full texts), `page` of a full text's sentence (method
    `body`; None for evidence from an abstract, a title or a list)."""

    source: Node
    target: Node
    relation: str
    evidence: str
    method: str
    paper: str
    line: int
    page: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source.id,
            "target": self.target.id,
            "relation": self.relation,
            "evidence": self.evidence,
            "method": self.method,
            "paper": self.paper,
            "line": self.line,
            "page": self.page,
        }


@dataclass(frozen=True)
class Lineage:
    root: Node
    ancestors: tuple[Node, ...]
    descendants: tuple[Node, ...]
    edges: tuple[LineageEdge, ...]

    def to_json(self) -> dict[str, Any]:
        """The `kgrag lineage --json` shape (and the app API's `/lineage`)."""
        return {
            "root": self.root.to_json(),
            "ancestors": [n.to_json() for n in self.ancestors],
            "descendants": [n.to_json() for n in self.descendants],
            "edges": [e.to_json() for e in self.edges],
        }


def paper_json(paper: Paper) -> dict[str, Any]:
    """A paper as `kgrag papers --json` prints it (and the app API's `/papers`)."""
    return {
        "id": paper.id,
        "title": paper.title,
        "date": paper.date,
        "organizations": list(paper.organizations),
        "category": paper.category,
        "influence": paper.influence,
    }


@dataclass(frozen=True)
class GraphEdge:
    """One edge of a neighbourhood, from `parent` to `child`: for lineage the earlier work to
    the later one; for `published_by` / `uses_technique` the organisation or technique to the
    work; for `cites` the cited paper to the citing one (`evidence` the reference entry, `page`
    its page, `contexts` the citing sentences as (page, sentence)). A body lineage edge has the
    `page` of its sentence. `on_path` marks an edge of a highlighted lineage path."""

    parent: str
    child: str
    kind: str
    relation: str
    evidence: str
    method: str
    line: int
    on_path: bool = False
    page: int | None = None
    contexts: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Neighbourhood:
    """A work's lineage neighbourhood: `works` (the root first, then ancestors and descendants
    nearest first, then the nodes of a highlighted `path`, then, with citations, the papers
    citing the root or cited by it), optional `extras` (organisations, techniques) and the
    edges among them; `hidden` lineage nodes lay beyond the caps, and `hidden_citations`
    citing or cited papers of the root."""

    root: str
    works: tuple[Node, ...]
    extras: tuple[Node, ...]
    edges: tuple[GraphEdge, ...]
    hidden: int
    path: tuple[str, ...] = ()
    hidden_citations: int = 0

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.works + self.extras

    def lineage_edges(self) -> tuple[GraphEdge, ...]:
        return tuple(e for e in self.edges if e.kind == LINEAGE)

    def citation_edges(self) -> tuple[GraphEdge, ...]:
        return tuple(e for e in self.edges if e.kind == CITES)


@dataclass(frozen=True)
class NodeLinks:
    """What a node's card shows: the node, the corpus papers linked to it (an organisation's,
    a technique's users, a category's, the papers building on a work), and its direct lineage
    neighbours (what it builds on, what builds on it). A paper's card also lists its
    `authors` in the paper's order; an author's lists their papers and `coauthors`."""

    node: Node
    papers: tuple[Paper, ...]
    builds_on: tuple[Node, ...]
    built_on_by: tuple[Node, ...]
    authors: tuple[Node, ...] = ()
    coauthors: tuple[tuple[Node, int], ...] = ()


@dataclass(frozen=True)
class PaperAuthors:
    """A paper's authors in its order, and where they come from: `source` is empty for the
    paper's own fields (a library file), else the page `data/seed_authors.json` checked them
    against. No authors: the corpus does not know them."""

    paper: Node
    authors: tuple[Node, ...]
    source: str = ""

    @property
    def known(self) -> bool:
        return bool(self.authors)


@dataclass(frozen=True)
class GraphStats:
    """Node and edge counts by kind and lineage edges by method and relation, each sorted by
    name: what `kgrag stats` prints and the app's Index tab shows."""

    corpus: str
    papers: int
    nodes: tuple[tuple[str, int], ...]
    edges: tuple[tuple[str, int], ...]
    lineage_methods: tuple[tuple[str, int], ...]
    lineage_relations: tuple[tuple[str, int], ...]

    @property
    def node_count(self) -> int:
        return sum(n for _, n in self.nodes)

    @property
    def edge_count(self) -> int:
        return sum(n for _, n in self.edges)

    @property
    def lineage_count(self) -> int:
        return dict(self.edges).get(LINEAGE, 0)

    def to_json(self) -> dict[str, Any]:
        """The `kgrag stats --json` shape."""
        return {
            "corpus": self.corpus,
            "papers": self.papers,
            "nodes": dict(self.nodes),
            "edges": dict(self.edges),
            "lineage_methods": dict(self.lineage_methods),
            "lineage_relations": dict(self.lineage_relations),
        }

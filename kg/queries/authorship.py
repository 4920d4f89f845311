"""Author queries: who wrote a paper (`authors_of`, `paper_authors`), what an author wrote
(`papers_of_author`) and with whom (`coauthors`), every author with their papers
(`author_counts`, `author_summaries`), and the papers whose authors are unknown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from kg.errors import UnknownAuthorError, UnknownNameError
from kg.paper import Paper
from kg.queries.nodes import NameOrNode, as_node, by_date, graph_node
from kg.records import Node, PaperAuthors
from kg.schema import KnowledgeGraph, node_id_for_paper

__all__ = [
    "AuthorSummary",
    "author_counts",
    "author_summaries",
    "authors_of",
    "coauthors",
    "paper_authors",
    "papers_of_author",
    "papers_without_authors",
    "resolve_author",
]


class _Coauthorship:
    """Each paper's authors, ordered by name, read from the graph once for a whole listing, so
    that a summary's co-author count and first co-authors cost no more than its own papers'
    lists (an author of one paper needs only the first names of its list)."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self._lists: dict[str, tuple[str, ...]] = {}

    def authors(self, paper_node: str) -> tuple[str, ...]:
        if paper_node not in self._lists:
            ids = [
                u for u, _, k in self.kg.graph.in_edges(paper_node, keys=True) if k == "authored"
            ]
            self._lists[paper_node] = tuple(sorted(ids, key=lambda i: self.kg.node(i).label))
        return self._lists[paper_node]


@dataclass(frozen=True)
class AuthorSummary:
    """An author, their papers (by date) and co-authors with the number of shared papers.

    Co-authors are worked out when first read, for this author only: every author's co-authors
    together are quadratic in a paper's author count (a 5,000-author paper makes 25 million
    pairs), so a listing reads `coauthor_count` and `top_coauthors(k)`, which cost an author of
    a single paper nothing more than that paper's list."""

    author: Node
    papers: tuple[Paper, ...]
    shared: _Coauthorship = field(repr=False, compare=False)

    @cached_property
    def coauthors(self) -> tuple[tuple[Node, int], ...]:
        return tuple(coauthors(self.shared.kg, self.author))

    @property
    def coauthor_count(self) -> int:
        """How many people wrote with this author."""
        if len(self.papers) == 1:
            return len(self.shared.authors(self._paper_nodes[0])) - 1
        return len(
            {i for p in self._paper_nodes for i in self.shared.authors(p)} - {self.author.id}
        )

    def top_coauthors(self, k: int) -> tuple[tuple[Node, int], ...]:
        """The first `k` of `coauthors`; for an author of one paper, its first names (each
        shares that one paper) without counting the rest."""
        if len(self.papers) != 1:
            return self.coauthors[:k]
        ids = [i for i in self.shared.authors(self._paper_nodes[0])[: k + 1] if i != self.author.id]
        return tuple((self.shared.kg.node(i), 1) for i in ids[:k])

    @property
    def _paper_nodes(self) -> list[str]:
        return [node_id_for_paper(p.id) for p in self.papers]


def papers_of_author(kg: KnowledgeGraph, name: NameOrNode) -> list[Paper]:
    """The papers an author (any spelling: `T. Dao`, `Dao, Tri`) wrote, by date."""
    node = resolve_author(kg, name)
    by_id = kg.corpus.by_id()
    return by_date(by_id[kg.node(i).paper_id or ""] for i in _authored(kg, node.id))


def resolve_author(kg: KnowledgeGraph, name: NameOrNode) -> Node:
    """The author `name` stands for: any spelling the corpus or `data/authors.json` has,
    typed with or without accents (`Lukasz` = `Łukasz`), `Last, First`, initials (`T. Dao`;
    ambiguous initials raise `AmbiguousNameError`). An unknown name raises
    `UnknownAuthorError`, which names the papers whose authors are not known.

    Example:
        >>> from kg.graph import load_graph
        >>> resolve_author(load_graph(), "Dao, T.").label
        'Tri Dao'
    """
    try:
        return as_node(kg, name, ("author",))
    except UnknownAuthorError:
        raise
    except UnknownNameError as exc:
        unlisted = [p.id for p in papers_without_authors(kg)]
        raise UnknownAuthorError(exc.name, exc.suggestions, unlisted) from None


def papers_without_authors(kg: KnowledgeGraph) -> list[Paper]:
    """The papers whose authors the graph does not know (neither their file nor
    `data/seed_authors.json` names them), by date.

    Example:
        >>> from kg.graph import load_graph
        >>> [p.id for p in papers_without_authors(load_graph())]
        ['gemini', 'cogagent']
    """
    graph = kg.graph
    return by_date(p for p in kg.corpus.papers if not any(
        k == "authored" for _, _, k in graph.in_edges(node_id_for_paper(p.id), keys=True)))  # fmt: skip


def paper_authors(kg: KnowledgeGraph, name: NameOrNode) -> PaperAuthors:
    """A paper's authors in its order and where they come from (its own file, or the curated
    list's source page); none when the corpus does not know them.

    Example:
        >>> from kg.graph import load_graph
        >>> credit = paper_authors(load_graph(), "FlashAttention-2")
        >>> [a.label for a in credit.authors], credit.source
        (['Tri Dao'], 'https://arxiv.org/abs/2307.08691')
    """
    paper = as_node(kg, name, ("paper",))
    source = str(kg.graph.nodes[paper.id].get("authors_source", ""))
    return PaperAuthors(paper, tuple(authors_of(kg, paper)), source)


def authors_of(kg: KnowledgeGraph, name: NameOrNode) -> list[Node]:
    """A paper's authors in the order the paper lists them."""
    paper = as_node(kg, name, ("paper",))
    edges = [(d.get("position", 0), u) for u, _, k, d in
             kg.graph.in_edges(paper.id, keys=True, data=True) if k == "authored"]  # fmt: skip
    return [kg.node(u) for _, u in sorted(edges)]


def coauthors(kg: KnowledgeGraph, name: NameOrNode) -> list[tuple[Node, int]]:
    """Who wrote with an author, and on how many papers, most first, then by name: one pass
    over the author lists of this author's papers (ids are counted; records are made only for
    the answer).

    Example:
        >>> from pathlib import Path
        >>> from kg.corpus import Corpus, Paper
        >>> from kg.graph import build_graph
        >>> def paper(title, *authors):
        ...     return Paper(title.lower(), title, "2023-01", ("Meta",), "", "", "", "", "", 1,
        ...                  authors=authors)
        >>> kg = build_graph(Corpus(Path("x"), "", (paper("A", "Ann Lee", "Bo Wu", "Cy Ng"),
        ...                                          paper("B", "Ann Lee", "Cy Ng"))))
        >>> [(n.label, c) for n, c in coauthors(kg, "Ann Lee")]
        [('Cy Ng', 2), ('Bo Wu', 1)]
    """
    node = resolve_author(kg, name)
    counts: Counter[str] = Counter()
    for paper_node in _authored(kg, node.id):
        counts.update(u for u, _, k in kg.graph.in_edges(paper_node, keys=True)
                      if k == "authored" and u != node.id)  # fmt: skip
    ranked = sorted(counts.items(), key=lambda item: (-item[1], kg.node(item[0]).label))
    return [(kg.node(i), n) for i, n in ranked]


def author_counts(kg: KnowledgeGraph) -> list[tuple[Node, int]]:
    """Every author with their number of papers, most first, then by name (the app's author
    filter; lighter than `author_summaries`, which also gathers co-authors).

    Example:
        >>> from kg.graph import load_graph
        >>> [(n.label, c) for n, c in author_counts(load_graph())[:2]]  # data/seed_authors.json
        [('Hugo Touvron', 3), ('Marie-Anne Lachaux', 3)]
    """
    graph = kg.graph
    counts = [(n, sum(1 for _, _, k in graph.out_edges(n, keys=True) if k == "authored"))
              for n, d in graph.nodes(data=True) if d.get("kind") == "author"]  # fmt: skip
    ranked = [(graph_node(graph, n), c) for n, c in counts]
    return sorted(ranked, key=lambda item: (-item[1], item[0].label.casefold()))


def author_summaries(kg: KnowledgeGraph, name: NameOrNode | None = None) -> list[AuthorSummary]:
    """Every author (or only the one `name` stands for) with their papers, most papers first,
    then by name; each summary's co-authors are gathered only when read. Linear in the
    authored edges: the papers are looked up once, not once per author."""
    by_id = kg.corpus.by_id()
    if name is not None:
        authors = [resolve_author(kg, name)]
    else:
        authors = [kg.node(n) for n, d in kg.graph.nodes(data=True) if d.get("kind") == "author"]
    shared = _Coauthorship(kg)

    def papers(author: Node) -> tuple[Paper, ...]:
        return tuple(by_date(by_id[kg.node(i).paper_id or ""] for i in _authored(kg, author.id)))

    summaries = [AuthorSummary(a, papers(a), shared) for a in authors]
    return sorted(summaries, key=lambda s: (-len(s.papers), s.author.label))


def _authored(kg: KnowledgeGraph, author_id: str) -> list[str]:
    """The paper nodes of an author (authored edges run author -> paper)."""
    return [v for _, v, k in kg.graph.out_edges(author_id, keys=True) if k == "authored"]

"""Graph queries: one function per operation, each returning typed records.

Names are resolved with `kg.names.resolve` (bilingual, forgiving; ambiguity raises).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kg.corpus import Paper
from kg.errors import KgragError, UnknownAuthorError, UnknownNameError
from kg.graph import KnowledgeGraph, node_id_for_paper
from kg.names import resolve
from kg.records import (
    GraphEdge,
    GraphStats,
    Lineage,
    LineageEdge,
    Neighbourhood,
    Node,
    NodeLinks,
    PaperAuthors,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "GROUP_FIELDS",
    "GraphEdge",
    "GraphStats",
    "Neighbourhood",
    "NodeLinks",
    "GroupSummary",
    "Lineage",
    "LineageEdge",
    "Node",
    "TechniqueUse",
    "AuthorSummary",
    "ancestors",
    "authors_of",
    "author_counts",
    "author_summaries",
    "coauthors",
    "count_by",
    "descendants",
    "earliest",
    "group_keys",
    "labs_share",
    "latest",
    "lineage",
    "lineage_edges",
    "neighbours_for_expansion",
    "graph_stats",
    "neighbourhood",
    "node_links",
    "normalize_month",
    "papers_by",
    "papers_of_author",
    "paper_authors",
    "papers_without_authors",
    "resolve_author",
    "papers_with_technique",
    "parent_organizations",
    "path_between",
    "summarize_by",
    "richest_lineage",
    "techniques_of",
    "work_labels",
]

GROUP_FIELDS = ("organization", "category", "month", "quarter", "year", "technique")
# A technique used by more than this share of the corpus is too common to relate two papers.
_RARE_TECHNIQUE_SHARE = 0.25

NameOrNode = str | Node
WORK_KINDS = ("paper", "work")  # what lineage queries resolve names to


@dataclass(frozen=True)
class TechniqueUse:
    """`paper` uses `technique`, as `evidence` (a sentence at source `line`) shows."""

    paper: Paper
    technique: Node
    evidence: str
    line: int


@dataclass(frozen=True)
class GroupSummary:
    group: str
    count: int
    earliest: tuple[Paper, ...]
    latest: tuple[Paper, ...]


def ancestors(kg: KnowledgeGraph, name: NameOrNode) -> list[Node]:
    """What `name` builds on, directly or not, nearest first.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [n.label for n in ancestors(kg, "Code Llama")]
        ['Llama 2', 'LLaMA']
    """
    return _walk(kg, _node(kg, name, WORK_KINDS), upward=True)


def descendants(kg: KnowledgeGraph, name: NameOrNode) -> list[Node]:
    """What builds on `name`, directly or not, nearest first.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [n.label for n in descendants(kg, "Llama 2")]
        ['Code Llama']
    """
    return _walk(kg, _node(kg, name, WORK_KINDS), upward=False)


def lineage(kg: KnowledgeGraph, name: NameOrNode) -> Lineage:
    """The lineage family of `name`: its ancestors, descendants and the edges among them.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> family = lineage(kg, "llama2")
        >>> [(e.source.label, e.relation, e.target.label) for e in family.edges]
        [('Llama 2', 'successor', 'LLaMA'), ('Code Llama', 'extends', 'Llama 2')]
    """
    root = _node(kg, name, WORK_KINDS)
    up, down = _walk(kg, root, upward=True), _walk(kg, root, upward=False)
    family = {root.id, *(n.id for n in up), *(n.id for n in down)}
    edges = [e for e in lineage_edges(kg) if e.source.id in family and e.target.id in family]
    # Only edges on a path through the root: a sibling's other parents are not this lineage.
    ups, downs = {root.id, *(n.id for n in up)}, {root.id, *(n.id for n in down)}
    edges = [
        e for e in edges if {e.source.id, e.target.id} <= ups or {e.source.id, e.target.id} <= downs
    ]
    return Lineage(root, tuple(up), tuple(down), tuple(edges))


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
    import networkx as nx

    start, end = _node(kg, a, WORK_KINDS), _node(kg, b, WORK_KINDS)
    lineage_graph = nx.Graph()
    for edge in lineage_edges(kg):
        lineage_graph.add_edge(edge.source.id, edge.target.id, edge=edge)
    try:
        ids = nx.shortest_path(lineage_graph, start.id, end.id)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []
    return [lineage_graph.edges[x, y]["edge"] for x, y in zip(ids, ids[1:], strict=False)]


def papers_by(
    kg: KnowledgeGraph,
    org: str | None = None,
    category: str | None = None,
    month: str | None = None,
    since: str | None = None,
    until: str | None = None,
    include_parts: bool = True,
    author: str | None = None,
) -> list[Paper]:
    """Papers matching every given filter, by date. `author` takes any spelling of a name. `org`/`category` take any alias;
    `month`, `since`, `until` are `YYYY-MM` (inclusive; `since`/`until` also take `YYYY`).
    An organisation's papers include its labs' (Google DeepMind's for Google), everywhere
    kgrag lists them; `include_parts=False` keeps only the papers it signs itself.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [p.id for p in papers_by(kg, org="谷歌")] == [p.id for p in papers_by(kg, org="Google")]
        True
        >>> [p.id for p in papers_by(kg, org="Meta", until="2023-07")]
        ['llama', 'llama-2']
        >>> len(papers_by(kg, org="Google")), len(papers_by(kg, org="Google", include_parts=False))
        (5, 4)
    """
    papers = list(kg.corpus.papers)
    if author is not None:
        own = {p.id for p in papers_of_author(kg, author)}
        papers = [p for p in papers if p.id in own]
    if org is not None:
        orgs = _org_names(kg, org, include_parts)
        papers = [p for p in papers if orgs & set(p.organizations)]
    if category is not None:
        key = _node(kg, category, ("category",)).id.removeprefix("category:")
        papers = [p for p in papers if p.category == key]
    if month is not None:
        wanted = normalize_month(month)
        papers = [p for p in papers if p.date == wanted]
    if since is not None:
        low = normalize_month(since, start=True)
        papers = [p for p in papers if p.date >= low]
    if until is not None:
        high = normalize_month(until, start=False)
        papers = [p for p in papers if p.date <= high]
    return _by_date(papers)


def count_by(
    kg: KnowledgeGraph, field: str, papers: Iterable[Paper] | None = None
) -> list[tuple[str, int]]:
    """(group, number of papers) for `field` in GROUP_FIELDS, most papers first.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> count_by(kg, "category")[0]
        ('foundation', 9)
    """
    return [(s.group, s.count) for s in summarize_by(kg, field, papers)]


def summarize_by(
    kg: KnowledgeGraph, field: str, papers: Iterable[Paper] | None = None
) -> list[GroupSummary]:
    """Per group of `field`: the count and the earliest and latest papers, most papers first.
    An organisation's group holds its labs' papers too (see `papers_by`); a quarter is
    `YYYY-Qn`.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> meta = next(s for s in summarize_by(kg, "organization") if s.group == "Meta")
        >>> meta.count, [p.id for p in meta.earliest], [p.id for p in meta.latest]
        (3, ['llama'], ['code-llama'])
    """
    key_of = _group_keys(kg, field)
    groups: dict[str, list[Paper]] = {}
    for paper in papers if papers is not None else kg.corpus.papers:
        for key in key_of(paper):
            groups.setdefault(key, []).append(paper)
    summaries = [
        GroupSummary(k, len(v), _extreme(v, min), _extreme(v, max)) for k, v in groups.items()
    ]
    return sorted(summaries, key=lambda s: (-s.count, s.group))


def earliest(kg: KnowledgeGraph, **filters: str) -> list[Paper]:
    """The first-dated papers among those `papers_by(kg, **filters)` gives (ties kept).

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [p.id for p in earliest(kg, category="多模态")]
        ['blip-2']
    """
    return list(_extreme(papers_by(kg, **filters), min))  # type: ignore[arg-type]


def latest(kg: KnowledgeGraph, **filters: str) -> list[Paper]:
    """The last-dated papers among those `papers_by(kg, **filters)` gives (ties kept).

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [p.id for p in latest(kg, org="Meta")]
        ['code-llama']
    """
    return list(_extreme(papers_by(kg, **filters), max))  # type: ignore[arg-type]


def papers_with_technique(kg: KnowledgeGraph, name: NameOrNode) -> list[TechniqueUse]:
    """Papers whose title, influence note or abstract names the technique, by date.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> [u.paper.id for u in papers_with_technique(kg, "量化")]
        ['gptq']
    """
    technique = _node(kg, name, ("technique",))
    uses = [
        _use(kg, u, technique, data)
        for u, _, data in kg.graph.in_edges(technique.id, data=True)
        if data.get("kind") == "uses_technique"
    ]
    return sorted(uses, key=lambda u: (u.paper.date, u.paper.line))


def techniques_of(kg: KnowledgeGraph, paper: NameOrNode) -> list[TechniqueUse]:
    """The techniques a paper names, with the sentence naming each.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> "mixture of experts" in [u.technique.label for u in techniques_of(kg, "Mixtral")]
        True
    """
    node = _node(kg, paper, ("paper",))
    return [
        _use(kg, node.id, kg.node(v), data)
        for _, v, data in kg.graph.out_edges(node.id, data=True)
        if data.get("kind") == "uses_technique"
    ]


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
    me = _node(kg, f"paper:{paper_id}")
    found: dict[str, str] = {}
    for _, target, data in kg.graph.out_edges(me.id, data=True):
        _expand_edge(kg, me, target, data["kind"], "parent of", "compared against by", found)
    for source, _, data in kg.graph.in_edges(me.id, data=True):
        _expand_edge(kg, me, source, data["kind"], "builds on", "compared against", found)
    for node in _walk(kg, me, upward=True):
        _add_neighbour(kg, found, me, node.id, f"ancestor of {me.label}")
    for node in _walk(kg, me, upward=False):
        _add_neighbour(kg, found, me, node.id, f"descendant of {me.label}")
    for parent in _lineage_parents(kg, me.id):
        for sibling in _lineage_children(kg, parent):
            _add_neighbour(kg, found, me, sibling, f"also builds on {kg.node(parent).label}")
    for technique in _rare_techniques(kg, me.id):
        for user in _technique_users(kg, technique):
            _add_neighbour(kg, found, me, user, f"also uses {kg.node(technique).label}")
    return list(found.items())


def normalize_month(value: str, start: bool = True) -> str:
    """`YYYY-MM` from `2023-05`, `2023.5`, `2023/05`, `2023年5月`; a bare year gives its
    first (`start`) or last month."""
    import re

    text = value.strip()
    year_only = re.fullmatch(r"(\d{4})\s*年?", text)
    if year_only:
        return f"{year_only.group(1)}-{'01' if start else '12'}"
    match = re.fullmatch(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise KgragError(f"{value!r} is not a month: write YYYY-MM (e.g. 2023-07).")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def _node(kg: KnowledgeGraph, name: NameOrNode, kinds: tuple[str, ...] | None = None) -> Node:
    return name if isinstance(name, Node) else resolve(kg, name, kinds)


def _walk(kg: KnowledgeGraph, root: Node, upward: bool) -> list[Node]:
    step = _lineage_parents if upward else _lineage_children
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


def _lineage_parents(kg: KnowledgeGraph, node_id: str) -> list[str]:
    return sorted(v for _, v, k in kg.graph.out_edges(node_id, keys=True) if k == "builds_on")


def _lineage_children(kg: KnowledgeGraph, node_id: str) -> list[str]:
    return sorted(u for u, _, k in kg.graph.in_edges(node_id, keys=True) if k == "builds_on")


def _lineage_edge(kg: KnowledgeGraph, u: str, v: str, data: dict[str, object]) -> LineageEdge:
    line = data.get("line", 0)
    return LineageEdge(
        kg.node(u), kg.node(v), str(data.get("relation", "")), str(data.get("evidence", "")),
        str(data.get("method", "")), str(data.get("paper", "")), line if isinstance(line, int) else 0,
    )  # fmt: skip


def _org_names(kg: KnowledgeGraph, org: str, include_parts: bool) -> set[str]:
    node = _node(kg, org, ("organization",))
    names = {node.label}
    if include_parts:
        names |= {
            u.removeprefix("org:")
            for u, _, k in kg.graph.in_edges(node.id, keys=True)
            if k == "part_of"
        }
    return names


def labs_share(kg: KnowledgeGraph, org: str, papers: Iterable[Paper]) -> list[tuple[str, int]]:
    """Of an organisation's papers (labs included), how many each of its labs signed without it:
    what "5 papers, 1 of them by Google DeepMind" says.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> labs_share(kg, "谷歌", papers_by(kg, org="Google"))
        [('Google DeepMind', 1)]
    """
    own = _node(kg, org, ("organization",)).label
    counts: dict[str, int] = {}
    for paper in papers:
        if own not in paper.organizations:
            for lab in paper.organizations:
                counts[lab] = counts.get(lab, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def group_keys(kg: KnowledgeGraph, field: str, paper: Paper) -> list[str]:
    """The groups of `field` a paper falls in (see `summarize_by`)."""
    return _group_keys(kg, field)(paper)


def parent_organizations(kg: KnowledgeGraph, org: str) -> list[str]:
    """The organisations `org` is `part_of` (Google for Google DeepMind), nearest first."""
    return _org_and_parents(kg, org)[1:]


def _org_and_parents(kg: KnowledgeGraph, org: str) -> list[str]:
    names, node = [org], f"org:{org}"
    while True:
        parents = [v for _, v, k in kg.graph.out_edges(node, keys=True) if k == "part_of"]
        if not parents or parents[0].removeprefix("org:") in names:
            return names
        node = parents[0]
        names.append(node.removeprefix("org:"))


def _group_keys(kg: KnowledgeGraph, field: str) -> Callable[[Paper], list[str]]:
    if field == "organization":
        return lambda p: list(dict.fromkeys(o for org in p.organizations
                                            for o in _org_and_parents(kg, org)))  # fmt: skip
    if field == "category":
        return lambda p: [p.category]
    if field == "month":
        return lambda p: [p.date]
    if field == "year":
        return lambda p: [p.date[:4]]
    if field == "quarter":
        # a library paper known only by its year is in no quarter
        return lambda p: [f"{p.date[:4]}-Q{(int(p.date[5:7]) - 1) // 3 + 1}"] if p.date[5:7] else []
    if field == "technique":
        return lambda p: [u.technique.label for u in techniques_of(kg, f"paper:{p.id}")]
    raise KgragError(f"cannot group by {field!r}: choose one of {', '.join(GROUP_FIELDS)}.")


def _extreme(papers: list[Paper], pick: Callable[..., str]) -> tuple[Paper, ...]:
    if not papers:
        return ()
    date = pick(p.date for p in papers)
    return tuple(p for p in _by_date(papers) if p.date == date)


def _by_date(papers: Iterable[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: (p.date, p.line))


def _use(
    kg: KnowledgeGraph, paper_node: str, technique: Node, data: dict[str, object]
) -> TechniqueUse:
    paper = kg.paper(kg.node(paper_node).paper_id or "")
    line = data.get("line", 0)
    return TechniqueUse(
        paper, technique, str(data.get("evidence", "")), line if isinstance(line, int) else 0
    )


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


# --- authors ------------------------------------------------------------------------------


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
    return _by_date(by_id[kg.node(i).paper_id or ""] for i in _authored(kg, node.id))


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
        return _node(kg, name, ("author",))
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
    return _by_date(p for p in kg.corpus.papers if not any(
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
    paper = _node(kg, name, ("paper",))
    source = str(kg.graph.nodes[paper.id].get("authors_source", ""))
    return PaperAuthors(paper, tuple(authors_of(kg, paper)), source)


def authors_of(kg: KnowledgeGraph, name: NameOrNode) -> list[Node]:
    """A paper's authors in the order the paper lists them."""
    paper = _node(kg, name, ("paper",))
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
    ranked = [(_graph_node(graph, n), c) for n, c in counts]
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
        return tuple(_by_date(by_id[kg.node(i).paper_id or ""] for i in _authored(kg, author.id)))

    summaries = [AuthorSummary(a, papers(a), shared) for a in authors]
    return sorted(summaries, key=lambda s: (-len(s.papers), s.author.label))


def _authored(kg: KnowledgeGraph, author_id: str) -> list[str]:
    """The paper nodes of an author (authored edges run author -> paper)."""
    return [v for _, v, k in kg.graph.out_edges(author_id, keys=True) if k == "authored"]


# --- what the app's explorer, cards and index tab show ----------------------------------------

NEIGHBOURHOOD_MAX_NODES = 120  # lineage nodes drawn at most, however large the graph
NEIGHBOURHOOD_MAX_EXTRAS = 14  # organisations or techniques shown at most, most connected first
_LINEAGE = "builds_on"
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
) -> Neighbourhood:
    """`root` (a node id), its ancestors and descendants within `depth` lineage hops (nearest
    first, at most NEIGHBOURHOOD_MAX_NODES), the nodes of a highlighted `path`, and optionally
    the organisations and techniques linked to them; a bare graph in kgrag's schema works too.

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
    pairs = {frozenset(pair) for pair in zip(path, path[1:], strict=False)}
    edges = _neighbourhood_edges(graph, members, pairs)
    extras: list[str] = []
    if organizations:
        extras += _extras(graph, members, "published_by", edges)
    if techniques:
        extras += _extras(graph, members, "uses_technique", edges)
    return Neighbourhood(
        root,
        tuple(_graph_node(graph, n) for n in members),
        tuple(_graph_node(graph, n) for n in extras),
        tuple(edges),
        hidden,
        tuple(path),
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
    node = _graph_node(graph, node_id)
    wanted = _CARD_LINKS.get(node.kind, "")
    by_id = kg.corpus.by_id()
    papers: list[Paper] = []
    for source, _, key, data in graph.in_edges(node_id, keys=True, data=True):
        if _edge_kind(key, data) == wanted and source.startswith("paper:"):
            paper = by_id.get(source.split(":", 1)[1])
            if paper is not None and paper not in papers:
                papers.append(paper)
    parents = [v for _, v, k, d in graph.out_edges(node_id, keys=True, data=True)
               if _edge_kind(k, d) == _LINEAGE]  # fmt: skip
    children = [u for u, _, k, d in graph.in_edges(node_id, keys=True, data=True)
                if _edge_kind(k, d) == _LINEAGE]  # fmt: skip
    if node.kind == "author":  # authored edges run author -> paper
        papers = papers_of_author(kg, node)
    return NodeLinks(
        node,
        tuple(sorted(papers, key=lambda p: (p.date, p.title))),
        tuple(_graph_node(graph, n) for n in parents),
        tuple(_graph_node(graph, n) for n in children),
        authors=tuple(authors_of(kg, node)) if node.kind == "paper" else (),
        coauthors=tuple(coauthors(kg, node)) if node.kind == "author" else (),
    )


def graph_stats(kg: KnowledgeGraph) -> GraphStats:
    """Node and edge counts by kind, lineage edges by method and relation.

    Example:
        >>> from kg.graph import load_graph
        >>> stats = graph_stats(load_graph())
        >>> stats.lineage_count == len(lineage_edges(load_graph()))
        True
        >>> list(stats.to_json())
        ['corpus', 'papers', 'nodes', 'edges', 'lineage_methods', 'lineage_relations']
    """
    graph = kg.graph
    lineage = [d for _, _, k, d in graph.edges(keys=True, data=True) if k == _LINEAGE]

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
            best, size = _graph_node(kg.graph, node), family
    return best


def _edge_kind(key: Any, data: dict[str, Any]) -> str:
    return str(data.get("kind", key))


def _graph_node(graph: nx.MultiDiGraph, node_id: str) -> Node:
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
            if _edge_kind(k, d) == _LINEAGE)  # fmt: skip


def _graph_children(graph: nx.MultiDiGraph, node: str) -> Iterable[str]:
    return (u for u, _, k, d in graph.in_edges(node, keys=True, data=True)
            if _edge_kind(k, d) == _LINEAGE)  # fmt: skip


def _neighbourhood_edges(
    graph: nx.MultiDiGraph, members: list[str], path_pairs: set[frozenset[str]]
) -> list[GraphEdge]:
    inside = set(members)
    edges: list[GraphEdge] = []
    for child in members:
        for _, parent, key, data in graph.out_edges(child, keys=True, data=True):
            if parent in inside and _edge_kind(key, data) == _LINEAGE:
                on_path = frozenset((parent, child)) in path_pairs
                edges.append(_graph_edge(parent, child, data, on_path))
    return edges


def _graph_edge(parent: str, child: str, data: dict[str, Any], on_path: bool = False) -> GraphEdge:
    return GraphEdge(
        parent=parent,
        child=child,
        kind=str(data.get("kind", _LINEAGE)),
        relation=str(data.get("relation", "")),
        evidence=str(data.get("evidence", "")),
        method=str(data.get("method", "")),
        line=int(data.get("line") or 0),
        on_path=on_path,
    )


def _extras(
    graph: nx.MultiDiGraph, members: list[str], kind: str, edges: list[GraphEdge]
) -> list[str]:
    """Organisation or technique nodes linked to the drawn works, most connected first."""
    links: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for node in members:
        for _, target, key, data in graph.out_edges(node, keys=True, data=True):
            if _edge_kind(key, data) == kind:
                links.setdefault(target, []).append((node, data))
    chosen = sorted(links, key=lambda t: (-len(links[t]), str(t)))[:NEIGHBOURHOOD_MAX_EXTRAS]
    for target in chosen:
        for node, data in links[target]:
            edges.append(_graph_edge(target, node, data))
    return chosen

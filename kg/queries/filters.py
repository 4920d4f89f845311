"""Papers filtered and grouped: by organisation (its labs' papers included), category, month,
date range and author (`papers_by`), the first and last of them (`earliest`, `latest`), and
counted or summarised per organisation, category, month, quarter, year or technique
(`count_by`, `summarize_by`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kg.errors import KgragError
from kg.paper import Paper
from kg.queries.authorship import papers_of_author
from kg.queries.nodes import as_node, by_date
from kg.queries.techniques import techniques_of
from kg.schema import KnowledgeGraph

__all__ = [
    "GROUP_FIELDS",
    "GroupSummary",
    "count_by",
    "earliest",
    "group_keys",
    "labs_share",
    "latest",
    "normalize_month",
    "papers_by",
    "parent_organizations",
    "summarize_by",
]

GROUP_FIELDS = ("organization", "category", "month", "quarter", "year", "technique")


@dataclass(frozen=True)
class GroupSummary:
    group: str
    count: int
    earliest: tuple[Paper, ...]
    latest: tuple[Paper, ...]


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
    # Start from the graph's adjacency (an organisation's, category's or author's papers) so
    # the cost follows the answer, not the library; only a date filter alone reads every paper.
    papers: list[Paper] | None = None
    if author is not None:
        papers = papers_of_author(kg, author)
    if org is not None:
        orgs = _org_names(kg, org, include_parts)
        papers = _narrowed(papers, _papers_at(kg, (f"org:{o}" for o in orgs), "published_by"))
    if category is not None:
        node = as_node(kg, category, ("category",))
        papers = _narrowed(papers, _papers_at(kg, [node.id], "in_category"))
    if papers is None:
        papers = list(kg.corpus.papers)
    if month is not None:
        wanted = normalize_month(month)
        papers = [p for p in papers if p.date == wanted]
    if since is not None:
        low = normalize_month(since, start=True)
        papers = [p for p in papers if p.date >= low]
    if until is not None:
        high = normalize_month(until, start=False)
        papers = [p for p in papers if p.date <= high]
    return by_date(papers)


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


def normalize_month(value: str, start: bool = True) -> str:
    """`YYYY-MM` from `2023-05`, `2023.5`, `2023/05`, `2023年5月`; a bare year gives its
    first (`start`) or last month."""
    text = value.strip()
    year_only = re.fullmatch(r"(\d{4})\s*年?", text)
    if year_only:
        return f"{year_only.group(1)}-{'01' if start else '12'}"
    match = re.fullmatch(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise KgragError(f"{value!r} is not a month: write YYYY-MM (e.g. 2023-07).")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def labs_share(kg: KnowledgeGraph, org: str, papers: Iterable[Paper]) -> list[tuple[str, int]]:
    """Of an organisation's papers (labs included), how many each of its labs signed without it:
    what "5 papers, 1 of them by Google DeepMind" says.

    Example:
        >>> from kg.graph import load_graph
        >>> kg = load_graph()
        >>> labs_share(kg, "谷歌", papers_by(kg, org="Google"))
        [('Google DeepMind', 1)]
    """
    own = as_node(kg, org, ("organization",)).label
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


def _papers_at(kg: KnowledgeGraph, node_ids: Iterable[str], kind: str) -> list[Paper]:
    """The papers with a `kind` edge into any of `node_ids`, each once, in the corpus' order
    (what a scan of the corpus gave, so ties of date keep their order)."""
    by_id = kg.corpus.by_id()
    lists = [kg.papers_into(node_id, kind) for node_id in node_ids]
    if len(lists) == 1:
        return [by_id[i] for i in lists[0]]
    return kg.corpus.in_order(by_id[i] for i in dict.fromkeys(i for ids in lists for i in ids))


def _narrowed(papers: list[Paper] | None, allowed: list[Paper]) -> list[Paper]:
    if papers is None:
        return allowed
    ids = {p.id for p in allowed}
    return [p for p in papers if p.id in ids]


def _org_names(kg: KnowledgeGraph, org: str, include_parts: bool) -> set[str]:
    node = as_node(kg, org, ("organization",))
    names = {node.label}
    if include_parts:
        names |= {  # its labs: few, among the many papers that point at it too
            u.removeprefix("org:")
            for u, keys in kg.graph.pred[node.id].items()
            if u.startswith("org:") and "part_of" in keys
        }
    return names


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
    return tuple(p for p in by_date(papers) if p.date == date)

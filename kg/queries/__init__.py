"""Graph queries: one function per operation, each returning typed records (`kg.records`).

One module per topic; every name callers use is re-exported here (`from kg.queries import …`):

- `ancestry`: lineage — `ancestors`, `descendants`, `lineage`, `lineage_edges`, `path_between`.
- `filters`: papers by organisation, category, month, dates, author (`papers_by`), grouped and
  counted (`count_by`, `summarize_by`, `earliest`, `latest`, `labs_share`).
- `techniques`: `papers_with_technique`, `techniques_of`.
- `authorship`: `authors_of`, `paper_authors`, `papers_of_author`, `coauthors`,
  `author_counts`, `author_summaries`, `resolve_author`, `papers_without_authors`.
- `related`: `neighbours_for_expansion` (what the answer engine adds to retrieved passages).
- `explorer`: what the app draws and lists — `neighbourhood`, `node_links`, `work_labels`,
  `richest_lineage`.
- `citations`: `paper_citations` (a paper's reference list, what it cites, what cites it).
- `stats`: `graph_stats`.
- `nodes`: what they share (a name or a `Node` resolved; papers by date).

Names are resolved with `kg.names.resolve` (bilingual, forgiving; ambiguity raises).
"""

from __future__ import annotations

from kg.queries.ancestry import ancestors, descendants, lineage, lineage_edges, path_between
from kg.queries.authorship import (
    AuthorSummary,
    author_counts,
    author_summaries,
    authors_of,
    coauthors,
    paper_authors,
    papers_of_author,
    papers_without_authors,
    resolve_author,
)
from kg.queries.citations import CitationLink, PaperCitations, ReferenceEntry, paper_citations
from kg.queries.explorer import (
    NEIGHBOURHOOD_MAX_EXTRAS,
    NEIGHBOURHOOD_MAX_NODES,
    neighbourhood,
    node_links,
    richest_lineage,
    work_labels,
)
from kg.queries.filters import (
    GROUP_FIELDS,
    GroupSummary,
    count_by,
    earliest,
    group_keys,
    labs_share,
    latest,
    normalize_month,
    papers_by,
    parent_organizations,
    summarize_by,
)
from kg.queries.nodes import WORK_KINDS, NameOrNode
from kg.queries.related import neighbours_for_expansion
from kg.queries.stats import graph_stats
from kg.queries.techniques import TechniqueUse, papers_with_technique, techniques_of
from kg.records import (
    GraphEdge,
    GraphStats,
    Lineage,
    LineageEdge,
    Neighbourhood,
    Node,
    NodeLinks,
)

__all__ = [
    "GROUP_FIELDS",
    "NEIGHBOURHOOD_MAX_EXTRAS",
    "NEIGHBOURHOOD_MAX_NODES",
    "WORK_KINDS",
    "AuthorSummary",
    "CitationLink",
    "GraphEdge",
    "GraphStats",
    "GroupSummary",
    "Lineage",
    "LineageEdge",
    "NameOrNode",
    "Neighbourhood",
    "Node",
    "NodeLinks",
    "PaperCitations",
    "ReferenceEntry",
    "TechniqueUse",
    "ancestors",
    "author_counts",
    "author_summaries",
    "authors_of",
    "coauthors",
    "count_by",
    "descendants",
    "earliest",
    "graph_stats",
    "group_keys",
    "labs_share",
    "latest",
    "lineage",
    "lineage_edges",
    "neighbourhood",
    "neighbours_for_expansion",
    "node_links",
    "normalize_month",
    "paper_authors",
    "paper_citations",
    "papers_by",
    "papers_of_author",
    "papers_with_technique",
    "papers_without_authors",
    "parent_organizations",
    "path_between",
    "resolve_author",
    "richest_lineage",
    "summarize_by",
    "techniques_of",
    "work_labels",
]

# `doctest.testmod(kg.queries)` runs the examples of every function and record re-exported
# here: each lives with its topic module, and tests/test_queries.py runs them through this one.
__test__ = {name: globals()[name] for name in __all__ if callable(globals()[name])}

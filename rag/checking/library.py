"""A paper of the graph as the checker sees it, and a checker that knows the graph's names.

`paper_source(kg, paper)` is the paper's whole entry as a `SourceText` with its organisations'
aliases and its own names; `graph_checker(kg, embedder)` is a `SupportChecker` that finds the
names the graph knows and reads lineage cues. `check_claim` is the whole of `kgrag verify` (and
the app's "Check a claim"): the paper named, or those a search ranks first, then `verify_claim`.
`kgrag eval verify` builds its checker here too (the answer engine builds the same from its
caches).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from kg.names import find_mentions, resolve
from rag.checking.support import NamedSpan, SourceText, SupportChecker

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph
    from rag.checking.verify import Verdict
    from rag.protocols import Retriever

__all__ = [
    "BODY_PASSAGES",
    "CANDIDATE_PAPERS",
    "check_claim",
    "find_paper",
    "graph_checker",
    "paper_source",
]

CANDIDATE_PAPERS = 3
"""Without a named paper, a claim is checked against this many of the papers a search ranks
first; the closest sentence among them is the evidence."""

BODY_PASSAGES = 4
"""Of a paper with a full text, this many body passages (those sharing most of the claim's
words) are checked besides its entry."""


def check_claim(
    kg: KnowledgeGraph,
    claim: str,
    embedder: object,
    retriever: Retriever | None = None,
    paper: str | None = None,
) -> Verdict:
    """`claim` checked against the paper `paper` names, else against the papers `retriever`
    ranks first for it (its direct hits: graph-expanded ones are neighbours, not matches).
    Raises `ClaimError` for an empty claim, `UnknownNameError` / `AmbiguousNameError` for a
    paper name that names none or several."""
    from rag.checking.verify import ClaimError, verify_claim

    if not claim.strip():
        raise ClaimError("the claim is empty: give the sentence to check.")
    if paper is not None:
        papers = [find_paper(kg, paper)]
    elif retriever is None:
        raise ClaimError("name the paper the claim is about (no index to search).")
    else:
        by_id = kg.corpus.by_id()
        hits = [h for h in retriever.retrieve(claim, CANDIDATE_PAPERS).hits
                if set(h.via) - {"graph"} and h.paper_id in by_id]  # fmt: skip
        papers = [by_id[h.paper_id] for h in hits[:CANDIDATE_PAPERS]]
    sources = [
        source
        for i, p in enumerate(papers)
        for source in _with_body(kg, paper_source(kg, p, i + 1), claim)
    ]
    return verify_claim(claim, sources, graph_checker(kg, embedder))


def _with_body(kg: KnowledgeGraph, entry: SourceText, claim: str) -> list[SourceText]:
    """The paper's entry, then, for a paper with a full text, the `BODY_PASSAGES` body passages
    that share most of the claim's words, each with its page: a claim about the method section
    is checked against the method section, and only a few passages are embedded."""
    from rag.passages import body_pieces
    from rag.retrieval.bm25 import term_share

    document = kg.corpus.document(entry.paper_id)
    if document is None:
        return [entry]
    pieces = body_pieces(document)
    shares = term_share(claim, [text for text, _, _ in pieces])
    best = sorted(range(len(pieces)), key=lambda k: -shares[k])[:BODY_PASSAGES]
    return [entry, *(replace(entry, passage=pieces[k][0], page=pieces[k][1]) for k in best)]


def graph_checker(kg: KnowledgeGraph, embedder: object) -> SupportChecker:
    """A checker with the embedder's calibrated threshold that knows `kg`'s names."""
    from kg.lexicon import load_lexicon
    from kg.lineage import lineage_cue

    aliases = _aliases(kg)

    def mentions(text: str) -> list[NamedSpan]:
        kinds = ("organization", "paper", "work")
        return [NamedSpan(m.start, m.end, aliases.get(m.node.id, (m.alias,)), m.node.kind)
                for m in find_mentions(kg, text, kinds)]  # fmt: skip

    return SupportChecker(embedder, mention_aliases=mentions,
                          lineage_cue=partial(lineage_cue, load_lexicon()))  # fmt: skip


def paper_source(kg: KnowledgeGraph, paper: Paper, number: int = 1) -> SourceText:
    """`paper`'s whole entry, with every alias of its organisations and its own names (those that
    extend a shorter one left out: Medusa-1 and Medusa-2 stay apart)."""
    aliases = _aliases(kg)
    organizations: list[str] = []
    for name in paper.organizations:
        node = f"org:{name}"
        parent = kg.graph.nodes[node].get("part_of") if node in kg.graph else None
        for n in (node, f"org:{parent}") if parent else (node,):
            organizations.extend(aliases.get(n, (n.removeprefix("org:"),)))
    names = aliases.get(f"paper:{paper.id}", ())
    keys = {re.sub(r"[\s\-_]", "", n.casefold()) for n in names}
    own = tuple(n for n in names if not _extends(n, keys))
    return SourceText.from_paper(number, paper, None, tuple(dict.fromkeys(organizations)), own)


def find_paper(kg: KnowledgeGraph, name: str) -> Paper:
    """The paper `name` names: its id, a title, a short name or any alias. Raises
    `kg.errors.UnknownNameError` (with suggestions) or `AmbiguousNameError`."""
    papers = {p.id: p for p in kg.corpus.papers}
    if name in papers:
        return papers[name]
    folded = name.casefold().strip()
    for paper in kg.corpus.papers:
        if paper.title.casefold() == folded:
            return paper
    return papers[resolve(kg, name, ("paper",)).id.removeprefix("paper:")]


def _aliases(kg: KnowledgeGraph) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for alias, node_id in kg.names.aliases:
        out.setdefault(node_id, []).append(alias)
    for node_id, node in kg.names.nodes.items():
        out.setdefault(node_id, []).append(node.label)
    return {k: tuple(v) for k, v in out.items()}


def _extends(name: str, keys: set[str]) -> bool:
    """`Medusa-2` extends `Medusa` (a shorter name of the set, then a version or variant)."""
    match = re.match(r"(.+?)[\s\-_]*(?:\d+(?:\.\d+)?|v\d+|[a-z])$", name.casefold())
    return match is not None and re.sub(r"[\s\-_]", "", match[1]) in keys

"""Checks of the list's entries, one by one: duplicate titles, organisations not in the alias
table, ignored lines, abstracts missing or never naming their paper, dates outside the list's
stated year, and text that addresses the reader or the model (`kg.untrusted`).
"""

from __future__ import annotations

import re

from kg.check.problems import Problem
from kg.keys import compact
from kg.names import find_mentions
from kg.paper import Corpus
from kg.schema import KnowledgeGraph
from kg.untrusted import flagged_lines

__all__ = [
    "abstracts",
    "duplicate_titles",
    "ignored_lines",
    "unknown_organizations",
    "untrusted_text",
    "years",
]

_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")


def duplicate_titles(corpus: Corpus) -> list[Problem]:
    seen: dict[str, int] = {}
    found = []
    for paper in corpus.papers:
        key = compact(paper.title)
        if key in seen:
            found.append(Problem("error", "duplicate-title",
                                 f"{paper.title!r} already appears at line {seen[key]}.", paper.line,
                                 paper.id))  # fmt: skip
        else:
            seen[key] = paper.line
    return found


def unknown_organizations(corpus: Corpus) -> list[Problem]:
    return [
        Problem(
            "warning",
            "unknown-organization",
            f"organisation {name!r} is not in data/organizations.json; add it as an alias "
            "so it groups with its other spellings.",
            line,
        )  # fmt: skip
        for line, name in corpus.unknown_organizations
    ]


def ignored_lines(corpus: Corpus) -> list[Problem]:
    return [
        Problem(
            "warning", "ignored-line", f"ignored ({item.reason}): {item.text[:60]!r}", item.line
        )
        for item in corpus.ignored
    ]


def abstracts(corpus: Corpus, kg: KnowledgeGraph) -> list[Problem]:
    found = []
    for paper in corpus.papers:
        if not paper.abstract:
            found.append(Problem("warning", "no-abstract",
                                 f"{paper.short_name!r} has no 摘要 (abstract); only its title "
                                 "and other fields can be searched.", paper.line,
                                 paper.id))  # fmt: skip
            continue
        if paper.short_name == paper.title:
            continue  # no distinct name to look for
        named = {m.node.id for m in find_mentions(kg, paper.abstract, kinds=("paper",))}
        if f"paper:{paper.id}" not in named:
            found.append(Problem("warning", "abstract-unnamed",
                                 f"the abstract of {paper.short_name!r} never names it; check it "
                                 "belongs to this paper.", paper.abstract_line,
                                 paper.id))  # fmt: skip
    return found


def years(corpus: Corpus, added: set[str]) -> list[Problem]:
    """The list's stated year (its preamble) holds for its papers, not for ones added to a
    library from other files."""
    preamble = " ".join(i.text for i in corpus.ignored if i.reason == "before the first paper")
    stated = _YEAR.search(preamble)
    if not stated:
        return []
    year = stated.group(0)
    return [
        Problem(
            "warning",
            "date-outside-year",
            f"{p.short_name!r} is dated {p.date}, outside the list's stated year {year}.",
            p.line,
            p.id,
        )  # fmt: skip
        for p in corpus.papers
        if not p.date.startswith(year) and p.id not in added
    ]


def untrusted_text(corpus: Corpus) -> list[Problem]:
    found = []
    for flag in flagged_lines(corpus):
        phrases = "; ".join(f"{s.kind}: {s.text[:40]!r}" for s in flag.spans[:3])
        found.append(Problem("warning", "untrusted-text",
                             f"the {flag.field} of {flag.paper_id!r} addresses the reader or the "
                             f"model ({phrases}); answers treat it as untrusted text. Remove it "
                             "unless it is part of the paper.", flag.line,
                             flag.paper_id))  # fmt: skip
    return found

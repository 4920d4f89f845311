"""Sentences that contradict the graph: a sentence crediting a known paper or work to an
organisation or a date the graph gives differently ("LLaMA was trained by Google", "Llama 2
发布于 2021 年"); the wording that joins the two is in `data/claim_cues.json`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kg.check.facts import org_family, orgs_of
from kg.check.problems import Problem
from kg.errors import KgragError
from kg.lineage import paper_sentences
from kg.names import NameIndex, find_mentions
from kg.paper import Corpus
from kg.records import Node
from kg.schema import KnowledgeGraph
from kg.tables import OrgTable, load_json, load_org_table

__all__ = ["contradicted_claims"]


@dataclass(frozen=True)
class _ClaimCue:
    """Wording that credits a work to an organisation or a date (see data/claim_cues.json)."""

    field: str  # organization | date
    work_first: bool
    between: re.Pattern[str]
    after: re.Pattern[str]


@dataclass(frozen=True)
class _ClaimCues:
    cues: tuple[_ClaimCue, ...]
    dates: tuple[re.Pattern[str], ...]
    months: dict[str, int]


@dataclass(frozen=True)
class _Span:
    """A name or a date in a sentence: `node` for a paper, work or organisation; `month` is
    (year, month or 0) for a date."""

    start: int
    end: int
    text: str
    node: Node | None = None
    month: tuple[int, int] = (0, 0)

    @property
    def field(self) -> str:
        if self.node is None:
            return "date"
        return "organization" if self.node.kind == "organization" else "work"


@cache
def _claim_cues(data_dir: Path | None = None) -> _ClaimCues:
    raw = load_json("claim_cues.json", data_dir)
    flags = re.IGNORECASE
    try:
        cues = tuple(
            _ClaimCue(field, c["order"] == "work-first", re.compile(c["between"], flags),
                      re.compile(c.get("after", ""), flags))
            for field in ("organization", "date") for c in raw[field]
        )  # fmt: skip
        dates = tuple(re.compile(d, flags) for d in raw["dates"])
        months = {str(k).casefold(): int(v) for k, v in raw["months"].items()}
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise KgragError(
            f"data/claim_cues.json is malformed ({exc}). Restore it from git."
        ) from exc
    return _ClaimCues(cues, dates, months)


def contradicted_claims(corpus: Corpus, kg: KnowledgeGraph) -> list[Problem]:
    """A sentence that credits a known paper or work to an organisation or a date (cue wording
    joining the two names) which the graph gives differently: one of them is wrong."""
    table = load_org_table()
    cues = _claim_cues()
    names = _claim_names(kg, table)
    found = []
    for paper in corpus.papers:
        for sentence in list(paper_sentences(paper))[1:]:  # the title credits nothing
            for work, other in _claims(names, sentence.text, cues):
                problem = _contradiction(kg, table, work, other)
                if problem:
                    found.append(Problem("warning", "claim-contradicts-graph",
                                         f"{paper.short_name!r} says “{sentence.text.strip()}”: "
                                         f"{problem}; check that sentence or the other paper's "
                                         "entry.", sentence.line, paper.id))  # fmt: skip
    return found


def _claim_names(kg: KnowledgeGraph, table: OrgTable) -> KnowledgeGraph:
    """The graph's papers, works and organisations, plus every organisation of the alias table
    (a sentence may credit a work to one that signs no paper of the list)."""
    nodes = {i: n for i, n in kg.names.nodes.items() if n.kind in ("paper", "work", "organization")}
    aliases = [(a, i) for a, i in kg.names.aliases if i in nodes]
    for org in table.organizations:
        node_id = f"org:{org.name}"
        if node_id not in nodes:
            nodes[node_id] = Node(node_id, "organization", org.name)
            aliases += [(a, node_id) for a in (org.name, *org.aliases)]
    return KnowledgeGraph(kg.graph, kg.corpus, NameIndex(nodes, tuple(aliases)))


def _claims(names: KnowledgeGraph, text: str, cues: _ClaimCues) -> Iterator[tuple[_Span, _Span]]:
    """(work, organisation or date) for each pair of neighbouring spans a cue joins."""
    spans = _spans(names, text, cues)
    for first, second in zip(spans, spans[1:], strict=False):
        if "work" not in (first.field, second.field) or first.field == second.field:
            continue
        work, other = (first, second) if first.field == "work" else (second, first)
        between, after = text[first.end : second.start], text[second.end :]
        if any(c.field == other.field and c.work_first == (work is first)
               and c.between.fullmatch(between) and c.after.match(after)
               for c in cues.cues):  # fmt: skip
            yield work, other


def _spans(names: KnowledgeGraph, text: str, cues: _ClaimCues) -> list[_Span]:
    """The sentence's names (a name several works share is skipped: whose claim is unclear)
    and dates, in text order, none overlapping."""
    by_span: dict[tuple[int, int], list[Node]] = {}
    for m in find_mentions(names, text, ("paper", "work", "organization")):
        by_span.setdefault((m.start, m.end), []).append(m.node)
    spans = [_Span(s, e, text[s:e], nodes[0]) for (s, e), nodes in by_span.items()
             if len({n.kind == "organization" for n in nodes}) == 1
             and (nodes[0].kind == "organization" or len(nodes) == 1)]  # fmt: skip
    taken = [(s.start, s.end) for s in spans]
    for pattern in cues.dates:  # most specific first: "2023年7月" before "2023"
        for match in pattern.finditer(text):
            month = _month(match, cues.months)
            if month and not any(match.start() < e and s < match.end() for s, e in taken):
                taken.append(match.span())
                spans.append(_Span(match.start(), match.end(), match.group(0), month=month))
    return sorted(spans, key=lambda s: s.start)


def _month(match: re.Match[str], months: dict[str, int]) -> tuple[int, int] | None:
    """(year, month or 0) of a date match; None for a word that is not a month."""
    groups = match.groupdict()
    year = int(groups["year"])
    if groups.get("month_name"):
        month = months.get(groups["month_name"].casefold(), 0)
        return (year, month) if month else None
    month = int(groups.get("month") or 0)
    return (year, month) if 0 <= month <= 12 else None


def _contradiction(kg: KnowledgeGraph, table: OrgTable, work: _Span, other: _Span) -> str:
    """What the graph says instead of the claim, or '' when it agrees or says nothing."""
    assert work.node is not None
    label, data = work.node.label, kg.graph.nodes[work.node.id]
    if other.node is not None:
        given = orgs_of(kg, work.node.id)
        actual = {o for name in given for o in org_family(table, name)}
        if not actual or actual & org_family(table, other.node.label):
            return ""
        return (f"it credits {label} to {other.node.label}, but the graph has {label} by "
                f"{', '.join(sorted(given))} ({_where(kg, work.node)})")  # fmt: skip
    date = str(data.get("date") or "")
    year, month = other.month
    if not re.fullmatch(r"\d{4}-\d{2}", date):
        return ""
    if int(date[:4]) == year and month in (0, int(date[5:])):
        return ""
    return (f"it dates {label} to {other.text.strip()}, but the graph dates it {date} "
            f"({_where(kg, work.node)})")  # fmt: skip


def _where(kg: KnowledgeGraph, node: Node) -> str:
    """Where the graph's value comes from: the paper's entry, or the works lexicon."""
    paper = kg.corpus.by_id().get(node.paper_id or "")
    if paper is None:
        return "data/works.json"
    return f"its entry at {Path(paper.source).name}:{paper.line}" if paper.source else \
        f"its entry at line {paper.line}"  # fmt: skip

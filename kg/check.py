"""`kgrag check`: validate a paper list and the graph built from it.

Errors (exit non-zero): the list cannot be parsed, duplicate titles, a lineage edge whose
child is dated before its parent, a curated lineage fact naming an unknown work.
Warnings: organisations not in the alias table, ignored lines, papers without an abstract,
abstracts that never name their paper, dates outside the list's stated year, a versioned
successor credited to another organisation than its predecessor, a paper credited to another
organisation than `data/works.json` gives the same work (Kosmos-2), a sentence crediting a known
paper or work to an organisation or a date the graph gives differently ("LLaMA was trained by
Google", "Llama 2 发布于 2021 年"; the wording is in `data/claim_cues.json`), likely misspelt
names, and text that addresses the reader or the model ("ignore previous instructions",
"你现在是…", "answer: …"; patterns in `data/untrusted_text.json`, see `kg.untrusted`).

Checking the user's library (`library.jsonl`, see `kg.library`), each problem names where to
fix it: a paper the library added is its entry (`library.jsonl: entry 'mamba'`, with the line
of the file it came from); a paper of the list, or a line of the list, is the list's file and
line, never the library's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from kg.corpus import LIBRARY_MAGIC, Corpus, Paper, load_corpus
from kg.errors import CorpusError, KgragError
from kg.graph import KnowledgeGraph, build_graph
from kg.lexicon import Lexicon, load_lexicon
from kg.names import NameIndex, compact, find_mentions
from kg.records import Node
from kg.tables import OrgTable, load_json, load_org_table

__all__ = ["Problem", "Report", "check", "check_path"]

_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{4,}")


@dataclass(frozen=True)
class Problem:
    """`line` is in the checked file unless `source` names another (the list under a library,
    the file an added paper came from); `entry` is the library entry (paper id) to fix."""

    severity: str  # "error" | "warning"
    code: str
    message: str
    line: int | None = None
    paper: str | None = None  # the paper it is about, if one
    source: str | None = None
    entry: str | None = None


@dataclass(frozen=True)
class Report:
    source: str
    papers: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def location(self, problem: Problem) -> str:
        """Where to fix `problem`: `library.jsonl: entry 'id' (from refs.bib:12)`, `file:line`
        or the checked file."""
        if problem.entry:
            name = Path(problem.source or self.source).name
            origin = f" (from {name}:{problem.line})" if problem.line else ""
            return f"{self.source}: entry {problem.entry!r}{origin}"
        source = problem.source or self.source
        return f"{source}:{problem.line}" if problem.line else source


def check_path(path: Path | str) -> Report:
    """Parse and check the paper list at `path`; a parse failure is reported, not raised."""
    try:
        corpus = load_corpus(path)
    except CorpusError as exc:
        return Report(str(path), 0, (Problem("error", "parse", exc.detail, exc.line),))
    return check(corpus, build_graph(corpus))


def check(corpus: Corpus, kg: KnowledgeGraph, lexicon: Lexicon | None = None) -> Report:
    """Every problem found in `corpus` and its graph `kg`, errors first, then by line."""
    lexicon = lexicon or load_lexicon()
    base, added = _library_parts(corpus)
    problems = [
        *_duplicate_titles(corpus),
        *_lineage_dates(kg),
        *_undefined_works(kg, lexicon),
        *_undated_parents(kg),
        *_unknown_orgs(corpus),
        *_ignored_lines(corpus),
        *_abstracts(corpus, kg),
        *_years(corpus, added),
        *_successor_orgs(kg),
        *_work_orgs(kg, lexicon),
        *_contradicted_claims(corpus, kg),
        *_misspellings(corpus, kg),
        *_untrusted_text(corpus),
    ]
    problems = _located(corpus, problems, base, added)
    order = {"error": 0, "warning": 1}
    problems.sort(key=lambda p: (order[p.severity], p.entry or "", p.source or "", p.line or 0,
                                 p.code))  # fmt: skip
    return Report(str(corpus.path), len(corpus.papers), tuple(problems))


def _library_parts(corpus: Corpus) -> tuple[Path | None, set[str]]:
    """For a library: the list under it and the ids of the papers added from files (each an
    entry of the library); for a plain list: (None, empty)."""
    if not _is_library(corpus.path):
        return None, set()
    from kg.library import library_base

    base = library_base()
    return base, {p.id for p in corpus.papers if p.source and Path(p.source) != base}


def _located(
    corpus: Corpus, problems: list[Problem], base: Path | None, added: set[str]
) -> list[Problem]:
    """For a library, name the file each line is in and the entry each added paper is."""
    if base is None:
        return problems
    by_id = corpus.by_id()
    located = []
    for problem in problems:
        paper = by_id.get(problem.paper or "")
        if paper is None:  # a line of the list (ignored, unknown organisation) or none
            located.append(replace(problem, source=str(base)) if problem.line else problem)
        elif paper.id in added:
            located.append(replace(problem, source=paper.source, entry=paper.id))
        else:  # a paper of the list (its library line only adds fields it lacked)
            located.append(replace(problem, source=paper.source or str(base)))
    return located


def _is_library(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(LIBRARY_MAGIC)) == LIBRARY_MAGIC
    except OSError:
        return False


def _duplicate_titles(corpus: Corpus) -> list[Problem]:
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


def _lineage_dates(kg: KnowledgeGraph) -> list[Problem]:
    found = []
    for child, parent, key, data in kg.graph.edges(keys=True, data=True):
        if key != "builds_on":
            continue
        c, p = kg.node(child), kg.node(parent)
        if c.date and p.date and c.date < p.date:
            found.append(Problem(
                "error", "lineage-date",
                f"{c.label} ({c.date}) is said to build on {p.label} ({p.date}), which is dated "
                f"later ({data.get('method')}: {str(data.get('evidence', ''))[:80]}).",
                int(data.get("line") or 0) or None,
                str(data.get("paper") or "") or None,
            ))  # fmt: skip
    return found


def _undefined_works(kg: KnowledgeGraph, lexicon: Lexicon) -> list[Problem]:
    from kg.lineage import unresolved_curated

    return [
        Problem(
            "error",
            "undefined-work",
            f"data/lineage.json names {name!r}, which {why}; add it to data/works.json.",
        )  # fmt: skip
        for name, why in unresolved_curated(kg, lexicon)
    ]


def _undated_parents(kg: KnowledgeGraph) -> list[Problem]:
    parents = sorted({v for _, v, k in kg.graph.edges(keys=True) if k == "builds_on"})
    return [
        Problem(
            "warning",
            "undated-work",
            f"{kg.node(v).label} is a lineage parent without a date, so lineage dates "
            "cannot be checked; add its date to data/works.json.",
        )  # fmt: skip
        for v in parents
        if not kg.node(v).date
    ]


def _unknown_orgs(corpus: Corpus) -> list[Problem]:
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


def _ignored_lines(corpus: Corpus) -> list[Problem]:
    return [
        Problem(
            "warning", "ignored-line", f"ignored ({item.reason}): {item.text[:60]!r}", item.line
        )
        for item in corpus.ignored
    ]


def _abstracts(corpus: Corpus, kg: KnowledgeGraph) -> list[Problem]:
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


def _years(corpus: Corpus, added: set[str]) -> list[Problem]:
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


def _successor_orgs(kg: KnowledgeGraph) -> list[Problem]:
    """A versioned successor normally comes from its predecessor's organisation."""
    found = []
    for child, parent, key, data in kg.graph.edges(keys=True, data=True):
        if key != "builds_on" or data.get("relation") != "successor":
            continue
        mine = _orgs_of(kg, child)
        theirs = _orgs_of(kg, parent)
        if mine and theirs and not mine & theirs:
            c, p = kg.node(child), kg.node(parent)
            found.append(Problem("warning", "successor-organization",
                                 f"{c.label} is credited to {', '.join(sorted(mine))} but its "
                                 f"predecessor {p.label} to {', '.join(sorted(theirs))}; check "
                                 "the 发表单位.", kg.graph.nodes[child].get("line"),
                                 c.paper_id))  # fmt: skip
    return found


def _work_orgs(kg: KnowledgeGraph, lexicon: Lexicon) -> list[Problem]:
    """A paper that is a known work of `data/works.json` (the same name) should come from the
    organisation the works file gives it, or from one of its labs or its parent: else one of
    the two is wrong (the shipped list credits Kosmos-2 to Salesforce; it is Microsoft's)."""
    table = load_org_table()
    found = []
    for work in lexicon.works:
        paper = _paper_of_work(kg, (work.name, *work.aliases))
        if paper is None or not work.organization or not paper.organizations:
            continue
        mine = {o for org in paper.organizations for o in _org_family(table, org)}
        if not mine & _org_family(table, work.organization):
            found.append(Problem("warning", "work-organization",
                                 f"{paper.short_name} is credited to "
                                 f"{', '.join(paper.organizations)}, but data/works.json gives "
                                 f"the same work ({work.name}) to {work.organization}; correct "
                                 f"the wrong one (`kgrag edit {paper.id} --org ORG`, or "
                                 "data/works.json).", paper.org_line or paper.line, paper.id))  # fmt: skip
    return found


def _paper_of_work(kg: KnowledgeGraph, names: tuple[str, ...]) -> Paper | None:
    """The one corpus paper a work of the lexicon is (one of its names is the paper's), as
    `kg.graph` merges them; None when it is no paper or the names point at several."""
    ids = {i for n in names for i in kg.names.by_key.get(compact(n), ()) if i.startswith("paper:")}
    if len(ids) != 1:
        return None
    return kg.corpus.by_id().get(kg.node(ids.pop()).paper_id or "")


def _orgs_of(kg: KnowledgeGraph, node_id: str) -> set[str]:
    data = kg.graph.nodes[node_id]
    if data.get("kind") == "work":
        org = data.get("organization") or ""
        return {org} if org else set()
    orgs = {v for _, v, k in kg.graph.out_edges(node_id, keys=True) if k == "published_by"}
    # A lab and its parent count as the same organisation.
    parents = {p for o in orgs for _, p, k in kg.graph.out_edges(o, keys=True) if k == "part_of"}
    return {o.removeprefix("org:") for o in orgs | parents}


# --- sentences that contradict the graph ---------------------------------------------------


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


def _contradicted_claims(corpus: Corpus, kg: KnowledgeGraph) -> list[Problem]:
    """A sentence that credits a known paper or work to an organisation or a date (cue wording
    joining the two names) which the graph gives differently: one of them is wrong."""
    from kg.lineage import paper_sentences

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
        given = _orgs_of(kg, work.node.id)
        actual = {o for name in given for o in _org_family(table, name)}
        if not actual or actual & _org_family(table, other.node.label):
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


def _org_family(table: OrgTable, name: str) -> set[str]:
    """An organisation and its parent (a lab and its parent count as the same)."""
    org = table.get(name)
    return {name, org.part_of} if org is not None and org.part_of else {name}


def _untrusted_text(corpus: Corpus) -> list[Problem]:
    from kg.untrusted import flagged_lines

    found = []
    for flag in flagged_lines(corpus):
        phrases = "; ".join(f"{s.kind}: {s.text[:40]!r}" for s in flag.spans[:3])
        found.append(Problem("warning", "untrusted-text",
                             f"the {flag.field} of {flag.paper_id!r} addresses the reader or the "
                             f"model ({phrases}); answers treat it as untrusted text. Remove it "
                             "unless it is part of the paper.", flag.line,
                             flag.paper_id))  # fmt: skip
    return found


def _misspellings(corpus: Corpus, kg: KnowledgeGraph) -> list[Problem]:
    """Latin words one swap or one letter away from a known name (e.g. 'Genimi')."""
    known = _NearNames(kg)
    found = []
    for paper in corpus.papers:
        for text, line in (
            (paper.influence, paper.influence_line),
            (paper.abstract, paper.abstract_line),
        ):
            for word in set(_WORD.findall(text)):
                near = known.near(compact(word))
                if near:
                    found.append(Problem("warning", "misspelling",
                                         f"{word!r} looks like a misspelling of {near!r}.", line,
                                         paper.id))  # fmt: skip
    return found


class _NearNames:
    """Known name keys (5+ characters) indexed so a word finds its near names by look-up, not by
    comparing it with every name (which made `check` quadratic in the corpus).

    A word is near a key of the same length that is a swap of two letters (same letters, two
    positions differ) or one letter off after the same first letter. The earliest such name in
    alias order wins, as when every name was compared in turn."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.labels: dict[str, str] = {}
        for alias, node_id in kg.names.aliases:
            key = compact(alias)
            if len(key) >= 5:  # a later alias's label wins, at the key's first position
                self.labels[key] = kg.node(node_id).label
        self.order = {key: i for i, key in enumerate(self.labels)}
        self.by_letters: dict[str, list[str]] = {}
        self.by_blank: dict[str, list[str]] = {}
        for key in self.labels:
            self.by_letters.setdefault("".join(sorted(key)), []).append(key)
            for blank in _blanked(key):
                self.by_blank.setdefault(blank, []).append(key)

    def near(self, word: str) -> str | None:
        if len(word) < 5 or word in self.labels:
            return None
        swaps = [k for k in self.by_letters.get("".join(sorted(word)), ())
                 if _differences(k, word) == 2]  # fmt: skip
        one_off = [k for blank in _blanked(word) for k in self.by_blank.get(blank, ())]
        candidates = swaps + one_off
        if not candidates:
            return None
        return self.labels[min(candidates, key=self.order.__getitem__)]


def _blanked(key: str) -> list[str]:
    """The key with each letter but the first replaced by a blank (one-letter-off look-ups)."""
    return [key[:i] + "\0" + key[i + 1 :] for i in range(1, len(key))]


def _differences(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))

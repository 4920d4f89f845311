"""The seed format: a paper list like the shipped `data/ai_papers_2023.txt`, parsed into
`Paper` records (`parse_corpus`, `load_list`), and its reader (`SeedReader`, `kgrag add`).

The format: a category heading line (基座, 对齐, agent, 端侧, 多模态, …), then per paper an
English title line followed by `发布时间:`, `发表单位:`, `影响力:` and `摘要:` fields. An abstract
may continue on following lines (a URL, further paragraphs). Lines that belong to no paper
(a preamble, trailing boilerplate) are kept as `IgnoredLine`s so `kgrag check` can show them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.controls import strip_controls
from kg.errors import CorpusError
from kg.limits import check_corpus_size, max_corpus_bytes, read_bounded
from kg.paper import Corpus, IgnoredLine, Paper, PaperIds
from kg.readers.common import ReadOptions
from kg.tables import CategoryTable, OrgTable, load_category_table, load_org_table

__all__ = ["SeedReader", "load_list", "parse_corpus", "parse_list", "read_list"]

_FIELDS = {
    "date": ("发布时间", "发表时间", "date", "published"),
    "organizations": ("发表单位", "发布单位", "organization", "organizations", "affiliation"),
    "influence": ("影响力", "influence", "impact"),
    "abstract": ("摘要", "abstract"),
}
_FIELD_NAMES = {alias.casefold(): key for key, aliases in _FIELDS.items() for alias in aliases}
_FIELD_LINE = re.compile(r"^\s*([^:：]{1,20}?)\s*[:：]\s*(.*)$")
_DATE = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*月?$")
_PARAGRAPH_END = re.compile(r"[。．.!！?？)）\]」”\"]$")
_MIN_PARAGRAPH = 20
_REQUIRED = ("date", "organizations", "influence")
_FIELD_LABEL = {"date": "发布时间", "organizations": "发表单位", "influence": "影响力"}
# What the reader's sniff looks for: two field lines make a paper list.
_FIELD = re.compile(r"^\s*(发布时间|发表单位|影响力|摘要|Date|Organization|Influence)\s*[:：]",
                    re.MULTILINE)  # fmt: skip


class SeedReader:
    name: str = "seed"
    extensions: tuple[str, ...] = (".txt",)

    def sniff(self, text: str) -> bool:
        return len(_FIELD.findall(text)) >= 2

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        return parse_corpus(text, source).papers


def parse_corpus(
    text: str,
    source: Path | str = "<text>",
    orgs: OrgTable | None = None,
    categories: CategoryTable | None = None,
) -> Corpus:
    """Parse paper-list text. The returned corpus's sha256 is of the text."""
    return _Parser(Path(source), orgs or load_org_table(), categories or load_category_table()).run(
        text
    )


def read_list(path: Path) -> bytes:
    """The bytes of the paper list (or library) at `path`: a regular file within
    `KGRAG_MAX_CORPUS_MB` (`kg.limits.read_bounded`: a FIFO or /dev/zero cannot hang it);
    `CorpusError` when it cannot be read."""
    limit = max_corpus_bytes()
    try:
        return read_bounded(path, limit, check_corpus_size)
    except OSError as exc:
        raise CorpusError(path, None, f"cannot read the corpus ({exc.strerror or exc}).") from exc


def parse_list(
    data: bytes,
    path: Path,
    orgs: OrgTable | None = None,
    categories: CategoryTable | None = None,
) -> Corpus:
    """A paper list's bytes as a corpus (control characters removed); its sha256 is of `data`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(path, None, "the corpus is not UTF-8 text.") from exc
    # control characters are never text; exports would be invalid XML
    corpus = parse_corpus(strip_controls(text)[0], path, orgs, categories)
    return Corpus(
        path, hashlib.sha256(data).hexdigest(), corpus.papers, corpus.ignored,
        corpus.unknown_organizations,
    )  # fmt: skip


def load_list(
    path: Path, orgs: OrgTable | None = None, categories: CategoryTable | None = None
) -> Corpus:
    """Read and parse the paper list at `path`; `CorpusError` naming the line on any malformed
    entry. (`kg.corpus.load_corpus` reads a library as well.)"""
    return parse_list(read_list(path), path, orgs, categories)


@dataclass
class _Draft:
    title: str
    line: int
    category: str
    category_label: str
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    abstract_open: bool = False
    abstract_spans: list[tuple[int, int]] = field(default_factory=list)


class _Parser:
    def __init__(self, source: Path, orgs: OrgTable, categories: CategoryTable) -> None:
        self.source = source
        self.orgs = orgs
        self.categories = categories
        self.papers: list[Paper] = []
        self.ignored: list[IgnoredLine] = []
        self.unknown: list[tuple[int, str]] = []
        self.ids = PaperIds()
        self.category: tuple[str, str] | None = None
        self.draft: _Draft | None = None

    def run(self, text: str) -> Corpus:
        lines = text.splitlines()
        for index, raw in enumerate(lines):
            self._line(index + 1, raw.strip(), lines, index)
        self._close()
        if not self.papers:
            raise CorpusError(self.source, None, "no paper entries found (a title line followed "
                              "by 发布时间:/发表单位:/影响力:/摘要: fields).")  # fmt: skip
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return Corpus(self.source, digest, tuple(self.papers), tuple(self.ignored),
                      tuple(self.unknown))  # fmt: skip

    def _line(self, number: int, line: str, lines: list[str], index: int) -> None:
        if not line:
            return
        heading = self.categories.lookup(line)
        if heading is not None:
            self._close()
            self.category = (heading.key, line)
            return
        fld = _field(line)
        if fld is not None:
            self._field(number, *fld)
            return
        previous_blank = index == 0 or not lines[index - 1].strip()
        if _next_is_field(lines, index):
            self._start(number, line)
        elif self.draft and self.draft.abstract_open and _continues(line, previous_blank):
            sep = "\n" if previous_blank else " "
            joined = (self.draft.values["abstract"] + sep + line).strip()
            self.draft.values["abstract"] = joined
            self.draft.abstract_spans.append((len(joined) - len(line), number))
        else:
            reason = (
                "before the first paper"
                if not self.papers and not self.draft
                else "not part of a paper entry"
            )
            self.ignored.append(IgnoredLine(number, line, reason))
            if self.draft:
                self.draft.abstract_open = False

    def _start(self, number: int, title: str) -> None:
        self._close()
        if self.category is None:
            raise CorpusError(self.source, number, f"paper {title!r} comes before any category "
                              "heading (基座, 对齐, agent, 端侧, 多模态).")  # fmt: skip
        self.draft = _Draft(title, number, *self.category)

    def _field(self, number: int, key: str, value: str) -> None:
        if self.draft is None:
            raise CorpusError(self.source, number, "field line with no paper title above it.")
        if key in self.draft.values:
            raise CorpusError(self.source, number,
                              f"{_label(key)} given twice for {self.draft.title!r}.")  # fmt: skip
        self.draft.values[key] = value.strip()
        self.draft.lines[key] = number
        self.draft.abstract_open = key == "abstract"
        if key == "abstract":
            self.draft.abstract_spans.append((0, number))

    def _close(self) -> None:
        draft, self.draft = self.draft, None
        if draft is None:
            return
        missing = [_FIELD_LABEL[k] for k in _REQUIRED if not draft.values.get(k)]
        if missing:
            raise CorpusError(self.source, draft.line,
                              f"paper {draft.title!r} is missing {', '.join(missing)}.")  # fmt: skip
        date = _parse_date(draft.values["date"])
        if date is None:
            raise CorpusError(self.source, draft.lines["date"],
                              f"date {draft.values['date']!r} is not YYYY.MM.")  # fmt: skip
        raw_orgs = draft.values["organizations"]
        orgs, unknown = self.orgs.split(raw_orgs)
        self.unknown.extend((draft.lines["organizations"], u) for u in unknown)
        self.papers.append(
            Paper(
                id=self.ids.for_title(draft.title),
                title=draft.title,
                date=date,
                organizations=orgs,
                category=draft.category,
                category_label=draft.category_label,
                influence=draft.values["influence"],
                abstract=draft.values.get("abstract", ""),
                source=str(self.source),
                line=draft.line,
                organizations_raw=raw_orgs,
                org_line=draft.lines["organizations"],
                influence_line=draft.lines["influence"],
                abstract_line=draft.lines.get("abstract", 0),
                abstract_spans=tuple(draft.abstract_spans),
            )
        )


def _field(line: str) -> tuple[str, str] | None:
    match = _FIELD_LINE.match(line)
    if not match:
        return None
    key = _FIELD_NAMES.get(match.group(1).strip().casefold())
    return (key, match.group(2)) if key else None


def _next_is_field(lines: list[str], index: int) -> bool:
    # Walk by index: slicing `lines[index + 1:]` copied the rest of the list for every line,
    # which made parsing quadratic in the length of the list.
    for position in range(index + 1, len(lines)):
        following = lines[position].strip()
        if following:
            return _field(following) is not None
    return False


def _continues(line: str, previous_blank: bool) -> bool:
    """A line directly under the abstract continues it; after a blank line only a prose paragraph does."""
    if not previous_blank:
        return True
    return len(line) >= _MIN_PARAGRAPH and bool(_PARAGRAPH_END.search(line))


def _parse_date(value: str) -> str | None:
    match = _DATE.match(value.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def _label(key: str) -> str:
    return _FIELD_LABEL.get(key, "摘要")

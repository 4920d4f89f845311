"""Parse a paper list (the shipped `data/ai_papers_2023.txt` format) into `Paper` records.

The format: a category heading line (基座, 对齐, agent, 端侧, 多模态, …), then per paper an
English title line followed by `发布时间:`, `发表单位:`, `影响力:` and `摘要:` fields. An abstract
may continue on following lines (a URL, further paragraphs). Lines that belong to no paper
(a preamble, trailing boilerplate) are kept as `IgnoredLine`s so `kgrag check` can show them.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import CorpusError
from kg.limits import check_corpus_size, max_corpus_bytes, read_bounded
from kg.paths import user_corpus_path, user_library_path
from kg.tables import DATA_DIR, CategoryTable, OrgTable, load_category_table, load_org_table

__all__ = [
    "Corpus",
    "IgnoredLine",
    "Paper",
    "PaperIds",
    "default_corpus_path",
    "load_corpus",
    "parse_corpus",
    "slugify",
]

SHIPPED_CORPUS = DATA_DIR / "ai_papers_2023.txt"
LIBRARY_MAGIC = b'{"format": "kgrag-library'  # the first bytes of the user's library (kg.library)

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


@dataclass(frozen=True)
class Paper:
    """One paper of the list. `id` is a readable slug of the title, stable across additions."""

    id: str
    title: str
    date: str
    organizations: tuple[str, ...]
    category: str
    category_label: str
    influence: str
    abstract: str
    source: str
    line: int
    organizations_raw: str = ""
    org_line: int = 0
    influence_line: int = 0
    abstract_line: int = 0
    abstract_spans: tuple[tuple[int, int], ...] = ()
    """(offset in `abstract`, source line) for each source line the abstract is made of."""
    # Library fields (kg.readers): empty for the seed list's papers.
    authors: tuple[str, ...] = ()
    venue: str = ""
    arxiv_id: str = ""
    doi: str = ""
    url: str = ""
    keywords: tuple[str, ...] = ()
    provenance: tuple[tuple[str, str], ...] = ()
    """(field, where its value came from: `refs.bib:12 @dao2022`) for each field a reader set."""
    extra: tuple[tuple[str, str], ...] = ()
    """Fields kept verbatim to write back (`@type`, `@key`, BibTeX `pages`, `volume`, …)."""

    @property
    def short_name(self) -> str:
        """The name before the title's colon (`Code Llama`), or the whole title."""
        return short_name(self.title)


@dataclass(frozen=True)
class IgnoredLine:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    path: Path
    sha256: str
    papers: tuple[Paper, ...]
    ignored: tuple[IgnoredLine, ...] = ()
    unknown_organizations: tuple[tuple[int, str], ...] = ()

    def by_id(self) -> dict[str, Paper]:
        return {p.id: p for p in self.papers}


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


def default_corpus_path(given: Path | str | None = None, *, data_dir: Path | None = None) -> Path:
    """The paper list to use: `given` (a `--corpus` option), else `KGRAG_CORPUS`, else the user's
    library or copy in `data_dir` (default `KGRAG_DATA_DIR`; once they added papers), else the
    shipped list. The one place this fallback is decided (`rag.settings.Settings` calls it)."""
    if given is not None:
        return Path(given)
    env = os.environ.get("KGRAG_CORPUS")
    if env:
        return Path(env).expanduser()
    # Anything at these paths counts, not only a regular file: a library that became a folder,
    # a FIFO or a link to a device is then an error naming it, never silently the shipped list.
    library = user_library_path(data_dir)
    if os.path.lexists(library):  # papers added with `kgrag add` (over the list below)
        return library
    user_copy = user_corpus_path(data_dir)
    return user_copy if os.path.lexists(user_copy) else SHIPPED_CORPUS


def load_corpus(
    path: Path | str | None = None,
    orgs: OrgTable | None = None,
    categories: CategoryTable | None = None,
) -> Corpus:
    """Read and parse a paper list; raise `CorpusError` naming the line on any malformed entry."""
    path = default_corpus_path(path)
    limit = max_corpus_bytes()
    try:  # regular files only, never past the limit: a FIFO or /dev/zero cannot hang it
        data = read_bounded(path, limit, check_corpus_size)
    except OSError as exc:
        raise CorpusError(path, None, f"cannot read the corpus ({exc.strerror or exc}).") from exc
    if data.startswith(LIBRARY_MAGIC):
        from kg.library import load_library_corpus

        return load_library_corpus(path, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(path, None, "the corpus is not UTF-8 text.") from exc
    from kg.readers.common import strip_controls  # never text; exports would be invalid XML

    corpus = parse_corpus(strip_controls(text)[0], path, orgs, categories)
    return Corpus(
        path, hashlib.sha256(data).hexdigest(), corpus.papers, corpus.ignored,
        corpus.unknown_organizations,
    )  # fmt: skip


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


def short_name(title: str) -> str:
    head, sep, _ = title.partition(":")
    return head.strip() if sep and 0 < len(head.strip()) <= 40 else title.strip()


def slugify(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"['’`]", "", text)
    slug = re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "-", text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "paper"


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


class PaperIds:
    """The one maker of unique, readable paper ids (the list's parser, the readers, the library).

    A title's id is the slug of its short name, else of the whole title, else that with `-2`,
    `-3`, …; `claim(slug)` takes a slug as it is or numbered. Ids only accumulate, so each slug's
    numbering resumes where it stopped: one title repeated n times costs O(n), not O(n²).

        >>> ids = PaperIds()
        >>> [ids.for_title("Mamba: Linear-Time Sequence Modeling") for _ in range(3)]
        ['mamba', 'mamba-linear-time-sequence-modeling', 'mamba-linear-time-sequence-modeling-2']
        >>> ids.claim("mamba")
        'mamba-2'
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)
        self._next: dict[str, int] = {}  # per slug: the lowest "-n" that may still be free

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._taken

    def for_title(self, title: str) -> str:
        for candidate in (slugify(short_name(title)), slugify(title)):
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
        return self._numbered(slugify(title))

    def claim(self, slug: str) -> str:
        if slug not in self._taken:
            self._taken.add(slug)
            return slug
        return self._numbered(slug)

    def _numbered(self, base: str) -> str:
        n = self._next.get(base, 2)
        while f"{base}-{n}" in self._taken:
            n += 1
        self._next[base] = n + 1
        self._taken.add(f"{base}-{n}")
        return f"{base}-{n}"

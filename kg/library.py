"""The user's library: papers added with `kgrag add`, removed with `kgrag remove`, layered
over the paper list (the user's `corpus.txt` copy if the app made one, else the shipped list,
which is never modified).

The store is `$KGRAG_DATA_DIR/library.jsonl`, JSON Lines with a version header:

    {"format": "kgrag-library v1", "about": "…"}
    {"paper": {"id": "flashattention", "title": "…", "authors": ["Tri Dao", …], …}}
    {"removed": {"id": "llama", "title": "LLaMA: …", "keys": ["title:llama…"]}}

Why JSON Lines rather than SQLite: one paper a line, so an add or a remove shows up as a few
readable lines in a diff or an editor; the standard library reads and writes it; the header
carries the format version; and a whole-file rewrite (10,000 papers are ~10 MB) replaced with
one `os.replace` is atomic, which is all the transaction this store needs.

A `paper` line is either a new paper or what a file brought to a paper of the list (its
authors, DOI, …): the corpus is the list's papers minus the `removed` ones, each merged with
its line (the list's values win; a conflict was reported when it was added), then the new
papers. Identity: the same arXiv id, DOI, or normalised title (`kg.readers.common.title_key`).

`kgrag edit` (`edit_paper`) sets a paper's organisations, category or date: the values go on
its line with the provenance `"edited"`, and an edited field wins over the list's value (the
list itself is never modified) and over what a later `kgrag add` offers (a conflict).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kg.authors import name_key
from kg.corpus import SHIPPED_CORPUS, Corpus, Paper, PaperIds, load_corpus, short_name, slugify
from kg.errors import (
    CorpusError,
    InvalidFieldError,
    KgragError,
    LibraryError,
    UnknownNameError,
    WriteError,
)
from kg.fsutil import atomic_write_text
from kg.limits import check_added_size, check_corpus_size, max_corpus_bytes, read_bounded
from kg.paths import user_corpus_path, user_library_path
from kg.readers import ReadOptions, ReadResult, read_source
from kg.readers.common import clean_paper, parse_json, strip_controls, title_key
from kg.tables import load_category_table, load_org_table

__all__ = [
    "LIBRARY_FORMAT",
    "AddReport",
    "Conflict",
    "EDITED",
    "EditReport",
    "FieldChange",
    "Library",
    "PaperEdit",
    "Merge",
    "Outcome",
    "RemoveReport",
    "Removal",
    "add_files",
    "compose",
    "edit_paper",
    "identity_keys",
    "library_base",
    "load_library",
    "load_library_corpus",
    "merge_papers",
    "remove_papers",
]

LIBRARY_FORMAT = "kgrag-library v1"
_ABOUT = ("kgrag's library: papers added with `kgrag add` (one JSON object a line), layered over "
          "the paper list. Change it with `kgrag add`, `kgrag edit` and `kgrag remove`.")  # fmt: skip
# Fields a merge fills when empty and reports when different (the title is the identity).
_SCALARS = ("date", "venue", "arxiv_id", "doi", "url", "abstract", "influence", "category")
EDITED = "edited"  # the provenance of a field set with `kgrag edit`: it wins over the list's
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Removal:
    """A paper of the list the user removed; `keys` let a later `kgrag add` bring it back."""

    id: str
    title: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    path: Path
    papers: tuple[Paper, ...] = ()
    removed: tuple[Removal, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """`field` differs: the library keeps `kept`; the file offered `offered` (from `source`)."""

    field: str
    kept: str
    offered: str
    source: str


@dataclass(frozen=True)
class Merge:
    paper: Paper
    filled: tuple[str, ...]
    conflicts: tuple[Conflict, ...]


@dataclass(frozen=True)
class Outcome:
    """What happened to one entry: `added`, `merged`, `unchanged` or `rejected`."""

    action: str
    id: str
    title: str
    source: str
    filled: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class AddReport:
    path: Path
    dry_run: bool
    files: tuple[tuple[Path, str, int], ...]  # (file, format, entries)
    outcomes: tuple[Outcome, ...]
    corpus: Corpus
    notes: tuple[str, ...] = ()
    """What reading changed, per entry: `refs.bib:12 @x: removed 2 control characters (title 2)`
    (each is also its outcome's `reason`)."""

    def of(self, action: str) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.action == action)


@dataclass(frozen=True)
class RemoveReport:
    path: Path
    removed: tuple[Paper, ...]
    corpus: Corpus


@dataclass(frozen=True)
class PaperEdit:
    """What `kgrag edit` sets; None leaves a field as it is. `organizations`: any aliases,
    separated as in a list (`,` `、` `和`); `category`: any alias of `data/categories.json`;
    `date`: `YYYY-MM` (or `YYYY`)."""

    organizations: str | None = None
    category: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class FieldChange:
    """`field` went from `old` to `new` (organisations as tuples, the rest as text)."""

    field: str
    old: str | tuple[str, ...]
    new: str | tuple[str, ...]


@dataclass(frozen=True)
class EditReport:
    """The paper as it is now, what changed (nothing: nothing was written), and the corpus."""

    path: Path
    paper: Paper
    changes: tuple[FieldChange, ...]
    corpus: Corpus


# --- identity and merging ---------------------------------------------------------------


def identity_keys(paper: Paper) -> tuple[str, ...]:
    """`arxiv:…`, `doi:…` and `title:…`: a paper arriving with any of these is the same paper."""
    keys = [f"arxiv:{paper.arxiv_id.casefold()}"] if paper.arxiv_id else []
    keys += [f"doi:{paper.doi.casefold()}"] if paper.doi else []
    return (*keys, f"title:{title_key(paper.title)}")


def merge_papers(old: Paper, new: Paper) -> Merge:
    """`old` with what `new` adds: empty fields filled, keywords joined, differences reported
    as conflicts (never overwritten)."""
    changes: dict[str, Any] = {}
    filled: list[str] = []
    conflicts: list[Conflict] = []
    where = dict(new.provenance)
    for name in (*_SCALARS, "authors", "organizations"):
        mine, theirs = getattr(old, name), getattr(new, name)
        if not theirs or _same(name, mine, theirs):
            continue
        if not mine or (name == "date" and len(mine) == 4 and theirs.startswith(mine)):
            changes.update(_fill(name, new))
            filled.append(name)
        else:
            conflicts.append(Conflict(name, _text(mine), _text(theirs),
                                      where.get(name, new.source)))  # fmt: skip
    keywords = tuple(dict.fromkeys((*old.keywords, *new.keywords)))
    if keywords != old.keywords:
        changes["keywords"] = keywords
        filled.append("keywords")
    extra = dict(old.extra)
    for key, value in new.extra:
        extra.setdefault(key, value)
    if len(extra) != len(old.extra):
        changes["extra"] = tuple(sorted(extra.items()))
    if filled:
        provenance = dict(old.provenance)
        provenance.update({f: where[f] for f in filled if f in where})
        changes["provenance"] = tuple(provenance.items())
    return Merge(replace(old, **changes) if changes else old, tuple(filled), tuple(conflicts))


def _same(name: str, mine: Any, theirs: Any) -> bool:
    if name == "authors":
        return [name_key(a) for a in mine] == [name_key(a) for a in theirs]
    if name == "date":
        return bool(mine.startswith(theirs))  # "2023-07" already says what "2023" does
    if isinstance(mine, str):
        return " ".join(mine.casefold().split()) == " ".join(theirs.casefold().split())
    return bool(mine == theirs)


def _fill(name: str, new: Paper) -> dict[str, Any]:
    """The field and the ones that travel with it (the abstract's lines, the category's label)."""
    if name == "abstract":
        return {"abstract": new.abstract, "abstract_line": new.abstract_line,
                "abstract_spans": new.abstract_spans}  # fmt: skip
    if name == "category":
        return {"category": new.category, "category_label": new.category_label}
    if name == "organizations":
        return {"organizations": new.organizations, "organizations_raw": new.organizations_raw,
                "org_line": new.org_line}  # fmt: skip
    return {name: getattr(new, name)}


def _text(value: Any) -> str:
    return "; ".join(value) if isinstance(value, tuple) else str(value)


# --- the store ----------------------------------------------------------------------------


def library_base() -> Path:
    """The list the library is layered over: the app's `corpus.txt` copy, else the shipped list."""
    user_copy = user_corpus_path()
    return user_copy if user_copy.is_file() else SHIPPED_CORPUS


def load_library(path: Path | None = None, data: bytes | None = None) -> Library:
    """The library at `path` (default: the user's); an empty one if there is no file yet.

    Every line is checked (a hand edit may have broken one): a line that is not a library
    record of the right shape is a `LibraryError` naming the line and its entry."""
    path = path or user_library_path()
    if data is None:
        try:
            data = _read_library(path)
        except FileNotFoundError:
            return Library(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data[: exc.start].count(b"\n") + 1
        raise LibraryError(f"{path}:{number}: is not UTF-8 text. {_FIX}") from exc
    papers: list[Paper] = []
    removed: list[Removal] = []
    seen: dict[str, int] = {}  # paper id → its line: two lines of one id, one would be lost
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        record = _record(path, number, line)
        if isinstance(record, Removal):
            removed.append(record)
        elif isinstance(record, Paper):
            if record.id in seen:
                raise LibraryError(f"{path}:{number}: entry {record.id!r}: line {seen[record.id]} "
                                   "has the same id. Merge the two lines into one, or delete "
                                   "one.")  # fmt: skip
            seen[record.id] = number
            papers.append(record)
    return Library(path, tuple(papers), tuple(removed))


_FIX = "Fix or delete that line (each line is one paper; adding its file again brings it back)."


def _read_library(path: Path) -> bytes:
    """The library's bytes: a regular file within the paper-list limit (`kg.limits`)."""
    try:
        return read_bounded(path, max_corpus_bytes(), check_corpus_size)
    except FileNotFoundError:
        raise  # no library yet: the caller decides what that means
    except OSError as exc:
        raise LibraryError(f"cannot read {path} ({exc.strerror or exc}).") from exc
    except CorpusError as exc:
        raise LibraryError(f"{exc} Move it away; `kgrag add` then starts a new library.") from exc


def _record(path: Path, number: int, line: str) -> Paper | Removal | None:
    """One line of the library: the header (None), a paper, or a removal."""
    try:
        record = parse_json(line)
        if number == 1:
            _check_header(record)
            return None
        if not isinstance(record, dict) or set(record) not in ({"paper"}, {"removed"}):
            raise ValueError('not {"paper": {…}} or {"removed": {…}}')
        if "paper" in record:
            return paper_from_json(record["paper"])
        return removal_from_json(record["removed"])
    except ValueError as exc:
        raise LibraryError(f"{path}:{number}: {_entry_name(line)}not a library record ({exc}). "
                           f"{_FIX}") from exc  # fmt: skip


def _check_header(record: object) -> None:
    found = record.get("format") if isinstance(record, dict) else None
    if found != LIBRARY_FORMAT:
        raise ValueError(f"format {found!r} is not {LIBRARY_FORMAT}")


def _entry_name(line: str) -> str:
    """`entry 'mamba': ` when the line's id (else title) can be read, for the error message."""
    try:
        record = parse_json(line)
        body = next(iter(record.values())) if isinstance(record, dict) and record else None
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    names = (body.get(k) for k in ("id", "title"))
    name = next((n for n in names if isinstance(n, str) and n.strip()), "")
    return f"entry {strip_controls(name)[0][:80]!r}: " if name else ""


def load_library_corpus(path: Path, data: bytes | None = None) -> Corpus:
    """The corpus the library at `path` stands for (what `kg.corpus.load_corpus` returns)."""
    data = _read_library(path) if data is None else data
    library = load_library(path, data)
    return compose(load_corpus(library_base()), library, hashlib.sha256(data))


def compose(base: Corpus, library: Library, digest: Any = None) -> Corpus:
    """The list's papers minus the removed ones, each merged with its library line, then the
    library's new papers (ids kept; made unique should the list have grown one)."""
    removed = {r.id for r in library.removed}
    papers = {p.id: p for p in base.papers if p.id not in removed}
    by_key = {k: p.id for p in papers.values() for k in identity_keys(p)}
    added: list[Paper] = []
    for record in library.papers:
        target = record.id if record.id in papers else _match(record, by_key)
        if target is not None:
            papers[target] = _edited(merge_papers(papers[target], record).paper, record)
        elif record.id not in {p.id for p in base.papers}:
            added.append(record)
    ids = PaperIds(papers)
    for record in added:
        unique = ids.claim(record.id)
        papers[unique] = replace(record, id=unique) if unique != record.id else record
    digest = digest or hashlib.sha256()
    digest.update(base.sha256.encode())
    return Corpus(library.path, digest.hexdigest(), tuple(papers.values()), base.ignored,
                  base.unknown_organizations)  # fmt: skip


def _edited(paper: Paper, record: Paper) -> Paper:
    """`paper` with the fields its library line was edited to (`kgrag edit`): those win over
    the list's values, which a merge keeps."""
    fields = [name for name, where in record.provenance if where == EDITED]
    if not fields:
        return paper
    changes: dict[str, Any] = {}
    for name in fields:
        changes.update(_fill(name, record))
    provenance = dict(paper.provenance) | dict.fromkeys(fields, EDITED)
    return replace(paper, **changes, provenance=tuple(provenance.items()))


def _match(paper: Paper, by_key: dict[str, str]) -> str | None:
    return next((by_key[k] for k in identity_keys(paper) if k in by_key), None)


def library_text(library: Library) -> str:
    """The library file's text: the header, then one line per paper, then one per removal."""
    lines = [json.dumps({"format": LIBRARY_FORMAT, "about": _ABOUT}, ensure_ascii=False)]
    lines += [json.dumps({"paper": paper_to_json(p)}, ensure_ascii=False) for p in library.papers]
    lines += [json.dumps({"removed": {"id": r.id, "title": r.title, "keys": list(r.keys)}},
                         ensure_ascii=False) for r in library.removed]  # fmt: skip
    return "\n".join(lines) + "\n"


def save_library(library: Library) -> None:
    """Write the library atomically: a new file in the same folder, fsynced, then one rename.
    An interruption (an error, Ctrl-C) before the rename leaves the old file as it was."""
    path = library.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LibraryError(f"cannot write {path} ({exc.strerror or exc}).") from exc
    try:
        atomic_write_text(path, library_text(library))  # kg.fsutil: regular files only
    except WriteError as exc:
        raise LibraryError(f"{exc} The library is unchanged.") from exc


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One `kgrag add` / `remove` at a time: each reads, changes and rewrites the whole file."""
    import fcntl

    lock = path.with_name(path.name + ".lock")
    # O_NONBLOCK: a FIFO put in the lock file's place fails to open at once instead of waiting
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # the data folder's place holds a file, or cannot be made
        raise LibraryError(f"cannot use {path.parent} as the data folder "
                           f"({exc.strerror or exc}). Point KGRAG_DATA_DIR at a folder.") from exc  # fmt: skip
    try:
        fd = os.open(lock, flags, 0o666)
    except OSError as exc:
        raise LibraryError(f"cannot lock the library with {lock} ({exc.strerror or exc}). "
                           "Remove it if it is not a file.") from exc  # fmt: skip
    with os.fdopen(fd, "w") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LibraryError(f"cannot lock the library with {lock}: it is not a regular file. "
                               "Remove it.")  # fmt: skip
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def paper_to_json(paper: Paper) -> dict[str, Any]:
    data = dataclasses.asdict(paper)
    return {k: v for k, v in data.items() if v not in ("", [], (), 0) or k in ("id", "title")}


# How each `Paper` field is stored in JSON, by its annotation: (item type, shape), the shape
# 0 for a value, 1 for a list of values, 2 for a list of pairs.
_SHAPES: dict[str, tuple[type, int]] = {
    "str": (str, 0),
    "int": (int, 0),
    "tuple[str, ...]": (str, 1),
    "tuple[tuple[str, str], ...]": (str, 2),
    "tuple[tuple[int, int], ...]": (int, 2),
}
_SHAPE_NAMES = {(str, 0): "text", (int, 0): "a whole number", (str, 1): "a list of text",
                (str, 2): "a list of [text, text] pairs",
                (int, 2): "a list of [number, number] pairs"}  # fmt: skip
_PAPER_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(Paper)}
_PAPER_DEFAULTS = {"organizations": (), "category": "", "category_label": "", "influence": "",
                   "abstract": "", "source": "", "line": 0, "date": ""}  # fmt: skip


def paper_from_json(data: object) -> Paper:
    """A `Paper` from its library JSON; `ValueError` naming the field when it is not one
    (an unknown field, a value of the wrong type). Control characters are removed, as they are
    from every file read (a library written before that may hold some)."""
    if not isinstance(data, dict):
        raise ValueError("the paper is not an object {…}")
    unknown = sorted(set(data) - set(_PAPER_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    values = {
        name: _typed(name, value, _SHAPES[_PAPER_FIELDS[name]]) for name, value in data.items()
    }
    for name in ("id", "title"):
        if not str(values.get(name, "")).strip():
            raise ValueError(f"field {name!r} is missing or empty")
    paper, _removed = clean_paper(Paper(**{**_PAPER_DEFAULTS, **values}))
    return paper


def removal_from_json(data: object) -> Removal:
    """A `Removal` from its library JSON (`{"id", "title", "keys"}`); `ValueError` if not one."""
    shapes = {"id": (str, 0), "title": (str, 0), "keys": (str, 1)}
    if not isinstance(data, dict) or set(data) != set(shapes):
        raise ValueError('a removal is {"id": …, "title": …, "keys": […]}')
    values = {name: _typed(name, data[name], shape) for name, shape in shapes.items()}
    keys = tuple(strip_controls(k)[0] for k in values["keys"])
    return Removal(strip_controls(values["id"])[0], strip_controls(values["title"])[0], keys)


def _typed(name: str, value: object, shape: tuple[type, int]) -> Any:
    """`value` as the field stores it (lists as tuples), or `ValueError` naming the field."""
    if not _fits(value, *shape):
        raise ValueError(f"field {name!r} is not {_SHAPE_NAMES[shape]}")
    if shape[1] == 0:
        return value
    return tuple(tuple(v) if isinstance(v, list) else v for v in value)  # type: ignore[attr-defined]


def _fits(value: object, kind: type, shape: int) -> bool:
    if shape == 0:
        return isinstance(value, kind) and not isinstance(value, bool)
    if not isinstance(value, list):
        return False
    if shape == 1:
        return all(_fits(v, kind, 0) for v in value)
    return all(isinstance(v, list) and len(v) == 2 and _fits(v, kind, 1) for v in value)


# --- add and remove -----------------------------------------------------------------------


@dataclass
class _State:
    """The corpus being changed: papers by id, identity keys, the library's own lines."""

    base: Corpus
    library: Library
    papers: dict[str, Paper] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    records: dict[str, Paper] = field(default_factory=dict)
    removed: dict[str, Removal] = field(default_factory=dict)
    ids: PaperIds = field(default_factory=PaperIds)

    def __post_init__(self) -> None:
        corpus = compose(self.base, self.library)
        self.papers = corpus.by_id()
        self.records = {p.id: p for p in self.library.papers}
        self.removed = {r.id: r for r in self.library.removed}
        self.ids = PaperIds([*self.papers, *(p.id for p in self.base.papers)])
        for paper in corpus.papers:
            self._index(paper)
        for removal in self.library.removed:
            self.by_key.update({k: removal.id for k in removal.keys})

    def _index(self, paper: Paper) -> None:
        for key in identity_keys(paper):
            self.by_key.setdefault(key, paper.id)

    def add(self, paper: Paper, note: str = "") -> Outcome:
        """What happens to `paper`; `note` (what reading it changed) is added to the reason."""
        outcome = self._add(paper)
        reason = "; ".join(r for r in (outcome.reason, note) if r)
        return replace(outcome, reason=reason) if note else outcome

    def _add(self, paper: Paper) -> Outcome:
        where = _where(paper)
        targets = list(
            dict.fromkeys(self.by_key[k] for k in identity_keys(paper) if k in self.by_key)
        )
        if len(targets) > 1:
            return Outcome("rejected", "", paper.title, where, reason="its identifiers match "
                           f"different papers ({', '.join(targets)}); fix the entry's arXiv id, "
                           "DOI or title.")  # fmt: skip
        if not targets:
            new = replace(paper, id=self.ids.claim(slugify(short_name(paper.title))))
            self.records[new.id] = new
            self.papers[new.id] = new
            self._index(new)
            return Outcome("added", new.id, new.title, where)
        target = targets[0]
        if target in self.removed:  # removed before, now back: the list's paper with the file's
            del self.removed[target]
            base = next(p for p in self.base.papers if p.id == target)
            self.papers[target] = merge_papers(base, paper).paper
            self._store(target, paper)
            return Outcome("added", target, base.title, where, reason="re-added after removal")
        merge = merge_papers(self.papers[target], paper)
        if not merge.filled and not merge.conflicts:
            return Outcome("unchanged", target, merge.paper.title, where)
        self.papers[target] = merge.paper
        self._store(target, paper)
        self._index(merge.paper)
        return Outcome("merged", target, merge.paper.title, where, merge.filled, merge.conflicts)

    def _store(self, target: str, paper: Paper) -> None:
        incoming = replace(paper, id=target)
        record = self.records.get(target)
        self.records[target] = merge_papers(record, incoming).paper if record else incoming

    def remove(self, paper_id: str) -> Paper:
        paper = self.papers.pop(paper_id)
        self.records.pop(paper_id, None)
        if any(p.id == paper_id for p in self.base.papers):
            self.removed[paper_id] = Removal(paper_id, paper.title, identity_keys(paper))
        return paper

    def edit(self, paper_id: str, values: dict[str, Any]) -> Paper:
        """Set `values` on the paper and on its library line (made if the list's paper has
        none), each field's provenance `edited`."""
        fields: dict[str, str] = {
            n: EDITED for n in ("organizations", "category", "date") if n in values
        }
        paper = self.papers[paper_id]
        record = self.records.get(paper_id) or _bare_record(paper)
        self.papers[paper_id] = _with(paper, values, fields)
        self.records[paper_id] = _with(record, values, fields)
        return self.papers[paper_id]

    def result(self) -> Library:
        return Library(self.library.path, tuple(self.records.values()),
                       tuple(self.removed.values()))  # fmt: skip


def _with(paper: Paper, values: dict[str, Any], provenance: dict[str, str]) -> Paper:
    merged = tuple((dict(paper.provenance) | provenance).items())
    return replace(paper, **values, provenance=merged)


def _bare_record(paper: Paper) -> Paper:
    """A library line for a paper of the list that has none: its id and title (its identity),
    nothing else, so that only the fields an edit sets are on it."""
    return Paper(paper.id, paper.title, "", (), "", "", "", "", "", 0)


def _where(paper: Paper) -> str:
    title_source = dict(paper.provenance).get("title")
    return title_source or f"{Path(paper.source).name}:{paper.line}"


def add_files(
    paths: Sequence[Path | str],
    fmt: str = "auto",
    options: ReadOptions | None = None,
    dry_run: bool = False,
    library_path: Path | None = None,
    names: Sequence[str] | None = None,
) -> AddReport:
    """Read every file (any malformed one: `ReaderError`, nothing added), then add, merge or
    reject each entry and write the library once, atomically (not at all with `dry_run`).
    A library that would grow past the paper-list limit is a `LimitError`, dry run or not,
    and nothing is written. `names` (one per path) are what the papers' `source` records
    instead of the paths: an upload's own file name, not the temporary copy read."""
    shown = list(names) if names is not None else [None] * len(paths)
    results = [
        read_source(p, fmt=fmt, options=options, name=n) for p, n in zip(paths, shown, strict=True)
    ]
    path = library_path or user_library_path()
    entries = [(paper, note) for result in results for paper, note in _with_notes(result)]
    with _locked(path):
        state = _State(load_corpus(library_base()), load_library(path))
        outcomes = [state.add(paper, note) for paper, note in entries]
        library = state.result()
        corpus = compose(state.base, library)
        if any(o.action in ("added", "merged") for o in outcomes):
            # measured as every command measures the library it reads (kg.corpus.load_corpus)
            check_added_size(path, len(library_text(library).encode("utf-8")))
            if not dry_run:
                save_library(library)
    files = tuple((r.path, r.format, len(r.papers)) for r in results)
    notes = tuple(f"{_where(paper)}: {note}" for paper, note in entries if note)
    return AddReport(path, dry_run, files, tuple(outcomes), corpus, notes)


def _with_notes(result: ReadResult) -> list[tuple[Paper, str]]:
    """Each paper read, with what reading it changed ("" if nothing)."""
    notes = dict(result.notes)
    return [(paper, notes.get(paper.id, "")) for paper in result.papers]


def remove_papers(
    ids: Iterable[str], dry_run: bool = False, library_path: Path | None = None
) -> RemoveReport:
    """Remove papers by id (`kgrag papers` shows them): an unknown id is an error and nothing
    is removed. Papers of the list are hidden (the list itself is never modified)."""
    path = library_path or user_library_path()
    with _locked(path):
        state = _State(load_corpus(library_base()), load_library(path))
        wanted = list(dict.fromkeys(ids))
        for paper_id in wanted:
            if paper_id not in state.papers:
                close = difflib.get_close_matches(paper_id, list(state.papers), n=3)
                raise UnknownNameError(paper_id, close)
        removed = tuple(state.remove(i) for i in wanted)
        library = state.result()
        if removed and not dry_run:
            save_library(library)
    return RemoveReport(path, removed, compose(state.base, library))


# --- edit ---------------------------------------------------------------------------------


def edit_paper(
    paper_id: str, edit: PaperEdit, dry_run: bool = False, library_path: Path | None = None
) -> EditReport:
    """Set a paper's organisations, category or date (`kgrag edit`), written to its library
    line with the provenance `edited`; the list is never modified. An unknown id
    (`UnknownNameError`), an unknown category or a malformed date (`InvalidFieldError`) is an
    error and nothing is written; values equal to the paper's write nothing either."""
    values = _edit_values(edit)  # every value checked before the library is read
    path = library_path or user_library_path()
    with _locked(path):
        state = _State(load_corpus(library_base()), load_library(path))
        if paper_id not in state.papers:
            close = difflib.get_close_matches(paper_id, list(state.papers), n=3)
            raise UnknownNameError(paper_id, close)
        changes = _changes(state.papers[paper_id], values)
        if changes:
            state.edit(paper_id, {k: values[k] for c in changes for k in _TRAVELS[c.field]})
            library = state.result()
            check_added_size(path, len(library_text(library).encode("utf-8")))
            if not dry_run:
                save_library(library)
        corpus = compose(state.base, state.result())
    return EditReport(path, state.papers[paper_id], changes, corpus)


# The fields an edit sets with each field it changes (what `_fill` copies with it).
_TRAVELS = {"organizations": ("organizations", "organizations_raw", "org_line"),
            "category": ("category", "category_label"), "date": ("date",)}  # fmt: skip


def _edit_values(edit: PaperEdit) -> dict[str, Any]:
    """The `Paper` fields an edit sets, each checked (`InvalidFieldError` names the bad one)."""
    values: dict[str, Any] = {}
    if edit.organizations is not None:
        names, _unknown = load_org_table().split(edit.organizations)  # unknown ones kept
        if not names:
            raise InvalidFieldError("organisation", edit.organizations,
                                    "an organisation (any alias: 谷歌, Google, …)")  # fmt: skip
        values.update(organizations=names, organizations_raw=edit.organizations.strip(),
                      org_line=0)  # fmt: skip
    if edit.category is not None:
        found = load_category_table().lookup(edit.category)
        if found is None:
            choices = ", ".join(f"{c.label_zh} ({c.key})" for c in load_category_table().categories)
            raise InvalidFieldError("category", edit.category,
                                    f"a category of data/categories.json: {choices}")  # fmt: skip
        values.update(category=found.key, category_label=found.label_zh)
    if edit.date is not None:
        values["date"] = _edit_date(edit.date)
    if not values:
        raise KgragError("nothing to edit: give an organisation, a category or a date.")
    return values


def _edit_date(value: str) -> str:
    match = _DATE.match(value.strip())
    if match is None or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
        raise InvalidFieldError("date", value, "YYYY-MM (a month 01-12) or a year YYYY")
    return match.group(0)


def _changes(paper: Paper, values: dict[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(paper, name), values[name])
        for name in ("organizations", "category", "date")
        if name in values and getattr(paper, name) != values[name]
    )

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
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kg.authors import name_key
from kg.corpus import SHIPPED_CORPUS, Corpus, Paper, load_corpus, short_name, slugify
from kg.errors import LibraryError, UnknownNameError, WriteError
from kg.fsutil import atomic_write_text
from kg.paths import user_corpus_path, user_library_path
from kg.readers import ReadOptions, read_source
from kg.readers.common import title_key

__all__ = [
    "LIBRARY_FORMAT",
    "AddReport",
    "Conflict",
    "Library",
    "Merge",
    "Outcome",
    "RemoveReport",
    "Removal",
    "add_files",
    "compose",
    "identity_keys",
    "library_base",
    "load_library",
    "load_library_corpus",
    "merge_papers",
    "remove_papers",
]

LIBRARY_FORMAT = "kgrag-library v1"
_ABOUT = ("kgrag's library: papers added with `kgrag add` (one JSON object a line), layered over "
          "the paper list. Edit with `kgrag add` / `kgrag remove`.")  # fmt: skip
# Fields a merge fills when empty and reports when different (the title is the identity).
_SCALARS = ("date", "venue", "arxiv_id", "doi", "url", "abstract", "influence", "category")
_TUPLE_FIELDS = {"organizations", "authors", "keywords"}
_PAIR_FIELDS = {"abstract_spans", "provenance", "extra"}


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

    def of(self, action: str) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.action == action)


@dataclass(frozen=True)
class RemoveReport:
    path: Path
    removed: tuple[Paper, ...]
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
    """The library at `path` (default: the user's); an empty one if there is no file yet."""
    path = path or user_library_path()
    if data is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Library(path)
        except OSError as exc:
            raise LibraryError(f"cannot read {path} ({exc.strerror or exc}).") from exc
    papers: list[Paper] = []
    removed: list[Removal] = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if number == 1:
                if record.get("format") != LIBRARY_FORMAT:
                    raise ValueError(f"format {record.get('format')!r} is not {LIBRARY_FORMAT}")
            elif "paper" in record:
                papers.append(paper_from_json(record["paper"]))
            else:
                removed.append(Removal(**{**record["removed"],
                                          "keys": tuple(record["removed"]["keys"])}))  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LibraryError(f"{path}:{number}: not a library record ({exc}). Fix or delete "
                               "that line (each line is one paper).") from exc  # fmt: skip
    return Library(path, tuple(papers), tuple(removed))


def load_library_corpus(path: Path, data: bytes | None = None) -> Corpus:
    """The corpus the library at `path` stands for (what `kg.corpus.load_corpus` returns)."""
    library = load_library(path, data)
    digest = hashlib.sha256(data if data is not None else path.read_bytes())
    return compose(load_corpus(library_base()), library, digest)


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
            papers[target] = merge_papers(papers[target], record).paper
        elif record.id not in {p.id for p in base.papers}:
            added.append(record)
    ids = set(papers)
    for record in added:
        unique = _unique_id(record.id, ids)
        papers[unique] = replace(record, id=unique) if unique != record.id else record
    digest = digest or hashlib.sha256()
    digest.update(base.sha256.encode())
    return Corpus(library.path, digest.hexdigest(), tuple(papers.values()), base.ignored,
                  base.unknown_organizations)  # fmt: skip


def _match(paper: Paper, by_key: dict[str, str]) -> str | None:
    return next((by_key[k] for k in identity_keys(paper) if k in by_key), None)


def _unique_id(wanted: str, taken: set[str]) -> str:
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    taken.add(candidate)
    return candidate


def save_library(library: Library) -> None:
    """Write the library atomically: a new file in the same folder, fsynced, then one rename.
    An interruption (an error, Ctrl-C) before the rename leaves the old file as it was."""
    lines = [json.dumps({"format": LIBRARY_FORMAT, "about": _ABOUT}, ensure_ascii=False)]
    lines += [json.dumps({"paper": paper_to_json(p)}, ensure_ascii=False) for p in library.papers]
    lines += [json.dumps({"removed": {"id": r.id, "title": r.title, "keys": list(r.keys)}},
                         ensure_ascii=False) for r in library.removed]  # fmt: skip
    path = library.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LibraryError(f"cannot write {path} ({exc.strerror or exc}).") from exc
    try:
        atomic_write_text(path, "\n".join(lines) + "\n")  # kg.fsutil: regular files only
    except WriteError as exc:
        raise LibraryError(f"{exc} The library is unchanged.") from exc


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One `kgrag add` / `remove` at a time: each reads, changes and rewrites the whole file."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def paper_to_json(paper: Paper) -> dict[str, Any]:
    data = dataclasses.asdict(paper)
    return {k: v for k, v in data.items() if v not in ("", [], (), 0) or k in ("id", "title")}


def paper_from_json(data: dict[str, Any]) -> Paper:
    values = dict(data)
    for name in _TUPLE_FIELDS & values.keys():
        values[name] = tuple(values[name])
    for name in _PAIR_FIELDS & values.keys():
        values[name] = tuple(tuple(pair) for pair in values[name])
    defaults = {"organizations": (), "category": "", "category_label": "", "influence": "",
                "abstract": "", "source": "", "line": 0, "date": ""}  # fmt: skip
    return Paper(**{**defaults, **values})


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
    ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        corpus = compose(self.base, self.library)
        self.papers = corpus.by_id()
        self.records = {p.id: p for p in self.library.papers}
        self.removed = {r.id: r for r in self.library.removed}
        self.ids = set(self.papers) | {p.id for p in self.base.papers}
        for paper in corpus.papers:
            self._index(paper)
        for removal in self.library.removed:
            self.by_key.update({k: removal.id for k in removal.keys})

    def _index(self, paper: Paper) -> None:
        for key in identity_keys(paper):
            self.by_key.setdefault(key, paper.id)

    def add(self, paper: Paper) -> Outcome:
        where = _where(paper)
        targets = list(
            dict.fromkeys(self.by_key[k] for k in identity_keys(paper) if k in self.by_key)
        )
        if len(targets) > 1:
            return Outcome("rejected", "", paper.title, where, reason="its identifiers match "
                           f"different papers ({', '.join(targets)}); fix the entry's arXiv id, "
                           "DOI or title.")  # fmt: skip
        if not targets:
            new = replace(paper, id=_unique_id(slugify(short_name(paper.title)), self.ids))
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

    def result(self) -> Library:
        return Library(self.library.path, tuple(self.records.values()),
                       tuple(self.removed.values()))  # fmt: skip


def _where(paper: Paper) -> str:
    title_source = dict(paper.provenance).get("title")
    return title_source or f"{Path(paper.source).name}:{paper.line}"


def add_files(
    paths: Sequence[Path | str],
    fmt: str = "auto",
    options: ReadOptions | None = None,
    dry_run: bool = False,
    library_path: Path | None = None,
) -> AddReport:
    """Read every file (any malformed one: `ReaderError`, nothing added), then add, merge or
    reject each entry and write the library once, atomically (not at all with `dry_run`)."""
    results = [read_source(p, fmt=fmt, options=options) for p in paths]
    path = library_path or user_library_path()
    with _locked(path):
        state = _State(load_corpus(library_base()), load_library(path))
        outcomes = [state.add(paper) for result in results for paper in result.papers]
        library = state.result()
        corpus = compose(state.base, library)
        changed = any(o.action in ("added", "merged") for o in outcomes)
        if changed and not dry_run:
            save_library(library)
    files = tuple((r.path, r.format, len(r.papers)) for r in results)
    return AddReport(path, dry_run, files, tuple(outcomes), corpus)


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

"""Adding and removing papers (`kgrag add`, `kgrag remove`): every change reads the library
over its list (`LibraryState`), changes it in memory and writes it once, atomically, holding
the library's lock; a dry run writes nothing. A paper of the list is never modified: removing it
hides it, adding to it merges (`kg.library.merge`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kg.errors import ReaderError, UnknownNameError
from kg.library.documents import keep_documents, with_documents
from kg.library.merge import EDITED, Conflict, compose, identity_keys, merge_papers
from kg.library.store import Library, Removal, library_text, load_library, locked, save_library
from kg.limits import check_added_size
from kg.paper import Corpus, Paper, PaperIds, short_name, slugify
from kg.paths import base_list_path, user_library_path
from kg.readers import ReadOptions, ReadResult, read_source
from kg.readers.pdf import PageProgress
from kg.readers.seed import load_list

__all__ = ["AddReport", "LibraryState", "Outcome", "RemoveReport", "add_files", "remove_papers"]


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


@dataclass
class LibraryState:
    """The corpus being changed: papers by id, identity keys, the library's own lines."""

    base: Corpus
    library: Library
    papers: dict[str, Paper] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    records: dict[str, Paper] = field(default_factory=dict)
    removed: dict[str, Removal] = field(default_factory=dict)
    ids: PaperIds = field(default_factory=PaperIds)

    @classmethod
    def open(cls, path: Path) -> LibraryState:
        """The library at `path` over the list it is layered on (read it holding `locked`)."""
        return cls(load_list(base_list_path()), load_library(path))

    def __post_init__(self) -> None:
        corpus = compose(self.base, self.library)
        self.papers = dict(corpus.by_id())  # changed below: a copy of the shared index
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

    def require(self, paper_id: str) -> None:
        """`UnknownNameError` naming the closest ids unless the corpus has `paper_id`."""
        if paper_id not in self.papers:
            close = difflib.get_close_matches(paper_id, list(self.papers), n=3)
            raise UnknownNameError(paper_id, close)

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
    progress: PageProgress | None = None,
) -> AddReport:
    """Read every file (any malformed one: `ReaderError`, any refused PDF: its `PdfError`;
    nothing added), then add, merge or reject each entry and write the library once, atomically
    (not at all with `dry_run`); the full texts of the PDFs read are cached once it is written.
    A folder stands for every `*.pdf` under it (sorted, recursively). A library that would grow
    past the paper-list limit is a `LimitError`, dry run or not, and nothing is written.
    `names` (one per path) are what the papers' `source` records instead of the paths: an
    upload's own file name, not the temporary copy read. `progress` is told the pages of each
    PDF read."""
    if names is None:
        paths = expand_folders(paths)
    shown = list(names) if names is not None else [None] * len(paths)
    results = [
        read_source(p, fmt=fmt, options=options, name=n, progress=progress)
        for p, n in zip(paths, shown, strict=True)
    ]
    path = library_path or user_library_path()
    entries = [(paper, note) for result in results for paper, note in _with_notes(result)]
    with locked(path):
        state = LibraryState.open(path)
        outcomes = [state.add(paper, note) for paper, note in entries]
        library = state.result()
        documents = {d.sha256: d for r in results for d in r.documents}
        corpus = with_documents(compose(state.base, library), documents)
        if any(o.action in ("added", "merged") for o in outcomes):
            # measured as every command measures the library it reads (kg.corpus.load_corpus)
            check_added_size(path, len(library_text(library).encode("utf-8")))
            if not dry_run:
                save_library(library)
        if not dry_run:
            keep_documents(documents.values())
    files = tuple((r.path, r.format, len(r.papers)) for r in results)
    notes = tuple(f"{_where(paper)}: {note}" for paper, note in entries if note)
    return AddReport(path, dry_run, files, tuple(outcomes), corpus, notes)


def expand_folders(paths: Sequence[Path | str]) -> list[Path]:
    """Each path, a folder replaced by every `*.pdf` under it (sorted, recursively); a folder
    holding none is a `ReaderError`."""
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(p for p in path.rglob("*") if p.suffix.casefold() == ".pdf" and p.is_file())
        if not found:
            raise ReaderError(path, None, "is a folder with no PDF in it; give files, or a folder "
                              "of PDFs.")  # fmt: skip
        out.extend(found)
    return out


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
    with locked(path):
        state = LibraryState.open(path)
        wanted = list(dict.fromkeys(ids))
        for paper_id in wanted:
            state.require(paper_id)
        removed = tuple(state.remove(i) for i in wanted)
        library = state.result()
        if removed and not dry_run:
            save_library(library)
    return RemoveReport(path, removed, compose(state.base, library))

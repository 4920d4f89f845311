"""Which paper is which, and what the library adds to the list: identity (`identity_keys`),
merging a paper with what a file brings to it (`merge_papers`), and the corpus the library
stands for (`compose`, `load_library_corpus`).

A `paper` line of the library is either a new paper or what a file brought to a paper of the
list (its authors, DOI, …): the corpus is the list's papers minus the `removed` ones, each
merged with its line (the list's values win; a conflict was reported when it was added), then
the new papers. Identity: the same arXiv id, DOI, or normalised title (`kg.keys.title_key`).
A value read off a PDF's page (provenance `paper.pdf p. 1`) fills an empty field and is never
a conflict: the list's or an entry's value stands.
A field set with `kgrag edit` (provenance `EDITED`) wins over the list's value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kg.keys import name_key, title_key
from kg.library.store import Library, load_library, read_library
from kg.paper import Corpus, Paper, PaperIds
from kg.paths import base_list_path
from kg.readers.pdf import from_pdf
from kg.readers.seed import load_list

__all__ = [
    "EDITED",
    "Conflict",
    "Merge",
    "compose",
    "identity_keys",
    "load_library_corpus",
    "merge_papers",
]

# Fields a merge fills when empty and reports when different (the title is the identity).
_SCALARS = ("date", "venue", "arxiv_id", "doi", "url", "abstract", "influence", "category")
EDITED = "edited"  # the provenance of a field set with `kgrag edit`: it wins over the list's


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
        elif from_pdf(where.get(name, "")):
            continue  # read off a PDF's page: it fills an empty field, never contests one
        else:
            conflicts.append(Conflict(name, _text(mine), _text(theirs),
                                      where.get(name, new.source)))  # fmt: skip
    keywords = tuple(dict.fromkeys((*old.keywords, *new.keywords)))
    if keywords != old.keywords:
        changes["keywords"] = keywords
        filled.append("keywords")
    if new.pdf_sha256 and not old.pdf_sha256:  # the full text: kept from the first PDF given
        changes.update(pdf_sha256=new.pdf_sha256, pdf_path=new.pdf_path)
        filled.append("pdf")
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


def load_library_corpus(path: Path, data: bytes | None = None) -> Corpus:
    """The corpus the library at `path` stands for (what `kg.corpus.load_corpus` returns), with
    the full texts of its PDF papers (`kg.library.documents`)."""
    from kg.library.documents import with_documents

    data = read_library(path) if data is None else data
    library = load_library(path, data)
    return with_documents(compose(load_list(base_list_path()), library, hashlib.sha256(data)))


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

"""Author names: one canonical spelling per person, like the organisations' alias table.

A name's key (`kg.keys.name_key`, re-exported here) ignores case, accents, punctuation and
`Last, First` order (`Ré, Christopher` = `Christopher Re`). `data/authors.json` lists
spellings that belong together; beyond it an initialled name (`T. Dao`) joins the one author
with the same surname and first initial, and stays apart when that is ambiguous (`J. Smith`
with both John and Jane Smith).

    >>> table = AuthorTable.build(["Tri Dao", "T. Dao", "Dao, Tri", "Christopher Re"])
    >>> table.canonical("T. Dao"), table.canonical("Christopher Re")
    ('Tri Dao', 'Christopher Ré')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from kg.errors import KgragError
from kg.keys import first_last, name_key, title_key
from kg.paper import slugify
from kg.readers.common import normalize_arxiv_id
from kg.tables import load_json

__all__ = [
    "AuthorTable",
    "SeedAuthors",
    "SeedIndex",
    "author_node_id",
    "load_seed_authors",
    "name_forms",
    "name_key",
]


def author_node_id(name: str) -> str:
    return f"author:{slugify(name_key(name).replace(' ', '-'), 80)}"


@cache
def _aliases(data_dir: Path | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    raw = load_json("authors.json", data_dir)
    try:
        return tuple((a["name"], tuple(a.get("aliases", ()))) for a in raw["authors"])
    except (KeyError, TypeError) as exc:
        raise KgragError(f"data/authors.json lacks the key {exc}. Restore it from git.") from exc


@dataclass(frozen=True)
class AuthorTable:
    """Every spelling in a corpus mapped to its canonical name."""

    by_key: dict[str, str]

    @classmethod
    def build(cls, names: Iterable[str], data_dir: Path | None = None) -> AuthorTable:
        by_key: dict[str, str] = {}
        for canonical, aliases in _aliases(data_dir):
            for spelling in (canonical, *aliases):
                by_key[name_key(spelling)] = canonical
        spellings = list(dict.fromkeys(first_last(n) for n in names if n.strip()))
        for name in spellings:  # full names first: they are what initials resolve to
            if not _initialled(name):
                by_key.setdefault(name_key(name), name)
        full = defaultdict(set)
        for key, canonical in by_key.items():
            if not _initialled(canonical):
                full[(_surname(key), key[:1])].add(canonical)
        for name in spellings:
            key = name_key(name)
            if key in by_key:
                continue
            matches = full.get((_surname(key), key[:1]), set())
            by_key[key] = next(iter(matches)) if len(matches) == 1 else name
        return cls(by_key)

    def canonical(self, name: str) -> str:
        return self.by_key.get(name_key(name), first_last(name))

    def spellings(self, canonical: str) -> tuple[str, ...]:
        """The alias table's spellings of `canonical` (for looking the author up by any)."""
        return next((aliases for name, aliases in _aliases(None) if name == canonical), ())


def name_forms(name: str) -> tuple[str, ...]:
    """`Tri Dao` → `Dao, Tri` and `T. Dao`: how people write a name they look up."""
    parts = name.split()
    if len(parts) < 2:
        return ()
    given, last = " ".join(parts[:-1]), parts[-1]
    initials = " ".join(f"{p[0]}." for p in parts[:-1])
    return (f"{last}, {given}", f"{initials} {last}")


def _initialled(name: str) -> bool:
    """`T. Dao`, `T Dao`, `D. Y. Fu`: every given name is an initial."""
    parts = first_last(name).split()
    return len(parts) >= 2 and all(len(p.rstrip(".")) == 1 for p in parts[:-1])


def _surname(key: str) -> str:
    return key.rsplit(" ", 1)[-1]


# --- the shipped list's authors (data/seed_authors.json) ----------------------------------


@dataclass(frozen=True)
class SeedAuthors:
    """A paper's authors as `data/seed_authors.json` lists them, with the page they were
    checked against (`source`, the paper's arXiv abstract page)."""

    title: str
    arxiv_id: str
    authors: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class SeedIndex:
    """The curated author lists, found by a paper's arXiv id or title (`title_key`)."""

    entries: tuple[SeedAuthors, ...]
    by_key: dict[str, SeedAuthors] = field(default_factory=dict, compare=False)

    def find(self, title: str, arxiv_id: str = "") -> SeedAuthors | None:
        """The entry for a paper titled `title` (or with this arXiv id), if the file has one."""
        if arxiv_id and f"arxiv:{arxiv_id.casefold()}" in self.by_key:
            return self.by_key[f"arxiv:{arxiv_id.casefold()}"]
        return self.by_key.get(f"title:{title_key(title)}")


@cache
def load_seed_authors(data_dir: Path | None = None) -> SeedIndex:
    """`data/seed_authors.json`; a malformed entry is a `KgragError` naming it."""
    raw = load_json("seed_authors.json", data_dir)
    entries = tuple(_seed_entry(i, e) for i, e in enumerate(raw.get("papers", ()), 1))
    by_key: dict[str, SeedAuthors] = {}
    for entry in entries:
        by_key[f"title:{title_key(entry.title)}"] = entry
        if entry.arxiv_id:
            by_key[f"arxiv:{entry.arxiv_id.casefold()}"] = entry
    return SeedIndex(entries, by_key)


def _seed_entry(number: int, raw: object) -> SeedAuthors:
    """One entry of the file, checked: a title, a source and a non-empty list of names."""
    entry = raw if isinstance(raw, dict) else {}
    title, source, authors = entry.get("title"), entry.get("source"), entry.get("authors")
    names = authors if isinstance(authors, list) else []
    if not (isinstance(title, str) and title.strip() and isinstance(source, str) and names
            and all(isinstance(a, str) and a.strip() for a in names)):  # fmt: skip
        raise KgragError(f"data/seed_authors.json: paper {number} needs a title, a source and "
                         "a list of authors. Fix it or restore it from git.")  # fmt: skip
    arxiv = normalize_arxiv_id(str(entry.get("arxiv", "")) or source)
    return SeedAuthors(title, arxiv, tuple(first_last(a) for a in names), source)

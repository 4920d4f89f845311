"""What every reader shares: dates and months in any form, arXiv ids and DOIs, building `Paper`s.

Readers turn one entry into a `Draft` (field → value, field → where it came from) and
`build_papers` makes the `Paper` records, with ids unique within the file (the library makes
them unique across the whole corpus when it stores them). `first_last` and `title_key` (in
`kg.keys`) and `strip_controls` (in `kg.controls`) are re-exported for callers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kg.controls import strip_controls
from kg.errors import ReaderError
from kg.keys import first_last, title_key
from kg.paper import Paper, PaperIds
from kg.tables import load_category_table, load_org_table

__all__ = [
    "Draft",
    "ReadOptions",
    "build_papers",
    "normalize_arxiv_id",
    "normalize_doi",
    "parse_date",
    "parse_json",
    "parse_month",
    "split_authors",
    "split_keywords",
    "strip_controls",
    "title_key",
]

_MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?", re.IGNORECASE)
_ARXIV_OLD = re.compile(r"([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_ISO_DATE = re.compile(r"^(\d{4})(?:\s*[-./年]\s*(\d{1,2})\s*月?(?:\s*[-./]\s*\d{1,2}\s*日?)?)?")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file: `mapping` is (kgrag field, column) pairs for CSV / JSONL."""

    mapping: tuple[tuple[str, str], ...] = ()


@dataclass
class Draft:
    """One entry being read: values by kgrag field, and where each came from."""

    line: int
    where: str  # "refs.bib:12 @dao2022": the provenance of every field read from this entry
    key: str | None = None
    values: dict[str, object] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: object) -> None:
        if value not in ("", (), [], None):
            self.values[name] = value


def clean(text: str) -> str:
    """Whitespace collapsed (titles and names broken over lines in BibTeX and Atom)."""
    return _SPACES.sub(" ", text).strip()


def parse_json(text: str) -> object:
    """`json.loads`, with JSON nested too deep for the parser a `ValueError` like any other
    malformed JSON (not a `RecursionError`)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply: arrays or objects inside one another") from None


def parse_month(value: str) -> int | None:
    """`6`, `06`, `jun`, `June`, `Jun.`, `jun~15`, `6月` → 6; None if it is no month."""
    text = value.strip().strip("{}").casefold()
    match = re.match(r"^(\d{1,2})\s*月?", text)
    if match:
        number = int(match.group(1))
        return number if 1 <= number <= 12 else None
    word = re.match(r"^([a-z]+)", text)
    return _MONTHS.get(word.group(1)) if word else None


def parse_date(value: str, month: str = "") -> str | None:
    """`YYYY-MM` (or `YYYY` when no month is known) from `2023`, `2023-06-12`, `2023.6`,
    `2023年6月`, `June 2023`, `2023-06-12T17:59:59Z`, with `month` in any form."""
    text = value.strip()
    match = _ISO_DATE.match(text)
    if match is None:
        words = re.match(r"^([A-Za-z]+)\.?\s+(\d{4})$", text)  # "June 2023"
        if words is None or parse_month(words.group(1)) is None:
            return None
        return f"{words.group(2)}-{parse_month(words.group(1)):02d}"
    year, number = match.group(1), match.group(2)
    if number is not None:
        if not 1 <= int(number) <= 12:
            return None
        return f"{year}-{int(number):02d}"
    if month.strip():
        parsed = parse_month(month)
        return f"{year}-{parsed:02d}" if parsed else None
    return year


def normalize_arxiv_id(value: str) -> str:
    """`arXiv:2307.08691v2`, `https://arxiv.org/abs/2307.08691` → `2307.08691` (no version)."""
    text = value.strip()
    match = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
    return match.group(1) if match else ""


def normalize_doi(value: str) -> str:
    """`https://doi.org/10.1/ABC`, `doi:10.1/ABC` → `10.1/ABC` (DOIs compare case-insensitively)."""
    match = _DOI.search(value.strip())
    return match.group(0).rstrip(".,;") if match else ""


def split_authors(value: str | Iterable[str]) -> tuple[str, ...]:
    """Authors from a list, or a string separated by `;` or ` and ` (or commas between full
    names); each name in `First Last` order (`Dao, Tri` → `Tri Dao`)."""
    if isinstance(value, str):
        text = clean(value)
        if ";" in text:
            parts = text.split(";")
        elif re.search(r"\s+and\s+", text):
            parts = re.split(r"\s+and\s+", text)
        elif text.count(",") >= 2 or (text.count(",") == 1 and " " in text.split(",")[1].strip()):
            parts = text.split(",")  # "Tri Dao, Daniel Y. Fu"
        else:
            parts = [text]
    else:
        parts = list(value)
    return tuple(n for n in (first_last(p) for p in parts) if n)


def split_keywords(value: str | Iterable[str]) -> tuple[str, ...]:
    parts = re.split(r"[;,]", value) if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(clean(p) for p in parts if clean(p)))


def build_papers(drafts: Iterable[Draft], source: Path) -> tuple[Paper, ...]:
    """`Paper` records from the drafts; a draft without a title or a date is an error."""
    ids = PaperIds()
    papers = [_paper(d, source, ids) for d in drafts]
    if not papers:
        raise ReaderError(source, None, "no entries found. Check the file and its --format.")
    return tuple(papers)


def _paper(draft: Draft, source: Path, ids: PaperIds) -> Paper:
    values = draft.values
    title = str(values.get("title", ""))
    if not _visible(title):  # "\u200b\u202e" is no title: nothing shows it in a list or a card
        raise ReaderError(source, draft.line, "has no title. Add one and run `kgrag add` again.",
                          draft.key)  # fmt: skip
    date = str(values.get("date", ""))
    if not date:
        raise ReaderError(source, draft.line, "has no usable date (year, or year and month). "
                          "Add one and run `kgrag add` again.", draft.key)  # fmt: skip
    category, category_label = _category(values.get("category"), source, draft)
    organizations, raw_orgs = _organizations(values.get("organizations"))
    provenance = tuple((name, draft.where) for name in values)
    return Paper(
        id=ids.for_title(title),
        title=title,
        date=date,
        organizations=organizations,
        category=category,
        category_label=category_label,
        influence=str(values.get("influence", "")),
        abstract=str(values.get("abstract", "")),
        source=str(source),
        line=draft.line,
        organizations_raw=raw_orgs,
        org_line=draft.line if organizations else 0,
        influence_line=draft.line if values.get("influence") else 0,
        abstract_line=draft.line if values.get("abstract") else 0,
        abstract_spans=((0, draft.line),) if values.get("abstract") else (),
        authors=_strings(values.get("authors")),
        venue=str(values.get("venue", "")),
        arxiv_id=str(values.get("arxiv_id", "")),
        doi=str(values.get("doi", "")),
        url=str(values.get("url", "")),
        keywords=_strings(values.get("keywords")),
        provenance=provenance,
        extra=tuple(sorted(draft.extra.items())),
    )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple | list) else ()


def _category(value: object, source: Path, draft: Draft) -> tuple[str, str]:
    if not value:
        return "", ""
    found = load_category_table().lookup(str(value))
    if found is None:
        raise ReaderError(source, draft.line, f"unknown category {value!r}: use one of "
                          "data/categories.json (基座, 对齐, agent, 端侧, 多模态, or their English "
                          "names).", draft.key)  # fmt: skip
    return found.key, str(value)


def _organizations(value: object) -> tuple[tuple[str, ...], str]:
    if not value:
        return (), ""
    raw = value if isinstance(value, str) else ", ".join(str(v) for v in value)  # type: ignore[attr-defined]
    orgs, _unknown = load_org_table().split(raw)
    return orgs, raw


def _visible(text: str) -> bool:
    """Whether `text` has a character that shows: not a space, a control or a format character
    (zero-width spaces, joiners, bidi marks, a byte order mark)."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)

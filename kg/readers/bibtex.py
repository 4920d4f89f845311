"""BibTeX (and BibLaTeX) as Zotero, Google Scholar, DBLP, arXiv and people write it
(bibtexparser v2), and back out again (`write_bibtex`).

LaTeX is decoded (`R{\\'e}` → `Ré`, `{IO}` → `IO`, `\\&` → `&`); names are split at ` and `
outside braces, `Last, First` turned to `First Last`. `month` may be `jun`, `June`, `6` or
missing (the date is then the year). The arXiv id comes from `eprint` (with `archivePrefix` or
`eprinttype` arXiv), else from an arxiv.org `url` or a Google Scholar `journal = {arXiv preprint
arXiv:…}`. Fields kgrag has no place for (`pages`, `volume`, `publisher`, …) are kept verbatim in
`Paper.extra`, with the entry type (`@type`) and key (`@key`), so an export writes them back.
A field nested too deeply to decode (braces, environments or math inside one another, hundreds
deep) is an error naming the entry and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from kg.errors import ReaderError
from kg.keys import first_last
from kg.paper import Paper
from kg.readers.common import (
    Draft,
    ReadOptions,
    build_papers,
    clean,
    normalize_arxiv_id,
    normalize_doi,
    parse_date,
    split_keywords,
)

__all__ = ["BibtexReader", "decode_latex", "write_bibtex"]

_ENTRY = re.compile(r"^\s*@\s*(?!string|preamble|comment)[A-Za-z]+\s*[{(]", re.MULTILINE | re.I)
_T = TypeVar("_T")
_LATEX = re.compile(r"[\\{}~$]|--")
_VENUE_FIELDS = ("journal", "booktitle", "journaltitle")
# Read into Paper fields (the rest go to `extra`).
_CONSUMED = {"title", "author", "year", "month", "date", "abstract", "doi", "url", "keywords",
             "eprint", "archiveprefix", "eprinttype", *_VENUE_FIELDS}  # fmt: skip


class BibtexReader:
    name: str = "bibtex"
    extensions: tuple[str, ...] = (".bib", ".bibtex")

    def sniff(self, text: str) -> bool:
        return _ENTRY.search(text) is not None

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        import logging

        import bibtexparser

        # bibtexparser logs each failed block itself; kgrag reports it once, with file and line
        logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
        library = bibtexparser.parse_string(text)
        if library.failed_blocks:
            block = library.failed_blocks[0]
            raise ReaderError(source, (block.start_line or 0) + 1, _failure(block))
        return build_papers((_draft(entry, source) for entry in library.entries), source)


def _failure(block: object) -> str:
    from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock

    if isinstance(block, DuplicateBlockKeyBlock):
        return f"the key {block.key!r} is used by an earlier entry too; keys must be unique."
    if isinstance(block, DuplicateFieldKeyBlock):
        fields = ", ".join(sorted(block.duplicate_keys))
        return f"an entry sets a field twice ({fields}); keep one."
    error = str(getattr(block, "error", "")).splitlines()
    detail = error[-1].strip() if error else "cannot be parsed"
    return f"malformed BibTeX entry ({detail}). Check its braces and quotes."


def _draft(entry: object, source: Path) -> Draft:
    fields = {f.key.casefold(): f.value for f in entry.fields}  # type: ignore[attr-defined]
    key: str = entry.key  # type: ignore[attr-defined]
    line = entry.start_line + 1  # type: ignore[attr-defined]
    draft = Draft(line, f"{source.name}:{line} @{key}", key)

    def decoded(name: str, decode: Callable[[str], _T]) -> _T:
        # pylatexenc recurses once per level of nesting: hundreds of levels exhaust the stack
        try:
            return decode(str(fields.get(name, "")))
        except RecursionError:
            raise ReaderError(source, line, f"field {name!r} is nested too deeply to decode "
                              "(braces, environments or math inside one another). Simplify it.",
                              key) from None  # fmt: skip

    def text(name: str) -> str:
        return decoded(name, decode_latex)

    draft.set("title", text("title"))
    draft.set("authors", decoded("author", _authors))
    raw_date = text("date") or text("year")
    if raw_date:
        date = parse_date(raw_date, text("month"))
        if date is None:
            raise ReaderError(source, line, f"year/date {raw_date!r} with month {text('month')!r} "
                              "is not a date (e.g. year = 2023, month = jun).", key)  # fmt: skip
        draft.set("date", date)
    venue_field = next((f for f in _VENUE_FIELDS if text(f)), "")
    draft.set("venue", text(venue_field) if venue_field else "")
    draft.set("abstract", text("abstract"))
    draft.set("doi", normalize_doi(text("doi")))
    draft.set("url", text("url"))
    draft.set("keywords", split_keywords(text("keywords")))
    draft.set("arxiv_id", _arxiv_id(text))
    draft.extra = {"@type": entry.entry_type.casefold(), "@key": key}  # type: ignore[attr-defined]
    if venue_field:
        draft.extra["@venue"] = venue_field
    draft.extra.update({k: text(k) for k in fields if k not in _CONSUMED and text(k)})
    return draft


def _arxiv_id(get: Callable[[str], str]) -> str:
    """From `eprint` (arXiv or no archive named), else an arxiv.org link or Scholar's journal."""
    prefix = (get("archiveprefix") or get("eprinttype")).casefold()
    if get("eprint") and prefix in ("arxiv", ""):
        return normalize_arxiv_id(get("eprint"))
    for name in ("url", "journal", "note", "howpublished"):
        value = get(name)
        if "arxiv" in value.casefold():
            return normalize_arxiv_id(value)
    return ""


def _authors(raw: str) -> tuple[str, ...]:
    """Split at ` and ` outside braces (`{Google and DeepMind}` stays one), then decode."""
    names: list[str] = []
    depth, start = 0, 0
    text = clean(raw)
    i = 0
    while i < len(text):
        char = text[i]
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and text.startswith(" and ", i):
            names.append(text[start:i])
            start = i + 5
            i += 5
            continue
        i += 1
    names.append(text[start:])
    return tuple(n for n in (first_last(decode_latex(n)) for n in names) if n)


def decode_latex(value: str) -> str:
    """LaTeX accents, braces and commands to plain Unicode text; math is kept as written."""
    if not _LATEX.search(value):
        return clean(value)
    from pylatexenc.latex2text import LatexNodes2Text

    return clean(LatexNodes2Text(math_mode="verbatim").latex_to_text(value))


def write_bibtex(papers: Iterable[Paper]) -> str:
    """The papers as BibTeX: every field a reader read (the entry type and key it had)."""
    keys: set[str] = set()
    return "\n".join(_entry(p, keys) for p in papers)


def _entry(paper: Paper, keys: set[str]) -> str:
    extra = dict(paper.extra)
    key = extra.pop("@key", "") or paper.id
    while key in keys:
        key += "x"
    keys.add(key)
    kind = extra.pop("@type", "") or ("article" if paper.venue else "misc")
    venue_field = extra.pop("@venue", "") or ("booktitle" if kind == "inproceedings" else "journal")
    year, _, month = paper.date.partition("-")
    fields: list[tuple[str, str]] = [
        ("title", paper.title),
        ("author", " and ".join(_name(a) for a in paper.authors)),
        ("year", year),
        ("month", str(int(month)) if month else ""),
        (venue_field, paper.venue),
        ("abstract", paper.abstract),
        ("doi", paper.doi),
        ("url", paper.url),
        ("keywords", ", ".join(paper.keywords)),
        ("eprint", paper.arxiv_id),
        ("archiveprefix", "arXiv" if paper.arxiv_id else ""),
        *sorted(extra.items()),
    ]  # fmt: skip
    if paper.organizations and "institution" not in extra:  # the seed list's papers
        fields.append(("institution", ", ".join(paper.organizations)))
    if paper.influence and "note" not in extra:
        fields.append(("note", paper.influence))
    body = ",\n".join(f"  {name} = {{{_escape(value)}}}" for name, value in fields if value)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def _name(name: str) -> str:
    return f"{{{name}}}" if " and " in name else name


def _escape(value: str) -> str:
    """Characters LaTeX reads as commands, escaped so that decoding gives them back."""
    return re.sub(r"(?<!\\)([&%#_])", r"\\\1", value.replace("{", "(").replace("}", ")"))

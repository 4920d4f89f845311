"""arXiv Atom feeds, as the arXiv API (`export.arxiv.org/api/query`) returns them.

Per entry: title, authors, published date, summary, primary category, DOI, journal reference,
link, and the arXiv id without its version (`http://arxiv.org/abs/2307.08691v1` → `2307.08691`).
Parsed with the standard library's XML parser, after refusing any DTD: a feed from arXiv never
has one, and without it no entity (external or nested) can be declared, let alone fetched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import ReaderError
from kg.paper import Paper
from kg.readers.common import (
    Draft,
    ReadOptions,
    build_papers,
    clean,
    normalize_arxiv_id,
    normalize_doi,
    parse_date,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = ["ArxivReader"]

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class ArxivReader:
    name: str = "arxiv"
    extensions: tuple[str, ...] = (".xml", ".atom")

    def sniff(self, text: str) -> bool:
        head = text.lstrip()[:2000]
        return head.startswith("<") and "http://www.w3.org/2005/Atom" in head

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        root = _parse(text, source)
        if root.tag != f"{ATOM}feed":
            raise ReaderError(source, 1, "is not an Atom feed (no <feed> element).")
        entries = root.findall(f"{ATOM}entry")
        # ElementTree keeps no line numbers: the n-th <entry> tag's line is the n-th entry's.
        lines = [text[: m.start()].count("\n") + 1 for m in re.finditer(r"<entry[\s>]", text)]
        lines += [0] * (len(entries) - len(lines))
        drafts = (
            _draft(e, n, line, source)
            for n, (e, line) in enumerate(zip(entries, lines, strict=True), 1)
        )
        return build_papers(drafts, source)


def _parse(text: str, source: Path) -> Element:
    from xml.etree.ElementTree import ParseError, XMLParser

    match = _DTD.search(text)
    if match:
        line = text[: match.start()].count("\n") + 1
        raise ReaderError(source, line, "declares a DTD or entities, which an arXiv feed never "
                          "does; refusing to read it.")  # fmt: skip
    parser = XMLParser()
    try:
        parser.feed(text)
        return parser.close()
    except ParseError as exc:
        line, column = exc.position
        raise ReaderError(
            source, line, f"malformed XML at column {column + 1} ({exc.msg})."
        ) from exc  # type: ignore[attr-defined]


def _draft(entry: Element, number: int, line: int, source: Path) -> Draft:
    def text(tag: str) -> str:
        found = entry.find(tag)
        return clean(found.text or "") if found is not None else ""

    entry_id = text(f"{ATOM}id")
    arxiv_id = normalize_arxiv_id(entry_id)
    key = arxiv_id or f"entry {number}"
    if "api/errors" in entry_id:
        raise ReaderError(source, line, f"the feed is an arXiv API error: {text(f'{ATOM}summary')}")
    draft = Draft(line, f"{source.name}:{line} {key}", key)
    draft.set("title", text(f"{ATOM}title"))
    names = (clean(a.findtext(f"{ATOM}name") or "") for a in entry.findall(f"{ATOM}author"))
    draft.set("authors", tuple(n for n in names if n))
    published = text(f"{ATOM}published")
    if published:
        date = parse_date(published)
        if date is None:
            raise ReaderError(source, line, f"published {published!r} is not a date.", key)
        draft.set("date", date)
    draft.set("abstract", text(f"{ATOM}summary"))
    draft.set("arxiv_id", arxiv_id)
    draft.set("doi", normalize_doi(text(f"{ARXIV}doi")))
    draft.set("venue", text(f"{ARXIV}journal_ref"))
    draft.set("url", _link(entry) or entry_id)
    primary = entry.find(f"{ARXIV}primary_category")
    if primary is not None and primary.get("term"):
        draft.extra["primaryclass"] = primary.get("term", "")
    comment = text(f"{ARXIV}comment")
    if comment:
        draft.extra["comment"] = comment
    draft.extra["@type"] = "misc"
    return draft


def _link(entry: Element) -> str:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel") == "alternate" and link.get("href"):
            return link.get("href", "")
    return ""

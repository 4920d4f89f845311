"""CSV and JSON Lines: one paper a row (or a line), columns mapped to kgrag fields.

Columns are found by name, case-insensitively (`title`, `authors`, `date` or `year`, `month`,
`abstract`, `venue`, `arxiv_id`, `doi`, `url`, `keywords`, `organizations`, `category`,
`influence`, and the common synonyms below); `--map title=Title,date=Year` names them
explicitly. Authors and keywords are a list (JSONL) or a string separated by `;` (or ` and `).
A JSONL value of another type (an object, `true`, a list holding anything but text) is an error
naming the line and the column; a number is read as text (`"year": 2023`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

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
    parse_json,
    split_authors,
    split_keywords,
)

__all__ = ["FIELDS", "CsvReader", "JsonlReader"]

# kgrag field → the column names it is found under without --map (case-insensitive).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("title", "paper", "name"),
    "authors": ("authors", "author", "creators"),
    "date": ("date", "year", "published", "publication year", "publication_year"),
    "month": ("month",),
    "abstract": ("abstract", "summary", "abstract note", "abstract_note"),
    "venue": ("venue", "journal", "booktitle", "publication title", "publication_title"),
    "arxiv_id": ("arxiv_id", "arxiv", "eprint", "arxiv id"),
    "doi": ("doi",),
    "url": ("url", "link"),
    "keywords": ("keywords", "tags", "manual tags"),
    "organizations": ("organizations", "organization", "affiliations", "发表单位"),
    "category": ("category", "类别"),
    "influence": ("influence", "影响力", "notes"),
}
FIELDS = tuple(SYNONYMS)
# Fields that may be a list of text (JSONL) as well as text.
_LISTS = {"authors", "keywords", "organizations"}
_JSON_TYPES = {dict: "an object", list: "a list", bool: "true or false", int: "a number",
               float: "a number", str: "text", type(None): "null"}  # fmt: skip


class CsvReader:
    name: str = "csv"
    extensions: tuple[str, ...] = (".csv", ".tsv")

    def sniff(self, text: str) -> bool:
        header = text.lstrip().split("\n", 1)[0].casefold()
        return ("," in header or "\t" in header) and "title" in header

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        # A field may be as long as the file (within kgrag's size limit), not only the csv
        # module's 128 KB default. Only ever raised, so two reads at once cannot undo it.
        csv.field_size_limit(max(csv.field_size_limit(), len(text)))
        delimiter = "\t" if source.suffix.casefold() == ".tsv" or _tabs(text) else ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            header = reader.fieldnames or []
            columns = _columns(header, options, source)
            drafts = []
            for row in reader:
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue
                if None in row:
                    raise ReaderError(source, reader.line_num, f"has {len(header) + len(row[None])} "
                                      f"cells but the header has {len(header)}.")  # type: ignore[arg-type]  # fmt: skip
                drafts.append(_draft(row, columns, reader.line_num, source))
        except csv.Error as exc:
            raise ReaderError(source, reader.line_num, f"malformed CSV ({exc}).") from exc
        return build_papers(drafts, source)


class JsonlReader:
    name: str = "jsonl"
    extensions: tuple[str, ...] = (".jsonl", ".ndjson")

    def sniff(self, text: str) -> bool:
        # An object a line; whether it is valid JSON is for `read` to say, with its line (a
        # line too long or too deep to parse here is still JSONL, never a CSV header)
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return first.startswith("{") and first.endswith("}")

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        rows: list[tuple[int, dict[str, object]]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = parse_json(line)
            except ValueError as exc:
                raise ReaderError(source, number, f"is not JSON ({exc}).") from exc
            if not isinstance(value, dict):
                raise ReaderError(source, number, "is not a JSON object ({…}).")
            rows.append((number, value))
        header = list(dict.fromkeys(k for _, row in rows for k in row))
        columns = _columns(header, options, source)
        return build_papers((_draft(row, columns, n, source) for n, row in rows), source)


def _tabs(text: str) -> bool:
    header = text.lstrip().split("\n", 1)[0]
    return header.count("\t") > header.count(",")


def _columns(header: Iterable[str], options: ReadOptions, source: Path) -> dict[str, list[str]]:
    """kgrag field → the columns to read it from, first non-empty wins: the --map column, else
    every column named like the field (JSONL lines may use `date` in one, `year` in another)."""
    by_fold = {h.strip().casefold(): h for h in header if h}
    columns: dict[str, list[str]] = {}
    for name, column in options.mapping:
        if column.casefold() not in by_fold:
            raise ReaderError(source, 1, f"--map {name}={column}: there is no column {column!r} "
                              f"(columns: {', '.join(by_fold.values())}).")  # fmt: skip
        columns[name] = [by_fold[column.casefold()]]
    mapped = {c for cs in columns.values() for c in cs}
    for name, synonyms in SYNONYMS.items():
        if name not in columns:
            found = [by_fold[s] for s in synonyms if s in by_fold and by_fold[s] not in mapped]
            if found:
                columns[name] = found
    if "title" not in columns:
        raise ReaderError(source, 1, "no title column: name one with --map title=COLUMN.")
    return columns


def _draft(
    row: Mapping[str, object], columns: dict[str, list[str]], line: int, source: Path
) -> Draft:
    key: str | None = None

    def get(name: str) -> object:
        found = ((c, row.get(c)) for c in columns.get(name, ()))
        column, value = next(((c, v) for c, v in found if v not in (None, "", [])), ("", None))
        value = _checked(value, name, column, source, line, key)
        return clean(value) if isinstance(value, str) else value

    key = str(get("title") or f"line {line}")[:60]
    draft = Draft(line, f"{source.name}:{line}", None)
    for name in ("title", "abstract", "venue", "url", "influence", "category", "organizations"):
        value = get(name)
        draft.set(name, value if isinstance(value, list) else (str(value) if value else ""))
    authors = get("authors")
    draft.set("authors", split_authors(authors) if isinstance(authors, str | list) else ())
    keywords = get("keywords")
    draft.set("keywords", split_keywords(keywords) if isinstance(keywords, str | list) else ())
    url = str(get("url") or "")
    arxiv_link = normalize_arxiv_id(url) if "arxiv.org" in url else ""
    draft.set("arxiv_id", normalize_arxiv_id(str(get("arxiv_id") or "")) or arxiv_link)
    draft.set("doi", normalize_doi(str(get("doi") or "")))
    raw_date = str(get("date") or "")
    if raw_date:
        date = parse_date(raw_date, str(get("month") or ""))
        if date is None:
            raise ReaderError(source, line, f"date {raw_date!r} is not a date (2023, 2023-06, "
                              "June 2023).", key)  # fmt: skip
        draft.set("date", date)
    return draft


def _checked(
    value: object, name: str, column: str, source: Path, line: int, key: str | None
) -> str | list[str] | None:
    """A cell's value as text (a number read as written), or a list of text for the fields
    that may be one; any other JSON type is a `ReaderError` naming the column."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if name in _LISTS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    wanted = "text or a list of text" if name in _LISTS else "text or a number"
    held = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, list):
        held = "a list holding " + ", ".join(sorted({_JSON_TYPES.get(type(v), "?") for v in value}))
    raise ReaderError(source, line, f"column {column!r} ({name}) is {held}; it must be {wanted}.",
                      key)  # fmt: skip

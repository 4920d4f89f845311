"""The `Reader` seam: one module per library format, each turning a file into `Paper` records.

A reader is small: a `name`, the file `extensions` it usually has, `sniff(text)` (does this
content look like my format?) and `read(text, source, options)` (every entry, or a
`ReaderError` naming the file, the line or entry key, and what is wrong). `read_source` picks
the reader — by content for `auto`, the extension only breaking ties — and reads a path (a
regular file within the size limit, `kg.limits.read_bounded`) or bytes; every record it returns
is cleaned of control characters (`kg.readers.common.clean_paper`), with a note saying what was
removed. Readers never write anything: `kg.library` decides what is added or merged.

`READERS` is the one list of input formats: `reader_formats()` (what `--format` takes) and
`reader_extensions()` (the file types an upload accepts) are read from it.

    >>> from kg.readers import FORMATS
    >>> FORMATS
    ('seed', 'bibtex', 'arxiv', 'csv', 'jsonl')
    >>> reader_extensions()[:3]
    ('.txt', '.bib', '.bibtex')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kg.controls import clean_paper
from kg.errors import ReaderError
from kg.limits import check_source_size, max_source_bytes, read_bounded
from kg.paper import Paper
from kg.readers.arxiv import ArxivReader
from kg.readers.bibtex import BibtexReader
from kg.readers.common import ReadOptions
from kg.readers.seed import SeedReader
from kg.readers.tabular import FIELDS, CsvReader, JsonlReader

__all__ = ["FORMATS", "READERS", "ReadOptions", "ReadResult", "Reader", "detect_format",
           "get_reader", "parse_mapping", "read_source", "reader_extensions",
           "reader_formats"]  # fmt: skip


class Reader(Protocol):
    """One library format: text in, papers (with where each field came from) out."""

    name: str
    extensions: tuple[str, ...]

    def sniff(self, text: str) -> bool:
        """True when `text` looks like this format (cheap; the first few KB are enough)."""
        ...

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        """Every entry of `text` as a `Paper`; raise `ReaderError` on the first malformed one."""
        ...


@dataclass(frozen=True)
class ReadResult:
    path: Path
    format: str
    papers: tuple[Paper, ...]
    notes: tuple[tuple[str, str], ...] = ()
    """(paper id, what reading changed: `removed 3 control characters (title 2, authors 1)`)."""


READERS: tuple[Reader, ...] = (SeedReader(), BibtexReader(), ArxivReader(), CsvReader(),
                               JsonlReader())  # fmt: skip
"""Every reader, in the order the formats are listed (`--format`, the app's choices)."""
_BY_NAME = {r.name: r for r in READERS}


def reader_formats() -> tuple[str, ...]:
    """The format names `kgrag add --format` takes (with `auto`), in `READERS` order."""
    return tuple(r.name for r in READERS)


def reader_extensions() -> tuple[str, ...]:
    """Every file extension a reader usually has (`.txt`, `.bib`, …), in `READERS` order."""
    return tuple(e for r in READERS for e in r.extensions)


FORMATS = reader_formats()
# Content sniffing order: the most distinctive formats first (a CSV sniff accepts a lot).
_SNIFF_ORDER = ("arxiv", "bibtex", "jsonl", "seed", "csv")
_SNIFF_CHARS = 20000


def get_reader(name: str) -> Reader:
    if name not in _BY_NAME:
        raise ReaderError("<format>", None, f"unknown format {name!r}: choose auto or one of "
                          f"{', '.join(FORMATS)}.")  # fmt: skip
    return _BY_NAME[name]


def detect_format(path: Path, text: str, mapped: bool = False) -> str:
    """The format of `text` judged by its content; the extension only breaks a tie. With a
    column map (`mapped`), a table whose header names no `title` column is still read as the
    CSV or JSONL its extension says (the map names the columns)."""
    readers = _BY_NAME
    sample = _head(text)
    matches = [name for name in _SNIFF_ORDER if readers[name].sniff(sample)]
    by_extension = [m for m in matches if path.suffix.casefold() in readers[m].extensions]
    if by_extension:
        return by_extension[0]
    if matches:
        return matches[0]
    tables = [n for n in ("jsonl", "csv") if path.suffix.casefold() in readers[n].extensions]
    if mapped and tables:
        return tables[0]
    raise ReaderError(path, None, "cannot tell its format from the content: give --format "
                      f"({', '.join(FORMATS)}).")  # fmt: skip


def _head(text: str) -> str:
    """The first `_SNIFF_CHARS` characters, to the end of the line they stop in: a sniffer
    judging lines (JSONL) never sees half a line."""
    end = text.find("\n", _SNIFF_CHARS)
    return text if end < 0 else text[:end]


def read_source(
    path: Path | str,
    data: bytes | None = None,
    fmt: str = "auto",
    options: ReadOptions | None = None,
    name: str | None = None,
) -> ReadResult:
    """Read the file at `path` (or `data`, named `path`) in `fmt` (`auto`: judged by content).
    `name` is what the papers' `source`, provenance and errors call the file, when not its
    path: an app upload is read from a temporary copy but is the user's file."""
    data = _read(Path(path)) if data is None else data
    path = Path(name) if name else Path(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReaderError(path, line, "is not UTF-8 text. Re-export it as UTF-8.") from exc
    options = options or ReadOptions()
    name = detect_format(path, text, bool(options.mapping)) if fmt == "auto" else fmt
    papers, notes = _cleaned(get_reader(name).read(text, path, options), path)
    return ReadResult(path, name, papers, notes)


def _read(path: Path) -> bytes:
    try:
        return read_bounded(path, max_source_bytes(), check_source_size)
    except OSError as exc:
        raise ReaderError(path, None, f"cannot read it ({exc.strerror or exc}).") from exc


def _cleaned(
    papers: tuple[Paper, ...], path: Path
) -> tuple[tuple[Paper, ...], tuple[tuple[str, str], ...]]:
    """The papers without control characters, and a note for each that had some."""
    result: list[Paper] = []
    notes: list[tuple[str, str]] = []
    for paper in papers:
        clean, removed = clean_paper(paper)
        if not clean.title.strip():
            raise ReaderError(path, paper.line, "has a title made only of control characters. "
                              "Give it a title and run `kgrag add` again.")  # fmt: skip
        result.append(clean)
        if removed:
            counts = ", ".join(f"{name} {n}" for name, n in removed.items())
            total = sum(removed.values())
            notes.append((clean.id, f"removed {total} control character{'s' * (total > 1)} "
                                    f"({counts})"))  # fmt: skip
    return tuple(result), tuple(notes)


def parse_mapping(spec: str | None) -> ReadOptions:
    """`title=Title,date=Year` → `ReadOptions` (kgrag field = column of the CSV / JSONL)."""
    pairs: list[tuple[str, str]] = []
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        name, sep, column = item.partition("=")
        name = name.strip()
        if not sep or not column.strip() or name not in FIELDS:
            raise ReaderError("--map", None, f"{item.strip()!r} is not FIELD=COLUMN with FIELD "
                              f"one of {', '.join(FIELDS)}.")  # fmt: skip
        pairs.append((name, column.strip()))
    return ReadOptions(tuple(pairs))

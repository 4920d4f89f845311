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

A binary format (a PDF) is a `FileReader` too: `read_file` gets the file's path or bytes instead
of decoded text, and returns the paper with its full text (`ReadResult.documents`). A file is
read as a PDF when `--format pdf` says so, or (`auto`) when its name ends in `.pdf` or its bytes
start with `%PDF-`. A text format's entries that name a PDF in a `file` field (BibTeX from
Zotero) bring it along (`kg.readers.pdf.attach_files`).

    >>> from kg.readers import FORMATS
    >>> FORMATS
    ('seed', 'bibtex', 'arxiv', 'csv', 'jsonl', 'pdf')
    >>> reader_extensions()[:3]
    ('.txt', '.bib', '.bibtex')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from kg.controls import clean_paper
from kg.errors import ReaderError
from kg.limits import check_source_size, max_source_bytes, read_bounded
from kg.paper import Paper
from kg.paths import pdf_cache_dir
from kg.pdf.records import PdfDocument
from kg.readers.arxiv import ArxivReader
from kg.readers.bibtex import BibtexReader
from kg.readers.common import ReadOptions
from kg.readers.pdf import PageProgress, PdfRead, PdfReader, attach_files, is_pdf
from kg.readers.seed import SeedReader
from kg.readers.tabular import FIELDS, CsvReader, JsonlReader

__all__ = ["FORMATS", "READERS", "FileReader", "ReadOptions", "ReadResult", "Reader", "detect_format",
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


@runtime_checkable
class FileReader(Protocol):
    """A binary format (PDF): reads a file's bytes, not its text, into one paper and its text."""

    def read_file(self, path: Path, data: bytes | None, name: Path, cache_dir: Path | None,
                  progress: PageProgress | None = None) -> PdfRead:  # fmt: skip
        """The paper in the file at `path` (or in `data`), called `name` in errors; `cache_dir`
        is looked up, never written."""
        ...


@dataclass(frozen=True)
class ReadResult:
    path: Path
    format: str
    papers: tuple[Paper, ...]
    notes: tuple[tuple[str, str], ...] = ()
    """(paper id, what reading changed: `removed 3 control characters (title 2, authors 1)`)."""
    documents: tuple[PdfDocument, ...] = ()
    """The full texts read (a PDF, or the PDFs BibTeX entries name), each keyed by the
    `pdf_sha256` of its paper."""


READERS: tuple[Reader, ...] = (SeedReader(), BibtexReader(), ArxivReader(), CsvReader(),
                               JsonlReader(), PdfReader())  # fmt: skip
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
    cache_dir: Path | None = None,
    progress: PageProgress | None = None,
) -> ReadResult:
    """Read the file at `path` (or `data`, named `path`) in `fmt` (`auto`: judged by content).
    `name` is what the papers' `source`, provenance and errors call the file, when not its
    path: an app upload is read from a temporary copy but is the user's file. PDFs read are
    looked up in `cache_dir` (default `kg.paths.pdf_cache_dir()`; nothing is written there);
    `progress` is told the pages of each PDF read."""
    file = Path(path)
    shown = Path(name) if name else file
    cache_dir = pdf_cache_dir() if cache_dir is None else cache_dir
    named_pdf = file.suffix.casefold() == ".pdf"
    content = data
    if content is None and not (fmt == "pdf" or (fmt == "auto" and named_pdf)):
        content = _read(file)  # bounded, and refused at once unless a regular file (a FIFO)
    if fmt == "pdf" or (fmt == "auto" and is_pdf(file, content)):
        # a file's path, not its bytes, so the PDF reader records which file it read
        return _read_binary(get_reader("pdf"), file, data, shown, cache_dir, progress)
    data = _read(file) if content is None else content
    path = shown
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReaderError(path, line, "is not UTF-8 text. Re-export it as UTF-8.") from exc
    options = options or ReadOptions()
    name = detect_format(path, text, bool(options.mapping)) if fmt == "auto" else fmt
    papers, notes = _cleaned(get_reader(name).read(text, path, options), path)
    if not any(dict(p.extra).get("file") for p in papers):
        return ReadResult(path, name, papers, notes)
    papers, documents, found = attach_files(papers, file, cache_dir, progress)
    return ReadResult(path, name, papers, (*notes, *found), documents)


def _read_binary(reader: Reader, file: Path, data: bytes | None, shown: Path,
                 cache_dir: Path, progress: PageProgress | None) -> ReadResult:  # fmt: skip
    if not isinstance(reader, FileReader):
        raise ReaderError(shown, None, f"the {reader.name} format reads text, not a PDF.")
    read = reader.read_file(file, data, shown, cache_dir, progress)
    papers, notes = _cleaned((read.paper,), shown)
    return ReadResult(shown, reader.name, papers, notes, (read.document,))


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

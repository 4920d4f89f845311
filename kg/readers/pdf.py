"""PDF papers: one PDF file in, one `Paper` out (with its full text, `kg.pdf`).

A PDF is the one binary format, so its reader reads the file's bytes (`read_file`), not text:
the title, authors, date, arXiv id and DOI come from the first page (`PdfDocument.front`), the
abstract from the Abstract section, and the paper records the PDF (`pdf_path`, `pdf_sha256`,
the key of its text in the PDF cache). Nothing is written here: the document travels with the
paper in `kg.readers.ReadResult.documents`, and `kg.library` keeps it in the cache once the
library itself is written, so a refused add leaves no trace.

`attach_files` brings along the PDF a BibTeX entry names in its `file` field (a Zotero export's
`Full Text:files/12/x.pdf:application/pdf`, or a plain path relative to the .bib file): the
entry's fields win, the PDF gives the full text (and the abstract when the entry has none).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kg.errors import ReaderError
from kg.limits import read_bounded, read_head
from kg.paper import Paper, PaperIds
from kg.pdf.errors import PdfError, PdfLimitError
from kg.pdf.read import DEFAULT_MAX_BYTES, DEFAULT_MAX_PAGES
from kg.pdf.records import PdfDocument
from kg.readers.common import ReadOptions, parse_date

__all__ = [
    "from_pdf",
    "pdf_where",
    "PDF_MAGIC",
    "PdfRead",
    "PdfReader",
    "attach_files",
    "is_pdf",
    "pdf_paper",
    "read_document",
]

PDF_MAGIC = b"%PDF-"
_PDF_WHERE = re.compile(r"\.pdf p\. \d+$", re.IGNORECASE)
PageProgress = Callable[[int], None]
"""Told the page count of each PDF read (a progress bar counts pages)."""


@dataclass(frozen=True)
class PdfRead:
    """What reading one PDF gave: its paper and its full text."""

    paper: Paper
    document: PdfDocument


class PdfReader:
    """The `pdf` format: read from the file's bytes (`read_file`), never from decoded text."""

    name: str = "pdf"
    extensions: tuple[str, ...] = (".pdf",)

    def sniff(self, text: str) -> bool:
        return text.startswith("%PDF-")

    def read(self, text: str, source: Path, options: ReadOptions) -> tuple[Paper, ...]:
        raise ReaderError(source, None, "a PDF is read from its bytes, not as text; give the "
                          "file itself to `kgrag add`.")  # fmt: skip

    def read_file(self, path: Path, data: bytes | None, name: Path, cache_dir: Path | None,
                  progress: PageProgress | None = None) -> PdfRead:  # fmt: skip
        """The PDF at `path` (or its bytes `data`) as a paper named after `name`."""
        document = read_document(path, data, name, cache_dir)
        if progress is not None:
            progress(document.page_count)
        # the file read is the paper's PDF (the app reads an upload from its lasting copy,
        # `kg.library.documents.keep_pdf`, under the name the user gave); bytes have no path
        kept = _shown_path(path) if data is None else str(name)
        return PdfRead(pdf_paper(document, name, kept), document)


def is_pdf(path: Path, data: bytes | None = None) -> bool:
    """Whether the file is meant as a PDF: its name ends in `.pdf`, or its bytes start `%PDF-`."""
    if path.suffix.casefold() == ".pdf":
        return True
    if data is not None:
        return data.startswith(PDF_MAGIC)
    try:  # a FIFO or device is refused here, never opened for a blocking read
        return read_head(path, len(PDF_MAGIC)) == PDF_MAGIC
    except OSError:
        return False


def read_document(
    path: Path, data: bytes | None, name: Path, cache_dir: Path | None
) -> PdfDocument:
    """The document of the PDF, from `cache_dir` when these bytes were read before; the refusals
    of `kg.pdf.read_pdf`, naming `name`. Writes nothing (the library stores it when it saves)."""
    from kg.pdf.cache import load_cached
    from kg.pdf.read import extract_document

    if data is None:
        data = _read_bytes(path, name)
    if len(data) > DEFAULT_MAX_BYTES:
        raise PdfLimitError(
            name, f"is {len(data) / 1e6:.3g} MB", DEFAULT_MAX_PAGES, DEFAULT_MAX_BYTES
        )
    sha256 = hashlib.sha256(data).hexdigest()
    cached = load_cached(cache_dir, sha256) if cache_dir is not None else None
    return cached or extract_document(data, name, sha256)


def _read_bytes(path: Path, name: Path) -> bytes:
    def check(where: object, size: int) -> None:
        if size > DEFAULT_MAX_BYTES:
            raise PdfLimitError(
                name, f"is {size / 1e6:.3g} MB", DEFAULT_MAX_PAGES, DEFAULT_MAX_BYTES
            )

    try:
        return read_bounded(path, DEFAULT_MAX_BYTES, check)
    except OSError as exc:
        raise PdfError(name, f"cannot be read ({exc.strerror or exc}); check the path.") from None


def pdf_paper(document: PdfDocument, name: Path, pdf_path: str) -> Paper:
    """The paper the document's first page describes; a `ReaderError` naming the file when it
    has no title or date there (a BibTeX entry with a `file` field can give them)."""
    front = document.front
    where = pdf_where(name)
    if not (front.title or "").strip():
        raise ReaderError(name, None, "has no title on its first page that kgrag can read. Add it "
                          "through a BibTeX entry whose file field names this PDF.")  # fmt: skip
    date = parse_date(front.date or "")
    if not date:
        raise ReaderError(name, None, "has no date on its first page that kgrag can read. Add it "
                          "through a BibTeX entry whose file field names this PDF.")  # fmt: skip
    title = " ".join(front.title.split())  # type: ignore[union-attr]
    abstract = document_abstract(document)
    values = {"title": title, "date": date, "authors": front.authors, "arxiv_id": front.arxiv_id,
              "doi": front.doi, "abstract": abstract}  # fmt: skip
    return Paper(
        id=PaperIds().for_title(title),
        title=title,
        date=date,
        organizations=(),
        category="",
        category_label="",
        influence="",
        abstract=abstract,
        source=str(name),
        line=1,
        authors=tuple(front.authors),
        arxiv_id=front.arxiv_id or "",
        doi=front.doi or "",
        provenance=tuple((field, where) for field, value in values.items() if value),
        pdf_path=pdf_path,
        pdf_sha256=document.sha256,
    )


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path)


def pdf_where(name: Path, page: int = 1) -> str:
    """The provenance of a field read from a PDF's page: `paper.pdf p. 1`."""
    return f"{name.name} p. {page}"


def from_pdf(where: str) -> bool:
    """Whether a field's provenance is a PDF's page: such a value only fills an empty field
    (a title page is read by layout, a list's or an entry's value is the user's)."""
    return bool(_PDF_WHERE.search(where))


def document_abstract(document: PdfDocument) -> str:
    """The text of the document's Abstract section (its paragraphs joined), or ''."""
    return " ".join(p.text.strip() for s, p in document.paragraphs(frozenset({"abstract"}))).strip()


def attach_files(
    papers: Sequence[Paper], source: Path, cache_dir: Path | None,
    progress: PageProgress | None = None,
) -> tuple[tuple[Paper, ...], tuple[PdfDocument, ...], tuple[tuple[str, str], ...]]:  # fmt: skip
    """Each paper with the PDF its BibTeX `file` field names (relative to `source`'s folder):
    the PDF's sha256 and path, and its abstract when the entry had none. A named PDF that is
    missing is a note (the entry is added without full text); one that cannot be read is its
    refusal, naming the entry too. Returns the papers, the documents read and the notes."""
    out: list[Paper] = []
    documents: list[PdfDocument] = []
    notes: list[tuple[str, str]] = []
    for paper in papers:
        named = file_field_pdf(dict(paper.extra).get("file", ""))
        if not named:
            out.append(paper)
            continue
        path = Path(named).expanduser()
        path = path if path.is_absolute() else source.parent / path
        if not path.is_file():
            notes.append((paper.id, f"its file field names {named}, which is not there: added "
                                    "without its full text"))  # fmt: skip
            out.append(paper)
            continue
        document = read_document(path, None, path, cache_dir)
        if progress is not None:
            progress(document.page_count)
        documents.append(document)
        out.append(_with_document(paper, document, path))
    return tuple(out), tuple(documents), tuple(notes)


def _with_document(paper: Paper, document: PdfDocument, path: Path) -> Paper:
    changes: dict[str, object] = {"pdf_path": _shown_path(path), "pdf_sha256": document.sha256}
    abstract = "" if paper.abstract else document_abstract(document)
    if abstract:
        where = pdf_where(path)
        changes.update(abstract=abstract, provenance=(*paper.provenance, ("abstract", where)))
    return replace(paper, **changes)  # type: ignore[arg-type]


def file_field_pdf(value: str) -> str:
    """The PDF a BibTeX `file` field names: Zotero/JabRef's `description:path:type` items
    separated by `;` (the first PDF among them), or a plain path; '' when it names none.

        >>> file_field_pdf("Full Text:files/12/x.pdf:application/pdf")
        'files/12/x.pdf'
        >>> file_field_pdf("papers/y.pdf"), file_field_pdf("Snapshot:files/3/a.html:text/html")
        ('papers/y.pdf', '')
    """
    for item in value.split(";"):
        item = item.strip()
        parts = item.split(":")
        if len(parts) >= 3:  # description:path:mime type (a Windows path keeps its own colon)
            item = ":".join(parts[1:-1])
        if item.casefold().endswith(".pdf"):
            return item
    return ""

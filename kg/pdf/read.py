"""`read_pdf`: one PDF file in, a `PdfDocument` out, or one typed refusal.

Order of checks, cheapest first, so nothing large or broken is parsed: a regular file no bigger
than `max_bytes` (read once, bounded: `kg.limits.read_bounded`), its sha256 looked up in the
cache, a `%PDF-` header and an end-of-file marker, PDFium's open (password, damage), at most
`max_pages` pages, then a text layer on at least one page.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from pathlib import Path

from kg.limits import read_bounded
from kg.pdf.cache import load_cached, store
from kg.pdf.errors import PdfDamagedError, PdfError, PdfLimitError, PdfNoTextError
from kg.pdf.extract import PDFIUM_LOCK, RawPdf, check_pdf_bytes, extract_layout, open_document
from kg.pdf.records import PdfDocument
from kg.pdf.structure import build_document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAGES",
    "MIN_PAGE_CHARS",
    "extract_document",
    "extraction_speed",
    "read_pdf",
]

DEFAULT_MAX_PAGES = 300
DEFAULT_MAX_BYTES = 50_000_000
# a PDF none of whose pages holds this many characters of text is a scan (no text layer)
MIN_PAGE_CHARS = 16


def read_pdf(
    path: Path | str,
    cache_dir: Path | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PdfDocument:
    """The PDF at `path` as kgrag reads it; from `cache_dir` when these bytes were read before.

    Raises a `kg.pdf.errors.PdfError` (one line naming the file) for a file that is not a PDF,
    an encrypted, truncated or damaged one, one without a text layer, or one over `max_pages`
    pages or `max_bytes` bytes; `kg.errors.ReaderError` for a path that is not a regular file.
    """
    path = Path(path)
    data = _read_bytes(path, max_pages, max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    if cache_dir is not None:
        cached = load_cached(cache_dir, sha256)
        if cached is not None:
            return cached if cached.path == str(path) else _moved(cached, path)
    document = extract_document(data, path, sha256, max_pages, max_bytes)
    if cache_dir is not None:
        store(cache_dir, document)
    return document


def _moved(document: PdfDocument, path: Path) -> PdfDocument:
    from dataclasses import replace

    return replace(document, path=str(path))


def _read_bytes(path: Path, max_pages: int, max_bytes: int) -> bytes:
    def check(where: object, size: int) -> None:
        if size > max_bytes:
            raise PdfLimitError(path, f"is {size / 1e6:.3g} MB", max_pages, max_bytes)

    try:
        return read_bounded(path, max_bytes, check)
    except OSError as exc:
        raise PdfError(path, f"cannot be read ({exc.strerror or exc}); check the path.") from None


def extract_document(
    data: bytes, path: Path, sha256: str, max_pages: int = DEFAULT_MAX_PAGES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PdfDocument:  # fmt: skip
    """The document of the PDF bytes `data` (no cache); the refusals of `read_pdf`."""
    raw = extract_raw(data, path, max_pages, max_bytes)
    return build_document(raw, sha256, str(path))


def extract_raw(data: bytes, path: Path, max_pages: int = DEFAULT_MAX_PAGES,
                max_bytes: int = DEFAULT_MAX_BYTES) -> RawPdf:  # fmt: skip
    """The lines of every page, after every refusal check."""
    check_pdf_bytes(data, path)
    with PDFIUM_LOCK:
        document = open_document(data, path)
        try:
            count = len(document)
            if count == 0:
                raise PdfDamagedError(path, "it has no pages")
            if count > max_pages:
                raise PdfLimitError(path, f"has {count:,} pages", max_pages, max_bytes)
            raw = extract_layout(document, path)
        finally:
            document.close()
    if not any(sum(len(line.text.strip()) for line in page.lines) + len(page.side_text)
               >= MIN_PAGE_CHARS for page in raw.pages):  # fmt: skip
        raise PdfNoTextError(path, count)
    return raw


def extraction_speed(paths: Iterable[Path | str]) -> dict[str, float]:
    """Pages per second of `extract_document` over the PDFs at `paths` (no cache): the figure
    `make bench` can print. Returns pages, seconds and pages_per_second."""
    pages, seconds = 0, 0.0
    for path in paths:
        data = Path(path).read_bytes()
        start = time.perf_counter()
        document = extract_document(data, Path(path), hashlib.sha256(data).hexdigest())
        seconds += time.perf_counter() - start
        pages += document.page_count
    return {"pages": float(pages), "seconds": seconds,
            "pages_per_second": pages / seconds if seconds else 0.0}  # fmt: skip

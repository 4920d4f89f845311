"""PDFs kgrag cannot read are refused with one line that names the file and the cause, at once,
and leave nothing behind: no cache entry, no partial document."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from kg.errors import KgragError, LimitError, ReaderError
from kg.pdf import (
    PdfDamagedError,
    PdfEncryptedError,
    PdfError,
    PdfLimitError,
    PdfNotAPdfError,
    PdfNoTextError,
    read_pdf,
)
from tests.fixtures.pdf import HERE


@pytest.mark.parametrize(("name", "error", "says"), [
    ("image_only.pdf", PdfNoTextError, "has no text layer (1 page(s), no selectable text); OCR is not supported"),
    ("encrypted.pdf", PdfEncryptedError, "is encrypted and needs its password"),
    ("truncated.pdf", PdfDamagedError, "is truncated or damaged (it ends before its end-of-file marker)"),
    ("damaged.pdf", PdfDamagedError, "is truncated or damaged (PDFium cannot read its structure)"),
    ("not_a_pdf.pdf", PdfNotAPdfError, "is not a PDF (it does not start with %PDF-)"),
])  # fmt: skip
def test_a_broken_pdf_is_refused_with_one_line_naming_it(
    tmp_path: Path, name: str, error: type[PdfError], says: str
) -> None:
    cache = tmp_path / "cache"
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        read_pdf(HERE / name, cache_dir=cache)
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert message.startswith(f"{HERE / name}: ") and says in message
    assert "\n" not in message and "Traceback" not in message
    assert isinstance(caught.value, KgragError) and caught.value.path == HERE / name
    assert not cache.exists() or not any(cache.iterdir())


def test_the_page_limit_and_the_size_limit_are_both_named(tmp_path: Path) -> None:
    with pytest.raises(PdfLimitError) as pages:
        read_pdf(HERE / "tamarack.pdf", cache_dir=tmp_path, max_pages=4)
    assert "has 5 pages; the limits are 4 pages and 50 MB per PDF" in str(pages.value)
    with pytest.raises(PdfLimitError) as size:
        read_pdf(HERE / "tamarack.pdf", cache_dir=tmp_path, max_bytes=100_000)
    assert "is 0.129 MB; the limits are 300 pages and 0.1 MB per PDF" in str(size.value)
    assert isinstance(size.value, LimitError)  # the CLI's limit handling applies
    assert not any(tmp_path.iterdir())
    assert read_pdf(HERE / "tamarack.pdf", max_pages=5).page_count == 5  # at the limit: read


def test_a_renamed_broken_pdf_is_still_refused(tmp_path: Path) -> None:
    """The refusal comes from the bytes, not the name."""
    copy = tmp_path / "paper (final).pdf"
    shutil.copy(HERE / "encrypted.pdf", copy)
    with pytest.raises(PdfEncryptedError, match=r"paper \(final\)\.pdf: is encrypted"):
        read_pdf(copy)


def test_what_is_not_a_regular_pdf_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match="missing.pdf: cannot be read"):
        read_pdf(tmp_path / "missing.pdf")
    with pytest.raises(ReaderError, match="is a folder"):
        read_pdf(tmp_path)
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    with pytest.raises(ReaderError, match="FIFO"):
        read_pdf(fifo)  # refused at once, never blocks
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(PdfNotAPdfError):
        read_pdf(empty)

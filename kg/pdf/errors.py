"""Why a PDF was not read: one typed error per cause, each message one line that names the file
and says what to do. Nothing of a refused PDF is kept (no cache entry, no partial text)."""

from __future__ import annotations

from pathlib import Path

from kg.errors import KgragError, LimitError

__all__ = [
    "PdfDamagedError",
    "PdfEncryptedError",
    "PdfError",
    "PdfLimitError",
    "PdfNoTextError",
    "PdfNotAPdfError",
]


class PdfError(KgragError):
    """A PDF could not be read; `path` names it."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {message}")


class PdfNotAPdfError(PdfError):
    """The file does not start like a PDF (`%PDF-`), whatever its name says."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "is not a PDF (it does not start with %PDF-); give a PDF file.")


class PdfEncryptedError(PdfError):
    """The PDF is encrypted with a user password."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "is encrypted and needs its password; save an unencrypted copy "
                         "(print to PDF) and add that.")  # fmt: skip


class PdfDamagedError(PdfError):
    """The PDF is truncated or damaged: its structure cannot be read to the end."""

    def __init__(self, path: Path | str, detail: str) -> None:
        self.detail = detail
        super().__init__(path, f"is truncated or damaged ({detail}); download it again.")


class PdfNoTextError(PdfError):
    """The PDF has no text layer (a scan): kgrag reads text, it does not run OCR."""

    def __init__(self, path: Path | str, pages: int) -> None:
        self.pages = pages
        super().__init__(path, f"has no text layer ({pages} page(s), no selectable text); OCR "
                         "is not supported. Add a PDF with selectable text.")  # fmt: skip


class PdfLimitError(PdfError, LimitError):
    """The PDF is over the page limit or the size limit; the message names both limits."""

    def __init__(self, path: Path | str, what: str, max_pages: int, max_bytes: int) -> None:
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        PdfError.__init__(self, path, f"{what}; the limits are {max_pages:,} pages and "
                          f"{max_bytes / 1e6:g} MB per PDF. Split it, or raise the limits.")  # fmt: skip

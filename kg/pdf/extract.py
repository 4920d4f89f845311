"""Characters off the page: the one module that calls PDFium (pypdfium2, Apache-2.0/BSD).

A page becomes `Line`s: runs of characters on one baseline with no wide gap, each with its box,
font size and boldness. Lines are built from the characters' geometry, not from PDFium's own
line breaks (it breaks before a superscript and joins hyphenated lines), and a gap wider than
`SPLIT_GAP` font sizes ends a line, so the two halves of a row that crosses a column gutter stay
apart. Rotated characters (an arXiv stamp up the margin) are kept aside as the page's
`side_text`. Reading order, headers and paragraphs are later steps (`kg.pdf.layout`).

Refusals happen here, each a `kg.pdf.errors` type: a file that does not start with `%PDF-`, an
encrypted one, a truncated or damaged one.
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.pdf.errors import PdfDamagedError, PdfEncryptedError, PdfNotAPdfError

__all__ = [
    "PDFIUM_LOCK",
    "Line",
    "PageLayout",
    "RawPdf",
    "check_pdf_bytes",
    "extract_layout",
    "open_document",
]

# PDFium is not thread-safe: every use holds this lock (the app reads and renders in threads)
PDFIUM_LOCK = threading.Lock()
# A gap wider than this many font sizes splits a line (a column gutter, a table's cell gap);
# one wider than TAB_GAP is kept as a tab (authors set apart by a quad).
SPLIT_GAP = 1.6
TAB_GAP = 0.75
# PDFium's marks for a hyphen it judged to end a line, and their replacement in text
_PDFIUM_HYPHENS = "\x02\ufffe"
SOFT_HYPHEN = "\u00ad"
# a page with more characters than this is cut there (a pathological page must not hang a read)
MAX_PAGE_CHARS = 200_000
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Line:
    """A run of characters on one baseline. Coordinates are points from the page's top-left
    corner (y grows downwards); `size` is the font size most of its characters have."""

    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    bold: bool


@dataclass(frozen=True)
class PageLayout:
    number: int
    width: float
    height: float
    lines: tuple[Line, ...]
    side_text: str


@dataclass(frozen=True)
class RawPdf:
    pages: tuple[PageLayout, ...]
    metadata_title: str | None


def check_pdf_bytes(data: bytes, path: Path) -> None:
    """Refuse what is not a whole PDF before PDFium sees it: no `%PDF-` header, or no `%%EOF`
    near the end (a cut download; PDFium would silently rebuild what it can)."""
    if b"%PDF-" not in data[:1024]:
        raise PdfNotAPdfError(path)
    if b"%%EOF" not in data[-2048:]:
        raise PdfDamagedError(path, "it ends before its end-of-file marker")


def open_document(data: bytes, path: Path) -> Any:
    """The PDFium document of `data`; typed errors for a password or a damaged structure."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (raw.FPDF_ERR_PASSWORD, raw.FPDF_ERR_SECURITY):
            raise PdfEncryptedError(path) from None
        raise PdfDamagedError(path, "PDFium cannot read its structure") from None


def extract_layout(document: Any, path: Path) -> RawPdf:
    """The lines of every page of an open PDFium `document` (see the module docstring)."""
    import pypdfium2 as pdfium

    pages = []
    for index in range(len(document)):
        try:
            page = document[index]
        except pdfium.PdfiumError:
            raise PdfDamagedError(path, f"page {index + 1} cannot be read") from None
        try:
            pages.append(_page_layout(page, index + 1))
        finally:
            page.close()
    title = (document.get_metadata_dict().get("Title") or "").strip()
    return RawPdf(tuple(pages), title or None)


@dataclass(slots=True)
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    index: int


def _page_layout(page: Any, number: int) -> PageLayout:
    width, height = page.get_size()
    wrapper = page.get_textpage()
    textpage = wrapper.raw  # the bare handle: no conversion per call (the wrapper owns it)
    try:
        chars, side = _chars(textpage, height)
        lines = tuple(_lines(chars, textpage, number))
    finally:
        wrapper.close()
    return PageLayout(number, width, height, lines, "".join(side).strip())


def _chars(textpage: Any, height: float) -> tuple[list[_Char | None], list[str]]:
    """The page's characters in content order; None for a space (PDFium's generated ones and
    line breaks included). Rotated characters go to the second list."""
    import pypdfium2.raw as raw

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    chars: list[_Char | None] = []
    side: list[str] = []
    in_side = False
    count = min(raw.FPDFText_CountChars(textpage), MAX_PAGE_CHARS)
    text = _page_text(textpage, count)
    word_start = True  # a word's letters share its angle: ask once per word
    for i, char in enumerate(text):
        if char in " \r\n\t\xa0\u3000\x00":
            if side and side[-1] != " " and (not chars or chars[-1] is None or in_side):
                side.append(" ")  # a space within the rotated text (its angle reads 0)
            chars.append(None)
            word_start = True
            continue
        if word_start:
            angle = raw.FPDFText_GetCharAngle(textpage, i)
            in_side = angle > 0.05 and abs(angle - 2 * math.pi) > 0.05
            word_start = False
        if in_side:
            side.append(char)
            continue
        raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
        raw.FPDFText_GetCharOrigin(textpage, i, ox, oy)
        char = SOFT_HYPHEN if char in _PDFIUM_HYPHENS else char.translate(_LIGATURES)
        size = raw.FPDFText_GetFontSize(textpage, i)
        chars.append(_Char(char, left.value, right.value, height - top.value,
                           height - bottom.value, height - oy.value, size, i))  # fmt: skip
    return chars, side


def _page_text(textpage: Any, count: int) -> str:
    """The page's characters, one per index (one call; per character where a character falls
    outside the Basic Multilingual Plane and the indices would shift)."""
    import pypdfium2.raw as raw

    buffer = (ctypes.c_ushort * (count + 1))()
    raw.FPDFText_GetText(textpage, 0, count, buffer)
    text = bytes(buffer)[: 2 * count].decode("utf-16-le", errors="replace")
    if len(text) == count and not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return "".join(chr(raw.FPDFText_GetUnicode(textpage, i)) for i in range(count))


def _lines(chars: list[_Char | None], textpage: Any, number: int) -> list[Line]:
    lines: list[Line] = []
    run: list[_Char] = []
    gaps: list[str] = []  # gaps[k]: what goes between run[k] and run[k + 1]
    space = False
    for char in chars:
        if char is None:
            space = True
            continue
        if run:
            last = run[-1]
            size = max(last.size, char.size, 1.0)
            gap = char.x0 - last.x1
            same_line = abs(char.baseline - run[0].baseline) < 0.5 * size
            # a ligature's letters share one box: the second starts left of the first's end
            if same_line and -1.5 * size <= gap <= SPLIT_GAP * size:
                gaps.append("\t" if gap > TAB_GAP * size else " " if space else "")
                run.append(char)
                space = False
                continue
            lines.append(_line(run, gaps, textpage, number))
        run, gaps, space = [char], [], False
    if run:
        lines.append(_line(run, gaps, textpage, number))
    return lines


def _line(run: list[_Char], gaps: list[str], textpage: Any, number: int) -> Line:
    text = run[0].text + "".join(gap + char.text for gap, char in zip(gaps, run[1:], strict=True))
    sizes = Counter(round(char.size, 1) for char in run)
    size = sizes.most_common(1)[0][0]
    main = [char for char in run if abs(char.size - size) < 0.5] or run
    return Line(
        text=text,
        page=number,
        x0=min(char.x0 for char in run),
        x1=max(char.x1 for char in run),
        top=min(char.top for char in main),
        bottom=max(char.bottom for char in main),
        baseline=sorted(char.baseline for char in main)[len(main) // 2],
        size=size,
        bold=_is_bold(textpage, run[0].index) and _is_bold(textpage, run[-1].index),
    )


_BOLD_WORDS = ("bold", "black", "heavy", "semibold", "demi", "cmbx", "-bx", "medi")


def _is_bold(textpage: Any, index: int) -> bool:
    import pypdfium2.raw as raw

    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    raw.FPDFText_GetFontInfo(textpage, index, buffer, 128, flags)
    name = buffer.value.decode("latin-1").lower()
    return any(word in name for word in _BOLD_WORDS)

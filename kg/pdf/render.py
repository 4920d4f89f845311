"""A page as an image, and where a passage sits on it: what a citation card shows.

`page_image` renders one page (PDFium, through Pillow); `passage_boxes` finds a passage's
characters on the page and returns one box per line it covers, in the image's pixels, for
drawing the highlight. The passage is matched on letters and digits only, so line breaks,
hyphens and spacing the extraction changed do not matter; a passage is found by its first
`MATCH_CHARS` such characters, then followed for its length. `highlighted_page` puts the two
together: the page as a PNG with the passage marked, what a citation card embeds.
"""

from __future__ import annotations

import ctypes
import io
from pathlib import Path
from typing import Any

from kg.pdf.errors import PdfDamagedError
from kg.pdf.extract import PDFIUM_LOCK

__all__ = ["HIGHLIGHT", "MATCH_CHARS", "highlighted_page", "passage_boxes", "page_image"]

MATCH_CHARS = 60
Box = tuple[float, float, float, float]  # left, top, right, bottom in pixels
HIGHLIGHT = (255, 214, 0, 96)  # a highlighter's yellow, translucent: the text stays readable


def page_image(path: Path | str, page: int, scale: float = 2.0) -> Any:
    """The 1-based `page` of the PDF at `path` as a PIL image, `scale` pixels per point."""
    with PDFIUM_LOCK:
        document = _open(path)
        try:
            return document[_index(document, path, page)].render(scale=scale).to_pil()
        finally:
            document.close()


def passage_boxes(path: Path | str, page: int, passage: str, scale: float = 2.0) -> list[Box]:
    """Boxes (one per line) of `passage` on `page`, in pixels of `page_image(…, scale)`; [] when
    the page does not hold it."""
    key = [ch.casefold() for ch in passage if ch.isalnum()]
    if not key:
        return []
    with PDFIUM_LOCK:
        document = _open(path)
        try:
            pdf_page = document[_index(document, path, page)]
            height = pdf_page.get_size()[1]
            chars = _alnum_chars(pdf_page)
        finally:
            document.close()
    text = "".join(ch for ch, _ in chars)
    start = text.find("".join(key[:MATCH_CHARS]))
    if start < 0:
        return []
    matched = [box for _, box in chars[start : start + len(key)]]
    return _line_boxes(matched, height, scale)


def highlighted_page(path: Path | str, page: int, passage: str, scale: float = 1.5) -> bytes:
    """The 1-based `page` as PNG bytes with `passage` marked line by line (unmarked when the page
    does not hold it: the page is still the one cited)."""
    from PIL import Image, ImageDraw

    image = page_image(path, page, scale).convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, top, right, bottom in passage_boxes(path, page, passage, scale):
        draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _open(path: Path | str) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(Path(path))
    except pdfium.PdfiumError:
        raise PdfDamagedError(path, "PDFium cannot read its structure") from None


def _index(document: Any, path: Path | str, page: int) -> int:
    if not 1 <= page <= len(document):
        raise PdfDamagedError(path, f"it has no page {page} (it has {len(document)})")
    return page - 1


def _alnum_chars(pdf_page: Any) -> list[tuple[str, Box]]:
    """The page's letters and digits (case-folded) with their boxes in PDF points."""
    import pypdfium2.raw as raw

    textpage = pdf_page.get_textpage()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    chars: list[tuple[str, Box]] = []
    try:
        for i in range(textpage.count_chars()):
            char = chr(raw.FPDFText_GetUnicode(textpage.raw, i))
            if not char.isalnum():
                continue
            raw.FPDFText_GetCharBox(textpage.raw, i, left, right, bottom, top)
            for folded in char.casefold():  # "ß" folds to two letters, as the key does
                chars.append((folded, (left.value, top.value, right.value, bottom.value)))
    finally:
        textpage.close()
    return chars


def _line_boxes(boxes: list[Box], height: float, scale: float) -> list[Box]:
    """Character boxes (PDF points, y up) merged into one box per line (pixels, y down)."""
    lines: list[list[float]] = []
    for x0, y_top, x1, y_bottom in boxes:
        last = lines[-1] if lines else None
        if (
            last
            and abs(y_bottom - last[3]) < 0.6 * max(y_top - y_bottom, 1.0)
            and x0 >= last[0] - 1
        ):
            last[0], last[1] = min(last[0], x0), max(last[1], y_top)
            last[2], last[3] = max(last[2], x1), min(last[3], y_bottom)
        else:
            lines.append([x0, y_top, x1, y_bottom])
    return [(x0 * scale, (height - top) * scale, x1 * scale, (height - bottom) * scale)
            for x0, top, x1, bottom in lines]  # fmt: skip

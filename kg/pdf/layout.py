"""Reading order: the lines of each page (`kg.pdf.extract`) become `Row`s in the order a reader
reads them, with running headers, footers and page numbers left out.

- Headers and footers: a line in the top or bottom `MARGIN_BAND` of the page whose text (digits
  aside) recurs in that band on at least `max(2, 30 %)` of the pages, or that is a bare page
  number there ("3", "— 3 —", "Page 3 of 9").
- Columns: a page is two-column when a vertical gutter near its middle is crossed by little of
  its text while each side holds a good share of it (`_gutter`). Lines that cross the gutter (a
  title, a wide figure) divide the page into bands; each band is read left column first, then
  right. Lines on one baseline within a column are one row (table cells, a line split at a
  wide gap).
- Footnotes: smaller-type rows at the foot of a column, set off by a gap, are moved to the end of
  the page, so that a paragraph running from one column into the next reads whole.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kg.pdf.extract import Line, PageLayout

__all__ = ["Row", "body_font_size", "drop_running_lines", "reading_order"]

MARGIN_BAND = 0.085
_PAGE_NUMBER = re.compile(
    r"^[\s\-–—·|]*(?:(?:page|p\.)\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?"
    r"[\s\-–—·|]*$|^第\s*\d{1,4}\s*页(?:\s*共\s*\d{1,4}\s*页)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Row:
    """A line of text in reading order. `column` is 0 for a one-column page or a row across the
    gutter, 1 (left) or 2 (right); `col_x0`/`col_x1` are its column's usual left and right edges
    on its page (a paragraph's first line is indented from `col_x0`)."""

    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    bold: bool
    column: int
    col_x0: float
    col_x1: float
    footnote: bool = False


def body_font_size(pages: Sequence[PageLayout]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def drop_running_lines(pages: Sequence[PageLayout]) -> list[list[Line]]:
    """Each page's lines without its running header, footer and page number."""
    keyed = [[(_margin_key(page, line), line) for line in page.lines] for page in pages]
    seen: Counter[str] = Counter()
    for lines in keyed:
        seen.update({key for key, _ in lines if key})
    repeated = max(2, math.ceil(0.3 * len(pages)))
    return [
        [line for key, line in lines
         if not key or (seen[key] < repeated and not _PAGE_NUMBER.match(line.text))]
        for lines in keyed
    ]  # fmt: skip


def _margin_key(page: PageLayout, line: Line) -> str:
    """The text of a line in the top or bottom margin band, digits masked ('' elsewhere)."""
    band = MARGIN_BAND * page.height
    if line.bottom > band and line.top < page.height - band:
        return ""
    where = "top" if line.top <= band else "bottom"
    return where + ":" + re.sub(r"\d+", "#", " ".join(line.text.split())).casefold()


def reading_order(pages: Sequence[PageLayout], kept: Sequence[Sequence[Line]]) -> list[Row]:
    """The rows of every page, page by page, in reading order (see the module docstring)."""
    rows: list[Row] = []
    body = body_font_size(pages)
    for page, lines in zip(pages, kept, strict=True):
        rows.extend(_page_rows(page, list(lines), body))
    return rows


def _page_rows(page: PageLayout, lines: list[Line], body: float) -> list[Row]:
    if not lines:
        return []
    gutter = _gutter(page, lines)
    if gutter is None:
        return _with_footnotes_last(_column_rows(lines, 0, lines), body)
    left = [line for line in lines if line.x1 <= gutter]
    right = [line for line in lines if line.x0 >= gutter]
    out: list[Row] = []
    band: list[Line] = []
    for line in sorted(lines, key=lambda item: (item.top, item.x0)):
        if line.x1 <= gutter or line.x0 >= gutter:
            band.append(line)
            continue
        out.extend(_band_rows(band, gutter, left, right))
        out.extend(_column_rows([line], 0, lines))
        band = []
    out.extend(_band_rows(band, gutter, left, right))
    return _with_footnotes_last(out, body)


def _band_rows(band: list[Line], gutter: float, left: list[Line], right: list[Line]) -> list[Row]:
    return [
        *_column_rows([line for line in band if line.x1 <= gutter], 1, left),
        *_column_rows([line for line in band if line.x0 >= gutter], 2, right),
    ]


def _gutter(page: PageLayout, lines: list[Line]) -> float | None:
    """The x of the gap between two columns, or None for a one-column page."""
    total = sum(len(line.text) for line in lines)
    if total < 200:
        return None
    best: tuple[int, float] | None = None
    runs: list[list[float]] = []
    for step in range(int(page.width * 0.3), int(page.width * 0.7) + 1):
        x = float(step)
        crossing = sum(len(line.text) for line in lines if line.x0 < x < line.x1)
        if best is None or crossing < best[0]:
            best, runs = (crossing, x), [[x]]
        elif crossing == best[0]:
            if runs and runs[-1][-1] == x - 1:
                runs[-1].append(x)
            else:
                runs.append([x])
    if best is None or best[0] > 0.4 * total:
        return None
    middle = page.width / 2
    run = min(runs, key=lambda xs: abs((xs[0] + xs[-1]) / 2 - middle))
    gutter = (run[0] + run[-1]) / 2
    left = sum(len(line.text) for line in lines if line.x1 <= gutter)
    right = sum(len(line.text) for line in lines if line.x0 >= gutter)
    return gutter if min(left, right) >= 0.1 * total else None


def _column_rows(lines: list[Line], column: int, column_lines: list[Line]) -> list[Row]:
    """`lines` of one column as rows: those on one baseline merged left to right."""
    if not lines:
        return []
    x0 = _usual([line.x0 for line in column_lines if len(line.text) > 25] or
                [line.x0 for line in column_lines], low=True)  # fmt: skip
    x1 = _usual([line.x1 for line in column_lines if len(line.text) > 25] or
                [line.x1 for line in column_lines], low=False)  # fmt: skip
    rows: list[Row] = []
    group: list[Line] = []
    for line in sorted(lines, key=lambda item: (item.baseline, item.x0)):
        if group and abs(line.baseline - group[0].baseline) > 0.4 * max(line.size, 1.0):
            rows.append(_row(group, column, x0, x1))
            group = []
        group.append(line)
    rows.append(_row(group, column, x0, x1))
    return rows


def _usual(values: list[float], low: bool) -> float:
    """The edge most lines share (rounded to 2 points); ties go to the outermost."""
    counts = Counter(round(value / 2) * 2 for value in values)
    top = max(counts.values())
    candidates = [value for value, count in counts.items() if count == top]
    return float(min(candidates) if low else max(candidates))


def _row(group: list[Line], column: int, col_x0: float, col_x1: float) -> Row:
    group = sorted(group, key=lambda line: line.x0)
    main = max(group, key=lambda line: len(line.text))
    return Row(
        text="\t".join(line.text for line in group),
        page=main.page,
        x0=group[0].x0,
        x1=max(line.x1 for line in group),
        top=min(line.top for line in group),
        bottom=max(line.bottom for line in group),
        baseline=main.baseline,
        size=main.size,
        bold=all(line.bold for line in group),
        column=column,
        col_x0=col_x0,
        col_x1=col_x1,
    )


def _with_footnotes_last(rows: list[Row], body: float) -> list[Row]:
    """Move each column's footnotes (smaller type at its foot, after a gap) to the page's end."""
    by_column: dict[int, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_column[row.column].append(index)
    notes: set[int] = set()
    for indices in by_column.values():
        tail: list[int] = []
        for index in reversed(indices):
            row = rows[index]
            if row.size >= 0.92 * body:
                break
            tail.append(index)
        if tail and len(tail) < len(indices):
            first = rows[min(tail)]
            before = rows[indices[indices.index(min(tail)) - 1]]
            if first.top - before.bottom > 0.8 * body:
                notes.update(tail)
    if not notes:
        return rows
    kept = [row for index, row in enumerate(rows) if index not in notes]
    return kept + [replace(rows[index], footnote=True) for index in sorted(notes)]

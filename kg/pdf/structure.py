"""Rows in reading order become a `PdfDocument`: front matter, sections of paragraphs, the
reference list and each page's text.

- Title: the rows set in the largest type in the top half of page 1 (at least 15 % larger than
  the body text); rows between it and the first heading are the title page (authors, date).
- Headings (`kg.pdf.headings`) open sections; a subsection takes its parent's kind, and an
  unknown heading after the references is an appendix. Text on page 1 before any heading is
  kept as the abstract when it is long enough to be one (a layout with no "Abstract" heading).
- Paragraphs end at a heading, a change of type size, a vertical gap wider than the usual line
  spacing, an indented first line, or a short line ending a sentence. A paragraph running onto
  the next page is cut after the sentence it breaks in, so each part has one page.
- The references section is cut into entries (`kg.pdf.references.split_entries`), one paragraph
  each.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from kg.pdf.extract import RawPdf
from kg.pdf.front import authors_from, find_arxiv_id, find_date, find_doi, titles_agree
from kg.pdf.headings import (
    Heading,
    inline_abstract,
    inline_abstract_word,
    is_caption,
    parse_heading,
)
from kg.pdf.layout import Row, body_font_size, drop_running_lines, reading_order
from kg.pdf.records import FrontMatter, PageText, Paragraph, PdfDocument, Reference, Section
from kg.pdf.references import parse_reference, split_entries
from kg.pdf.textjoin import Vocabulary, clean_line, join_lines, join_with_offsets
from kg.text import sentence_spans

_WORD = re.compile(r"[A-Za-z]{3,}|[\u4e00-\u9fff]")  # a word, not a symbol or a variable
_EQUATION_NUMBER = re.compile(r"\(\d+(?:\.\d+)?\)\s*$")
_MATH = re.compile(r"[\u0370-\u03ff\u2200-\u22ff\u27e8-\u27ef\u00af]")  # Greek, operators

__all__ = ["build_document"]

# unheaded text before the first heading is an abstract when it holds this many characters
MIN_UNHEADED_ABSTRACT = 300


@dataclass
class _Block:
    """A section being built: its heading (None for unheaded text) and rows."""

    heading: Heading | None
    page: int
    rows: list[Row] = field(default_factory=list)


def build_document(raw: RawPdf, sha256: str, path: str) -> PdfDocument:
    """The document the pages of `raw` hold."""
    rows = reading_order(raw.pages, drop_running_lines(raw.pages))
    body = body_font_size(raw.pages)
    vocabulary = Vocabulary.of(row.text for row in rows)
    title_rows = _title_rows(rows, raw, body)
    blocks = _blocks([row for row in rows if row not in title_rows], body)
    front_rows = [] if not blocks or blocks[0].heading else blocks.pop(0).rows
    front_rows = [row for row in front_rows if row.page == 1] or front_rows
    pitch = _line_pitch(rows)
    sections, pieces, references = _sections(blocks, pitch, vocabulary)
    title = join_lines([row.text for row in title_rows], vocabulary) if title_rows else None
    unheaded = _unheaded_abstract(front_rows, pitch, vocabulary, sections)
    if unheaded is not None:
        section, section_pieces, used = unheaded
        sections.insert(0, section)
        for page, texts in section_pieces.items():
            pieces[page][0:0] = texts
        front_rows = [row for row in front_rows if row not in used]
    front_texts = [clean_line(row.text) for row in front_rows]
    pieces[1][0:0] = ([title] if title else []) + front_texts
    page1 = "\n".join(pieces.get(1, []))
    side = raw.pages[0].side_text if raw.pages else ""
    front = FrontMatter(
        title=title or raw.metadata_title,
        authors=authors_from([row.text for row in front_rows]),
        date=find_date(front_texts) or find_date([side]),
        arxiv_id=find_arxiv_id(side) or find_arxiv_id(" ".join(front_texts)) or find_arxiv_id(page1),
        doi=find_doi(" ".join(front_texts)) or _first_page_doi(rows),
        metadata_agrees=titles_agree(title, raw.metadata_title),
    )  # fmt: skip
    pages = tuple(PageText(page.number, "\n\n".join(pieces.get(page.number, [])))
                  for page in raw.pages)  # fmt: skip
    return PdfDocument(sha256, path, len(raw.pages), pages, front, tuple(sections), references)


def _first_page_doi(rows: Sequence[Row]) -> str | None:
    """A DOI printed on page 1 outside the body (a footnote, a journal line)."""
    notes = " ".join(clean_line(row.text) for row in rows if row.page == 1 and row.footnote)
    return find_doi(notes)


def _title_rows(rows: Sequence[Row], raw: RawPdf, body: float) -> list[Row]:
    if not raw.pages:
        return []
    height = raw.pages[0].height
    candidates = [row for row in rows if row.page == 1 and row.top < 0.5 * height
                  and not row.footnote and any(ch.isalpha() for ch in row.text)]  # fmt: skip
    if not candidates:
        return []
    largest = max(row.size for row in candidates)
    if largest < 1.15 * body:
        return []
    title: list[Row] = []
    for row in candidates:
        if row.size >= 0.93 * largest:
            title.append(row)
        elif title:
            break
    return title


def _blocks(rows: Sequence[Row], body: float) -> list[_Block]:
    """Rows grouped under their headings, in reading order."""
    found = [None if row.footnote else _heading(row, body, False) for row in rows]
    roman = any(heading is not None and heading.style == "roman" for heading in found)
    blocks: list[_Block] = []
    after_references = False
    current_kind: str | None = None
    for row, heading in zip(rows, found, strict=True):
        if heading is None and not row.footnote and blocks and blocks[-1].heading is not None:
            heading = _heading(row, body, True)  # past the title page: unnumbered headings too
        abstract = None if heading or row.footnote else inline_abstract(row.text)
        if abstract is not None:
            heading = Heading(inline_abstract_word(row.text), "abstract", 1, None)
            row = replace(row, text=abstract)
        if heading is None:
            if not blocks:
                blocks.append(_Block(None, row.page))
            blocks[-1].rows.append(row)
            continue
        heading = _placed(heading, roman, after_references, current_kind)
        if heading.level == 1:
            current_kind = heading.kind
        after_references = after_references or heading.kind == "references"
        blocks.append(_Block(heading, row.page))
        if abstract is not None:
            blocks[-1].rows.append(row)
    return blocks


def _heading(row: Row, body: float, plain: bool) -> Heading | None:
    """`plain`: whether an unnumbered bold larger row may be a heading of the paper's own (not
    on the title page, where authors and dates are set large)."""
    emphasized = row.bold or row.size >= 1.1 * body
    return parse_heading(row.text, emphasized, plain and row.bold and row.size >= 1.15 * body)


def _placed(heading: Heading, roman: bool, after_references: bool, parent: str | None) -> Heading:
    """The heading's level and kind in its document: lettered headings are subsections under
    Roman-numbered sections and appendices elsewhere; subsections take the parent's kind."""
    level = heading.level
    if heading.style == "letter" and not after_references and roman and level == 1:
        level = 2
    kind = heading.kind
    if level > 1:
        kind = parent or kind or "other"
    elif kind is None:
        kind = "appendix" if after_references or heading.style == "letter" else "other"
    return replace(heading, level=level, kind=kind)


def _line_pitch(rows: Sequence[Row]) -> dict[float, float]:
    """The usual distance between baselines, per font size."""
    diffs: dict[float, list[float]] = defaultdict(list)
    for before, row in zip(rows, rows[1:], strict=False):
        same = (before.page, before.column, before.size) == (row.page, row.column, row.size)
        diff = row.baseline - before.baseline
        if same and 0.8 * row.size < diff < 3 * row.size:
            diffs[row.size].append(diff)
    return {size: statistics.median(values) for size, values in diffs.items()}


def _breaks(before: Row, row: Row, pitch: dict[float, float]) -> bool:
    """Whether `row` starts a new paragraph after `before`."""
    if before.footnote != row.footnote or abs(before.size - row.size) > 0.1 * max(row.size, 1):
        return True
    if is_caption(row.text):
        return True
    if "\t" in before.text and "\t" in row.text and abs(before.x0 - row.x0) < 2:
        return False  # rows of one table
    same_column = (before.page, before.column) == (row.page, row.column)
    usual = pitch.get(row.size, 1.2 * row.size)
    if same_column and row.baseline - before.baseline > 1.4 * usual:
        return True
    # a first line is indented from the line before it (in a column: an abstract or quote set
    # in from both margins reads as one paragraph), or from its column's edge after a break
    indent = row.x0 - (before.x0 if same_column else row.col_x0)
    if indent > 0.6 * row.size:
        return True
    short = before.x1 < before.col_x1 - 1.5 * before.size
    return short and clean_line(before.text).endswith(tuple(".!?:。！？：;；"))


def _sections(
    blocks: Sequence[_Block], pitch: dict[float, float], vocabulary: Vocabulary
) -> tuple[list[Section], dict[int, list[str]], tuple[Reference, ...]]:
    sections: list[Section] = []
    pieces: dict[int, list[str]] = defaultdict(list)
    references: list[Reference] = []
    for block in blocks:
        heading = block.heading or Heading("", "other", 1, None)
        if block.heading is not None:
            pieces[block.page].append(clean_line(heading.name))
        if heading.kind == "references" and heading.level == 1:
            paragraphs = []
            for text, page in split_entries(block.rows, vocabulary):
                references.append(parse_reference(text, page))
                paragraphs.append(Paragraph(text, page))
                pieces[page].append(text)
        else:
            paragraphs = _paragraphs(block.rows, pitch, vocabulary, pieces)
        sections.append(Section(heading.name, heading.kind or "other", heading.level,
                                block.page, tuple(paragraphs)))  # fmt: skip
    return sections, pieces, tuple(references)


def _paragraphs(rows: Sequence[Row], pitch: dict[float, float], vocabulary: Vocabulary,
                pieces: dict[int, list[str]]) -> list[Paragraph]:  # fmt: skip
    """The rows as paragraphs (each cut at a page change); each page's share of text is added
    to `pieces`."""
    paragraphs: list[Paragraph] = []
    for group in _around_floats(_groups(rows, pitch)):
        paragraphs.extend(_page_cut(group, vocabulary))
        for page, page_rows in _by_page(group).items():
            text = join_lines([row.text for row in page_rows], vocabulary)
            if any(ch.isalnum() for ch in text):
                pieces[page].append(text)
    return [p for p in paragraphs if any(ch.isalnum() for ch in p.text)]


def _groups(rows: Sequence[Row], pitch: dict[float, float]) -> list[list[Row]]:
    """The rows cut where a paragraph breaks (`_breaks`); a display formula's stray rows at
    the head of the next paragraph (a fraction's denominator, set below the numbered line) go
    back to the formula."""
    groups: list[list[Row]] = []
    for row in rows:
        if not groups or _breaks(groups[-1][-1], row, pitch):
            groups.append([])
        groups[-1].append(row)
    kept: list[list[Row]] = []
    for group in groups:
        while (
            kept and group and _formula_fragment(group[0]) and _formula_end(kept[-1][-1], group[0])
        ):
            kept[-1].append(group.pop(0))
        if group:
            kept.append(group)
    return kept


def _formula_end(row: Row, fragment: Row) -> bool:
    """`row`, just above `fragment` on its page, ends a display formula: its number "(1)" or
    another fragment."""
    same_place = (row.page, row.column) == (fragment.page, fragment.column)
    return same_place and (_EQUATION_NUMBER.search(row.text) is not None or _formula_fragment(row))


def _formula_fragment(row: Row) -> bool:
    """A short row of mathematical symbols and letters with no word in it ("τ √d", "⟨q̄, k̄⟩"):
    a piece of a display formula, never a paragraph's first line (a row of table figures has
    no such symbol)."""
    text = clean_line(row.text)
    short = len(text) < 16 and _WORD.search(text) is None
    return short and (_MATH.search(text) is not None or len(text) <= 3)  # "h": a subscript


def _around_floats(groups: list[list[Row]]) -> list[list[Row]]:
    """Paragraphs whose text a table or figure interrupts at a column or page break, joined:
    a paragraph ending mid-sentence, then only floats (captions, table rows, other type
    sizes) at the top of the next column, then text going on in lower case."""
    groups = [list(group) for group in groups]
    index = 0
    while index < len(groups):
        last = clean_line(groups[index][-1].text)
        unfinished = bool(last) and (last[-1].isalnum() or last[-1] in ",-\u00ad")
        for ahead in range(index + 1, min(index + 5, len(groups))):
            first = clean_line(groups[ahead][0].text)
            between = groups[index + 1 : ahead]
            moved = (groups[ahead][0].page, groups[ahead][0].column) != \
                (groups[index][-1].page, groups[index][-1].column)  # fmt: skip
            if (unfinished and moved and between and first[:1].islower()
                    and all(_is_float(group, groups[index][-1].size) for group in between)):  # fmt: skip
                groups[index].extend(groups.pop(ahead))
                break
        index += 1
    return groups


def _is_float(group: Sequence[Row], size: float) -> bool:
    return any(is_caption(row.text) for row in group) or all(
        "\t" in row.text or abs(row.size - size) > 0.1 * size for row in group
    )


def _by_page(rows: Sequence[Row]) -> dict[int, list[Row]]:
    pages: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        pages[row.page].append(row)
    return pages


def _page_cut(rows: Sequence[Row], vocabulary: Vocabulary) -> list[Paragraph]:
    """A paragraph's rows as one Paragraph per page it touches, cut after the sentence that
    runs over each page break."""
    text, offsets = join_with_offsets([row.text for row in rows], vocabulary)
    breaks = [(offsets[i], row.page) for i, row in enumerate(rows)
              if i and row.page != rows[i - 1].page]  # fmt: skip
    out: list[Paragraph] = []
    start, page = 0, rows[0].page
    spans = sentence_spans(text)
    for offset, next_page in breaks:
        cut = next((end for begin, end in spans if end > offset and begin < offset), offset)
        cut = max(cut, start)
        out.append(Paragraph(text[start:cut].strip(), page))
        start, page = cut, next_page
    out.append(Paragraph(text[start:].strip(), page))
    return [p for p in out if p.text]


def _unheaded_abstract(
    rows: Sequence[Row], pitch: dict[float, float], vocabulary: Vocabulary,
    sections: Sequence[Section],
) -> tuple[Section, dict[int, list[str]], set[Row]] | None:  # fmt: skip
    """Long paragraphs on the title page before any heading, as an abstract section (only when
    the paper has no abstract heading)."""
    if any(section.kind == "abstract" for section in sections):
        return None
    long = [group for group in _groups(rows, pitch)
            if len(join_lines([r.text for r in group], vocabulary)) >= MIN_UNHEADED_ABSTRACT]  # fmt: skip
    if not long:
        return None
    pieces: dict[int, list[str]] = defaultdict(list)
    paragraphs: list[Paragraph] = []
    for group in long:
        paragraphs.extend(_page_cut(group, vocabulary))
        pieces[group[0].page].append(join_lines([r.text for r in group], vocabulary))
    used = {row for group in long for row in group}
    return Section("", "abstract", 1, long[0][0].page, tuple(paragraphs)), pieces, used

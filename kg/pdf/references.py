"""Reference lists and the citation markers that point into them.

Splitting a reference list into entries (`split_entries`), in the styles papers use:
numbered `[1] …`, numbered `1. …` (the labels must count up), and author-year lists, whose
entries start flush left under a hanging indent or after a gap (on rows with positions), or
after a full stop where the next author name starts ("Smith, J., …"; on plain text).

Reading an entry (`parse_reference`): its label, arXiv id, DOI, year, first author's surname,
and a title guess placed by the style: the quoted part ("…," IEEE), the part before a GB/T type
mark (`Title[J]`), else the first sentence after the authors (and after the year, in
"Smith, J. 2023. Title. In …").

Citing sentences (`citing_sentences`): every body sentence with its markers — "[4]", "[3, 5]",
"[2-4]", "(Smith et al., 2023; Doe, 2022a)", "Smith and Doe (2023)" — resolved to entries by
number, or by first author and year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.lang import has_han
from kg.pdf.front import find_arxiv_id, find_doi
from kg.pdf.headings import section_words
from kg.pdf.layout import Row
from kg.pdf.records import CitingSentence, PdfDocument, Reference
from kg.pdf.textjoin import Vocabulary, clean_line, join_lines
from kg.tables import fold
from kg.text import sentence_spans

__all__ = [
    "Marker",
    "citing_sentences",
    "find_markers",
    "parse_reference",
    "resolve_markers",
    "split_entries",
    "split_text_entries",
]

_BRACKET_LABEL = re.compile(r"^\[(\d{1,3})\]\s*")
_DOT_LABEL = re.compile(r"^(\d{1,3})\.\s+(?=\S)")
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})([a-z])?(?![\d])")
_QUOTED = re.compile(r"[“\"]\s*(.+?)[,.]?\s*[”\"]|``\s*(.+?)[,.]?\s*''")
_GBT_TYPE = re.compile(r"\[(?:J|C|M|D|R|N|P|S|Z|A|EB/OL|J/OL|M/OL|C/OL|DB/OL|R/OL)\]")
_AUTHOR_START = re.compile(r"(?<=\.)\s+(?=[A-Z][A-Za-z'’\-]+,\s+(?:[A-Z]\.|[A-Z][a-z]+))")


@dataclass(frozen=True)
class Marker:
    """A citation marker as written, and the entry labels (`numbers`) or (surname, year,
    suffix) keys it names."""

    text: str
    numbers: tuple[int, ...] = ()
    names: tuple[tuple[str, int, str], ...] = ()


# ---------------------------------------------------------------- splitting the list


def split_entries(rows: Sequence[Row], vocabulary: Vocabulary) -> list[tuple[str, int]]:
    """The entries of a reference list laid out in `rows`: (text, page of its first row)."""
    texts = [clean_line(row.text) for row in rows]
    starts = (_label_starts(texts, _BRACKET_LABEL) or _label_starts(texts, _DOT_LABEL)
              or _layout_starts(rows))  # fmt: skip
    entries = []
    for begin, end in zip(starts, [*starts[1:], len(rows)], strict=True):
        text = join_lines([rows[i].text for i in range(begin, end)], vocabulary)
        if text.strip():
            entries.append((text, rows[begin].page))
    return entries


def split_text_entries(text: str) -> list[str]:
    """The entries of a reference list given as plain text (one entry may span lines)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    starts = _label_starts(lines, _BRACKET_LABEL) or _label_starts(lines, _DOT_LABEL)
    if starts:
        return [
            " ".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)
        ]
    return [part.strip() for part in _AUTHOR_START.split(" ".join(lines)) if part.strip()]


def _label_starts(texts: Sequence[str], label: re.Pattern[str]) -> list[int]:
    """Rows that open with the next label (1, 2, 3, … in order); [] unless most rows that open
    with a label do so in sequence and there are at least two."""
    starts: list[int] = []
    expected = None
    for index, text in enumerate(texts):
        match = label.match(text)
        if not match:
            continue
        number = int(match.group(1))
        if expected is None or number == expected:
            starts.append(index)
            expected = number + 1
    if len(starts) < 2 or starts[0] != 0:
        return []
    return starts


def _layout_starts(rows: Sequence[Row]) -> list[int]:
    """Entries of an author-year list: a row flush with its column's left edge after an
    indented row (a hanging indent) or after a gap wider than a line; at the top of a column,
    a flush row after a row that ended an entry (with a full stop)."""
    lefts: dict[tuple[int, int], float] = {}
    for row in rows:
        key = (row.page, row.column)
        lefts[key] = min(lefts.get(key, row.x0), row.x0)

    def flush(row: Row) -> bool:
        return row.x0 - lefts[(row.page, row.column)] < 0.5 * row.size

    starts = [0]
    for index in range(1, len(rows)):
        row, before = rows[index], rows[index - 1]
        if not flush(row):
            continue
        if (row.page, row.column) != (before.page, before.column):
            if clean_line(before.text).endswith((".", "。")):
                starts.append(index)
        elif not flush(before) or row.baseline - before.baseline > 1.6 * row.size:
            starts.append(index)
    return starts


# ---------------------------------------------------------------- reading one entry


def parse_reference(text: str, page: int = 0) -> Reference:
    """One entry's parts (see the module docstring).

    Example:
        >>> ref = parse_reference("[2] H. Touvron, L. Martin, et al. Llama 2: Open foundation "
        ...                       "and fine-tuned chat models. arXiv preprint arXiv:2307.09288, 2023.")
        >>> ref.number, ref.first_author, ref.year, ref.arxiv_id, ref.title_guess
        (2, 'Touvron', 2023, '2307.09288', 'Llama 2: Open foundation and fine-tuned chat models')
        >>> parse_reference("Hinton, G., and Dean, J. 2015. Distilling the knowledge in a "
        ...                 "neural network. arXiv:1503.02531.").title_guess
        'Distilling the knowledge in a neural network'
    """
    number = None
    for label in (_BRACKET_LABEL, _DOT_LABEL):
        match = label.match(text)
        if match:
            number, text = int(match.group(1)), text[match.end() :]
            break
    text = text.strip()
    arxiv, doi = find_arxiv_id(text), find_doi(text)
    plain = _without_ids(text)
    year = _YEAR.search(plain)
    return Reference(
        text=text,
        page=page,
        number=number,
        arxiv_id=arxiv,
        doi=doi,
        title_guess=_title_guess(plain),
        year=int(year.group(1)) if year else None,
        first_author=_first_author(plain),
    )


def _without_ids(text: str) -> str:
    text = re.sub(r"(?:https?://)?(?:dx\.)?doi\.org/\S+|\bdoi:\s*\S+|\b10\.\d{4,9}/\S+", "", text,
                  flags=re.I)  # fmt: skip
    return re.sub(r"(?:arXiv\s*:\s*|https?://arxiv\.org/(?:abs|pdf)/)\S+", "", text, flags=re.I)


def _parts(text: str) -> list[str]:
    """The entry cut at its full stops (not after initials or abbreviations)."""
    abbreviations = section_words().reference_abbreviations
    parts, start = [], 0
    for match in re.finditer(r"[.?!．](?=\s|$)", text):
        word = re.search(r"(\S+)$", text[start : match.start()])
        token = word.group(1) if word else ""
        # a full stop after an initial ("J.") or an abbreviation ("Proc.") ends no part
        if re.fullmatch(r"(?:[A-Z]\.?-?)?[A-Z]", token) or token.casefold() in abbreviations:
            continue
        parts.append(text[start : match.end() if text[match.start()] in "?!" else match.start()])
        start = match.end()
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _title_guess(text: str) -> str | None:
    quoted = _QUOTED.search(text)
    if quoted:
        return _tidy(quoted.group(1) or quoted.group(2))
    gbt = _GBT_TYPE.search(text)
    if gbt:
        before = text[: gbt.start()]
        cut = max(before.rfind(". "), before.rfind("．"))
        return _tidy(before[cut + 1 :])
    parts = _parts(text)
    for part in parts[1:]:
        bare = part.strip("() ")
        if (
            re.fullmatch(r"(?:19|20)\d{2}[a-z]?", bare)
            or len(part.split()) < 2
            and not has_han(part)
        ):
            continue
        if re.match(r"(?:In|in)\s", part):
            return None
        return _tidy(part)
    return None


def _tidy(title: str) -> str | None:
    title = " ".join(title.split()).strip(" ,.;:")
    return title or None


def _first_author(text: str) -> str | None:
    head = re.split(r",|，|\s+and\s+|\s+et\s+al\b|(?<=[a-z]{2})\.\s|\s*\(", text, maxsplit=1)[0]
    head = head.strip(" .")
    if not head:
        return None
    if re.fullmatch(r"[\u4e00-\u9fff·]{2,5}", head):
        return head
    caps = re.fullmatch(r"([A-Z][A-Z'\-]+)(?:\s+[A-Z]{1,2}){1,3}", head)  # GB/T: "OSTROWSKI M"
    if caps:
        return caps.group(1).title()
    words = [w for w in head.split() if not re.fullmatch(r"(?:[A-Z]\.-?)+|[A-Z]{1,2}", w)]
    if not words:
        return None
    return words[-1]


# ---------------------------------------------------------------- markers in the body


_NUMERIC = re.compile(r"\[(\s*\d{1,3}(?:\s*[-–—,;]\s*\d{1,3})*\s*)\]")
_NAME = r"[A-Z][\w'’\-]+|[\u4e00-\u9fff]{1,4}"
_PAREN = re.compile(r"[(（]([^()（）]*?(?:19|20)\d{2}[a-z]?[^()（）]*)[)）]")
_IN_PAREN = re.compile(
    r"(" + _NAME + r")(?:\s+(?:and|&)\s+(?:" + _NAME + r")|\s+et\s+al\.?|等人?)?[,，]?\s*"
    r"((?:19|20)\d{2})([a-z])?"
)
_NARRATIVE = re.compile(
    r"(" + _NAME + r")(?:\s+(?:and|&)\s+(?:" + _NAME + r")|\s+et\s+al\.?)?\s+\(((?:19|20)\d{2})"
    r"([a-z])?\)"
)


def find_markers(sentence: str) -> list[Marker]:
    """The citation markers in `sentence`, in order.

    Example:
        >>> [m.numbers for m in find_markers("We build on X [4] and on [2-3, 6].")]
        [(4,), (2, 3, 6)]
        >>> [m.names for m in find_markers("as shown (Smith et al., 2023; Doe, 2022a).")]
        [(('smith', 2023, ''), ('doe', 2022, 'a'))]
    """
    found: list[tuple[int, Marker]] = []
    for match in _NUMERIC.finditer(sentence):
        numbers = _expand(match.group(1))
        if numbers:
            found.append((match.start(), Marker(match.group(), numbers=numbers)))
    for match in _PAREN.finditer(sentence):
        names = tuple((fold(m.group(1)), int(m.group(2)), m.group(3) or "")
                      for m in _IN_PAREN.finditer(match.group(1)))  # fmt: skip
        if names:
            found.append((match.start(), Marker(match.group(), names=names)))
    for match in _NARRATIVE.finditer(sentence):
        key = (fold(match.group(1)), int(match.group(2)), match.group(3) or "")
        found.append((match.start(), Marker(match.group(), names=(key,))))
    return [marker for _, marker in sorted(found, key=lambda item: item[0])]


def _expand(body: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in re.split(r"[,;]", body):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        if len(bounds) == 2 and re.search(r"[-–—]", part) and 0 < bounds[1] - bounds[0] < 50:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        elif len(bounds) == 1:
            numbers.append(bounds[0])
        else:
            return ()
    return tuple(numbers)


def resolve_markers(markers: Sequence[Marker], references: Sequence[Reference]) -> tuple[int, ...]:
    """The indices of the entries `markers` name (a marker naming any unknown number is not a
    citation: "[0, 1]" is an interval)."""
    by_number = {ref.number: i for i, ref in enumerate(references) if ref.number is not None}
    by_name: dict[tuple[str, int], list[int]] = {}
    for i, ref in enumerate(references):
        if ref.first_author and ref.year:
            by_name.setdefault((fold(ref.first_author), ref.year), []).append(i)
    found: list[int] = []
    for marker in markers:
        if marker.numbers and all(n in by_number for n in marker.numbers):
            found.extend(by_number[n] for n in marker.numbers)
        for surname, year, suffix in marker.names:
            candidates = by_name.get((surname, year), [])
            position = ord(suffix) - ord("a") if suffix else 0
            if candidates and position < len(candidates):
                found.append(candidates[position])
    return tuple(dict.fromkeys(found))


def citing_sentences(document: PdfDocument) -> tuple[CitingSentence, ...]:
    """Every body sentence (references and acknowledgements aside) that cites an entry of the
    document's reference list, with its page and section."""
    skip = {"references", "acknowledgements"}
    result = []
    for section, paragraph in document.paragraphs():
        if section.kind in skip:
            continue
        for sentence in body_sentences(paragraph.text):
            markers = find_markers(sentence)
            refs = resolve_markers(markers, document.references) if markers else ()
            if refs:
                result.append(CitingSentence(sentence, paragraph.page, section.name,
                                             tuple(m.text for m in markers), refs))  # fmt: skip
    return tuple(result)


def body_sentences(text: str) -> list[str]:
    """The sentences of a paragraph (kg.text's splitter, with "et al. 2023" and a bracket's
    "(A, 2022; B, 2023)" kept whole)."""
    spans = sentence_spans(text)
    merged: list[list[int]] = []
    for start, end in spans:
        before = text[merged[-1][0] : merged[-1][1]] if merged else ""
        if merged and (
            re.search(r"\bet al\.$|\b(?:e\.g|i\.e|cf|Fig|Sec|Eq|Tab)\.$", before)
            or before.count("(") + before.count("（") > before.count(")") + before.count("）")
        ):  # inside brackets: (A; B)
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [text[a:b] for a, b in merged]

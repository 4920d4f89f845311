"""A paper's title page: its authors, date, arXiv id and DOI (the title is the largest type on
page 1, chosen in `kg.pdf.structure`), and the identifiers any text holds (`find_arxiv_id`,
`find_doi`, shared with the reference parser).

Example:
    >>> find_arxiv_id("arXiv:2403.17215v2 [cs.CL] 14 Mar 2024"), find_date(["14 Mar 2024"])
    ('2403.17215', '2024-03-14')
    >>> authors_from(["Maren Ostrowski 1\\tTobiah Lindqvist 1", "1Helmsgate Institute"])
    ('Maren Ostrowski', 'Tobiah Lindqvist')
    >>> find_doi("Digital Object Identifier 10.99999/jim.2024.0917."), find_date(["2024 年 12 月 8 日"])
    ('10.99999/jim.2024.0917', '2024-12-08')
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from kg.pdf.headings import section_words

__all__ = ["authors_from", "find_arxiv_id", "find_date", "find_doi", "titles_agree"]

_ARXIV = re.compile(
    r"(?:arXiv\s*:\s*|arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
    r"(?:v\d+)?",
    re.IGNORECASE,
)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_MONTHS = {name: number for number, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")], start=1)
    for name in names}  # fmt: skip
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = [
    re.compile(
        r"(?P<year>(?:19|20)\d{2})\s*年\s*(?P<num>\d{1,2})\s*月(?:\s*(?P<day>\d{1,2})\s*日)?"
    ),
    re.compile(r"\b(?P<year>(?:19|20)\d{2})[-/](?P<num>\d{1,2})(?:[-/](?P<day>\d{1,2}))?\b"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>(?:19|20)\d{2})\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>(?:19|20)\d{2})\b", re.I),
    re.compile(r"\b" + _MONTH + r",?\s+(?P<year>(?:19|20)\d{2})\b", re.I),
]
_MARKERS = r"[\d*†‡§¶∗⋆♠♣♢♡]+"
_AUTHOR_SPLIT = re.compile(
    r"\t|,|;|，|、|·|\s+and\s+|\s*&\s*|(?<=\S)\s*" + _MARKERS + r"(?:\s*,\s*" + _MARKERS
    + r")*(?=\s|$)|\s{2,}"
)  # fmt: skip
_LATIN_NAME_WORD = re.compile(r"[A-Z][\w'’.\-]*")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff·]{2,5}")


def find_arxiv_id(text: str) -> str | None:
    """The first arXiv identifier in `text`, without its version."""
    match = _ARXIV.search(text)
    return match.group(1) if match else None


def find_doi(text: str) -> str | None:
    """The first DOI in `text`, without trailing punctuation."""
    match = _DOI.search(text)
    return match.group(1).rstrip(".,;:)]}") if match else None


def find_date(texts: Sequence[str]) -> str | None:
    """The first date written in `texts`, as ISO (day and month when given)."""
    for text in texts:
        for pattern in _DATES:
            for match in pattern.finditer(text):
                iso = _iso(match)
                if iso:
                    return iso
    return None


def _iso(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    month = int(groups["num"]) if groups.get("num") else _MONTHS[groups["month"].lower()]
    if not 1 <= month <= 12:
        return None
    day = int(groups["day"]) if groups.get("day") else None
    date = f"{groups['year']}-{month:02d}"
    return f"{date}-{day:02d}" if day and 1 <= day <= 31 else date


def authors_from(lines: Sequence[str]) -> tuple[str, ...]:
    """The author names on title-page `lines` (between the title and the first heading):
    lines naming institutions, addresses, dates or notes are skipped, superscript markers
    split names."""
    words = section_words()
    names: list[str] = []
    for line in lines:
        text = line.strip()
        if ("@" in text or words.affiliation.search(text) or words.not_author.search(text)
                or find_date([text])):  # fmt: skip
            continue
        for token in _AUTHOR_SPLIT.split(text):
            name = " ".join(token.split())
            if _is_name(name) and name not in names:
                names.append(name)
    return tuple(names)


def _is_name(token: str) -> bool:
    if _HAN_NAME.fullmatch(token):
        return True
    parts = token.split()
    particles = section_words().name_particles
    return (2 <= len(parts) <= 5
            and all(_LATIN_NAME_WORD.fullmatch(p) or p in particles for p in parts)
            and sum(p[0].isupper() for p in parts) >= 2
            and not any(ch.isdigit() for ch in token))  # fmt: skip


def titles_agree(page_title: str | None, metadata_title: str | None) -> bool | None:
    """Whether the PDF's Title field confirms the title read from the page (None: no field)."""
    if not metadata_title or not page_title:
        return None
    a, b = (re.sub(r"\W+", " ", t).casefold().strip() for t in (page_title, metadata_title))
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= 0.85

"""Month and date-range expressions in English and Chinese questions (`2023年5月`, `2023.05`,
`between March and June 2023`, `2023-03 to 2023-05`, `since October`, `Q1 2023`, `第一季度`,
`2023年下半年`, `H2 2023`) turned into inclusive YYYY-MM bounds.

The grammar of a date (year, month, quarter, half) is here; its words (month names, Chinese month
numerals, quarter and half ordinals, the words that open or close a range) are in
`data/date_cues.json`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from kg.cues import CueBook, load_cues, terms_source

__all__ = ["DateRange", "find_date_range", "month_names"]

_YEAR = r"(?:19|20)\d\d"


def _cues() -> CueBook:
    return load_cues("date_cues")


def month_names() -> frozenset[str]:
    """English month names and abbreviations, case-folded (`data/date_cues.json`)."""
    return frozenset(_cues().table("months"))


@cache
def _date_pattern() -> re.Pattern[str]:
    """One date mention: (year?, month?) or a quarter / half-year, in any of the forms users write.
    The words come from `data/date_cues.json`; longer words are tried first."""
    cues = _cues()
    en_month = _longest_first(cues.table("months"))
    zh_month = rf"(?:1[0-2]|0?[1-9]|{_longest_first(cues.table('zh_months'))})"
    quarters = [k for k in cues.table("quarters") if re.search("[a-z]", k)]
    en_ordinal = terms_source(quarters, "none")
    halves = terms_source(cues.table("halves"), "none")
    zh_halves = terms_source(cues.table("zh_halves"), "none")
    return re.compile(
        rf"(?<![\d.])(?P<yq>{_YEAR})\s*[-\s]?\s*Q(?P<q1>[1-4])\b"
        rf"|\bQ(?P<q2>[1-4])(?:\s*(?:of\s+)?[-,]?\s*(?P<yq2>{_YEAR}))?\b"
        rf"|\b(?:the\s+)?(?P<q3>{en_ordinal})\s+quarter(?:\s+of)?(?:\s+(?:the\s+year|(?P<yq3>{_YEAR})))?"
        rf"|(?:(?P<yq4>{_YEAR})\s*年?\s*)?第?(?P<q4>[一二三四1-4])\s*季度"
        rf"|(?<![\d.])(?P<yh>{_YEAR})\s*[-\s]?\s*H(?P<h1>[12])\b"
        rf"|\bH(?P<h2>[12])(?:\s*(?:of\s+)?[-,]?\s*(?P<yh2>{_YEAR}))?\b"
        rf"|\b(?:the\s+)?(?P<h3>{halves})\s+half(?:\s+of)?(?:\s+(?:the\s+year|(?P<yh3>{_YEAR})))?"
        rf"|(?:(?P<yh4>{_YEAR})\s*年?\s*)?(?P<half>{zh_halves})"
        rf"|(?<![\d.])(?P<y1>{_YEAR})\s*[-./]\s*(?P<m1>1[0-2]|0?[1-9])(?![\d.])"
        rf"|(?<![\d./])(?P<m5>1[0-2]|0?[1-9])\s*/\s*(?P<y5>{_YEAR})(?!\d)"
        rf"|(?:(?P<y6>{_YEAR})\s*年\s*)?(?P<m6a>1[0-2]|0?[1-9])\s*[-–~到至]\s*(?P<m6b>1[0-2]|0?[1-9])\s*月"
        rf"|(?:(?P<y2>{_YEAR})\s*年\s*)?(?P<m2>{zh_month})\s*月(?:份)?"
        rf"|\b(?P<m3>{en_month})\.?(?:\s*,?\s*(?P<y3>{_YEAR}))?\b"
        rf"|(?<![\d.])(?P<y4>{_YEAR})(?![\d.])\s*年?",
        re.IGNORECASE,
    )


def _longest_first(words: Iterable[str]) -> str:
    """The words as alternatives, longer first (`sept` before `sep`)."""
    return terms_source(sorted(words, key=len, reverse=True), "none")


@dataclass(frozen=True)
class DateRange:
    """Inclusive bounds (YYYY-MM); a single month has since == until."""

    since: str | None
    until: str | None
    start: int
    end: int

    @property
    def month(self) -> str | None:
        return self.since if self.since is not None and self.since == self.until else None


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    year: int | None
    first: int  # first month covered
    last: int  # last month covered


def find_date_range(text: str, default_year: int) -> DateRange | None:
    """The month or range a question restricts to, or None when it names no date."""
    found = (_mention(m) for m in _date_pattern().finditer(text))
    mentions = [m for m in found if m is not None]
    if not mentions:
        return None
    year = next((m.year for m in mentions if m.year is not None), default_year)
    first, last = mentions[0], mentions[-1]
    since = f"{first.year or year:04d}-{first.first:02d}"
    until = f"{last.year or year:04d}-{last.last:02d}"
    if len(mentions) == 1:
        cues = _cues()
        before, after = text[: first.start], text[first.end :]
        near = before[-12:] + after[:4]
        if cues.regex("since").search(before[-12:]) or _opens(cues.regex("since_after"), after):
            exclusive = bool(cues.regex("since_exclusive").search(near))
            return DateRange(_shift(since, 1) if exclusive else since, None, first.start, first.end)
        if cues.regex("until").search(before[-12:]) or _opens(cues.regex("until_after"), after):
            exclusive = bool(cues.regex("until_exclusive").search(near))
            start_of = f"{first.year or year:04d}-{first.first:02d}"
            return DateRange(None, _shift(start_of, -1) if exclusive else until, first.start,
                             first.end)  # fmt: skip
    return DateRange(since, until, first.start, last.end)


def _opens(cue: re.Pattern[str], text: str) -> bool:
    """`text` starts with the cue, maybe after whitespace (2023年5月 以来)."""
    return re.match(rf"\s*(?:{cue.pattern})", text) is not None


def _mention(m: re.Match[str]) -> _Mention | None:
    g = m.groupdict()
    cues = _cues()
    quarter = g["q1"] or g["q2"] or g["q3"] or g["q4"]
    if quarter:
        year = g["yq"] or g["yq2"] or g["yq3"] or g["yq4"]
        first = 3 * int(cues.table("quarters")[quarter.casefold()]) - 2
        return _span(m, year, first, first + 2)
    half = g["h1"] or g["h2"] or g["h3"] or g["half"]
    if half:
        year = g["yh"] or g["yh2"] or g["yh3"] or g["yh4"]
        halves = {**cues.table("halves"), **cues.table("zh_halves"), "1": 1, "2": 2}
        first = 1 if halves[half.casefold()] == 1 else 7
        return _span(m, year, first, first + 5)
    if g["m1"] or g["m5"]:
        month = int(g["m1"] or g["m5"])
        return _span(m, g["y1"] or g["y5"], month, month)
    if g["m6a"]:
        return _span(m, g["y6"], int(g["m6a"]), int(g["m6b"]))
    if g["m2"]:
        month = _zh_month(g["m2"])
        return _span(m, g["y2"], month, month)
    if g["m3"]:
        month = int(cues.table("months")[g["m3"].casefold()])
        if g["m3"].casefold() == "may" and not g["y3"] and not _looks_like_month(m):
            return None  # "may" is usually the verb
        return _span(m, g["y3"], month, month)
    if g["y4"]:
        return _span(m, g["y4"], 1, 12)
    return None


def _span(m: re.Match[str], year: str | None, first: int, last: int) -> _Mention:
    # the span ends at the date's last character: a premise correction quotes it
    end = m.start() + len(m.group(0).rstrip())
    return _Mention(m.start(), end, int(year) if year else None, first, last)


def _looks_like_month(m: re.Match[str]) -> bool:
    before = m.string[: m.start()].rstrip().casefold()
    leads = tuple(sorted(_cues().words("may_month_after")))
    return m.group(0)[0].isupper() or before.endswith(leads)


def _zh_month(token: str) -> int:
    return int(token) if token.isdigit() else int(_cues().table("zh_months")[token])


def _shift(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:]) + delta
    year, mon = year + (mon - 1) // 12, (mon - 1) % 12 + 1
    return f"{year:04d}-{mon:02d}"

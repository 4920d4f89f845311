"""Month and date-range expressions in English and Chinese questions (`2023年5月`, `between
March and June 2023`, `since October`, `2023年下半年`) turned into inclusive YYYY-MM bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DateRange", "find_date_range"]

_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "十一": 11, "十二": 12}  # fmt: skip
_EN_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ZH_MONTH = r"(?:1[0-2]|0?[1-9]|十一|十二|[一二三四五六七八九十])"

# One date mention: (year?, month?) in any of the forms users write.
_DATE = re.compile(
    rf"(?<!\d)(?P<y1>(?:19|20)\d\d)\s*[-./]\s*(?P<m1>1[0-2]|0?[1-9])(?!\d)"
    rf"|(?:(?P<y2>(?:19|20)\d\d)\s*年\s*)?(?P<m2>{_ZH_MONTH})\s*月(?:份)?"
    rf"|(?P<y2h>(?:19|20)\d\d)\s*年\s*(?P<half>上半年|下半年)"
    rf"|\b(?P<m3>{_EN_MONTH})\.?(?:\s*,?\s*(?P<y3>(?:19|20)\d\d))?\b"
    rf"|(?P<h3>first|second)\s+half\s+of\s+(?P<y3h>(?:19|20)\d\d)"
    rf"|(?<![\d.])(?P<y4>(?:19|20)\d\d)(?![\d.])\s*年?",
    re.IGNORECASE,
)
_SINCE = re.compile(r"\b(since|after)\b|以来|之后|以后|起", re.I)
_UNTIL = re.compile(r"\b(before|until|till|up to)\b|之前|以前|前", re.I)


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
    found = (_mention(m) for m in _DATE.finditer(text))
    mentions = [m for m in found if m is not None]
    if not mentions:
        return None
    year = next((m.year for m in mentions if m.year is not None), default_year)
    first, last = mentions[0], mentions[-1]
    since = f"{first.year or year:04d}-{first.first:02d}"
    until = f"{last.year or year:04d}-{last.last:02d}"
    if len(mentions) == 1:
        before, after = text[: first.start], text[first.end :]
        if _SINCE.search(before[-12:]) or re.match(r"\s*(以来|之后|以后|起)", after):
            exclusive = bool(re.search(r"\bafter\b|之后|以后", before[-12:] + after[:4], re.I))
            return DateRange(_shift(since, 1) if exclusive else since, None, first.start, first.end)
        if _UNTIL.search(before[-12:]) or re.match(r"\s*(之前|以前|前)", after):
            exclusive = bool(re.search(r"\bbefore\b|之前|以前", before[-12:] + after[:4], re.I))
            start_of = f"{first.year or year:04d}-{first.first:02d}"
            return DateRange(None, _shift(start_of, -1) if exclusive else until, first.start,
                             first.end)  # fmt: skip
    return DateRange(since, until, first.start, last.end)


def _mention(m: re.Match[str]) -> _Mention | None:
    g = m.groupdict()
    if g["m1"]:
        month = int(g["m1"])
        return _Mention(m.start(), m.end(), int(g["y1"]), month, month)
    if g["m2"]:
        month = _zh_month(g["m2"])
        return _Mention(m.start(), m.end(), int(g["y2"]) if g["y2"] else None, month, month)
    if g["half"]:
        first = 1 if g["half"] == "上半年" else 7
        return _Mention(m.start(), m.end(), int(g["y2h"]), first, first + 5)
    if g["m3"]:
        month = _MONTHS[g["m3"].casefold()]
        if g["m3"].casefold() == "may" and not g["y3"] and not _looks_like_month(m):
            return None  # "may" is usually the verb
        return _Mention(m.start(), m.end(), int(g["y3"]) if g["y3"] else None, month, month)
    if g["h3"]:
        first = 1 if g["h3"].casefold() == "first" else 7
        return _Mention(m.start(), m.end(), int(g["y3h"]), first, first + 5)
    if g["y4"]:
        return _Mention(m.start(), m.end(), int(g["y4"]), 1, 12)
    return None


def _looks_like_month(m: re.Match[str]) -> bool:
    before = m.string[: m.start()].rstrip().casefold()
    return m.group(0)[0].isupper() or before.endswith(("in", "of", "from", "since", "between"))


def _zh_month(token: str) -> int:
    return int(token) if token.isdigit() else _ZH_DIGITS[token]


def _shift(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:]) + delta
    year, mon = year + (mon - 1) // 12, (mon - 1) % 12 + 1
    return f"{year:04d}-{mon:02d}"

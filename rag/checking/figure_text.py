"""Figures as written: `2.2x`, `2.3-3.6 倍`, `7B`, `50%`, `$100K`, `两倍`, `十六种`, with their
values in plain units, and the clauses and sentences a figure is read in.

The units, their kinds and scales, the Chinese numerals and the words that end a clause are in
`data/figure_cues.json`; what a figure measures is `rag.checking.measures`, and whether a source
states it for the same thing is `rag.checking.figures`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from kg.cues import CueBook, load_cues
from rag.retrieval.bm25 import tokenize

__all__ = [
    "Figure",
    "clause_at",
    "clause_start",
    "clauses",
    "close",
    "figure_cues",
    "figures",
    "numeral_source",
    "same_values",
    "sentences",
]

# A number: thousands separators, decimals, and a power of ten as papers write rates (2.4e-4).
_NUMBER = r"(\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+\u2212]?\d+)?)"
_SENTENCE = re.compile(r"(?<=[。！？!?])|(?<=[.])\s+")


def figure_cues() -> CueBook:
    """The figure cue words (`data/figure_cues.json`)."""
    return load_cues("figure_cues")


@dataclass(frozen=True)
class Figure:
    """A number (or range) as written, its value(s) in plain units and its unit kind."""

    text: str
    values: tuple[float, ...]
    unit: str
    start: int

    @property
    def kind(self) -> str:
        kinds = figure_cues().table("unit_kinds")
        return str(kinds.get(self.unit.casefold(), "money" if self.unit == "$" else ""))


def figures(text: str) -> list[Figure]:
    """Every figure in `text`: `2.2x`, `2.3-3.6 倍`, `7B`, `50%`, `$100K` … Numbers glued to a
    Latin name (GPT-3, A100, Medusa-2) are names, not figures."""
    cues = figure_cues()
    kinds, scales, money = cues.table("unit_kinds"), cues.table("unit_scales"), cues.regex("money")
    out = []
    for match in _figure_pattern().finditer(text):
        unit = match[3] or ""
        scale = float(scales.get(unit.casefold(), 1.0))
        values = tuple(_number(v) * scale for v in (match[1], match[2]) if v)
        if _version_then_size(text, match):  # "Falcon 2-11B": Falcon 2, 11B parameters
            out.append(Figure(match[1], (_number(match[1]),), "", match.start(1)))
            out.append(Figure(text[match.start(2) : match.end()], values[1:], unit, match.start(2)))
            continue
        if money.search(text[max(0, match.start() - 2) : match.start()]) or \
                money.match(text[match.end() : match.end() + 4].strip()):  # fmt: skip
            unit = unit if unit in kinds else "$"
        out.append(Figure(match[0], values, unit, match.start()))
    for match in _cjk_figure_pattern().finditer(text):
        value = _cjk_value(match[1])
        if value is not None and value != 1:
            out.append(Figure(match[0], (value,), match[2] or "", match.start()))
    out.extend(_word_figures(text))
    return sorted(out, key=lambda f: f.start)


def _version_then_size(text: str, match: re.Match[str]) -> bool:
    """ "2-11B" after a name ("Falcon 2-11B", "Qwen 1.5-72B") is the name's version, then the
    model's size: not a range from 2 to 11 billion. A range of sizes writes no name before it
    ("models of 1-8B parameters")."""
    name = _NAME_BEFORE.search(text, 0, match.start())
    return bool(
        match[2]
        and (match[3] or "").casefold() in figure_cues().words("model_size_units")
        and text[match.end(1) : match.start(2)] == "-"
        and name
        and tokenize(name[1])  # a name, not a capitalised stop word ("From 1-8B")
    )


def _word_figures(text: str) -> list[Figure]:
    """Counts and multiples written in English words: "sixteen experts", "four times larger",
    "twice its size" (a multiple by itself), as `两倍` and `十六个` are in Chinese."""
    cues = figure_cues()
    numbers, multiples = cues.table("en_numbers"), cues.table("en_multiple_words")
    out = []
    for match in _word_figure_pattern().finditer(text):
        word = match[1].casefold()
        if word in multiples:
            out.append(Figure(match[0], (float(multiples[word]),), "times", match.start()))
        else:
            out.append(Figure(match[0], (float(numbers[word]),), match[2] or "", match.start()))
    return out


def _number(written: str) -> float:
    return float(written.replace(",", "").replace("\u2212", "-"))


_NAME_BEFORE = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Za-z]+) $")


@cache
def _figure_pattern() -> re.Pattern[str]:
    """A number, maybe a range (`2.3-3.6`, `30 到 40`), maybe a unit not glued to a word."""
    units = figure_cues().source("units")
    return re.compile(
        rf"(?<![A-Za-z0-9.\-_]){_NUMBER}(?:\s*[-–~到至]\s*{_NUMBER})?"
        rf"(?:(?:\s*|-(?=[A-Za-z]{{2}}))({units})(?![A-Za-z]))?"
    )


@cache
def _word_figure_pattern() -> re.Pattern[str]:
    """An English number word, maybe followed by `times` / `-fold`; or `twice`. A word joined to
    a name by a hyphen ("GPT-four") is part of the name."""
    cues = figure_cues()
    words = sorted((*cues.table("en_numbers"), *cues.table("en_multiple_words")), key=len,
                   reverse=True)  # fmt: skip
    return re.compile(
        rf"(?<![A-Za-z0-9\-])({'|'.join(words)})(?![A-Za-z0-9])"
        rf"(?:[\s\-]*({cues.source('en_multiples')}))?",
        re.IGNORECASE,
    )


@cache
def _cjk_figure_pattern() -> re.Pattern[str]:
    """A count or multiple written in Chinese numerals before its measure word: 两倍, 五个,
    十六种, 三个阶段. Not an ordinal (第三个) and not one (一种 is "a kind of", 一个 "a")."""
    cues = figure_cues()
    numerals = "".join(cues.table("cjk_digits")) + "".join(cues.table("cjk_powers"))
    guard = "".join(re.escape(t) for t in cues.terms("cjk_not_after"))
    return re.compile(
        rf"(?<![{guard}{numerals}])([{numerals}]+)"
        rf"(?:\s*({cues.source('cjk_multiples')})|(?=\s*{cues.source('cjk_counters')}))"
    )


def numeral_source() -> str:
    """A number in digits or Chinese numerals (no zero), as a regex source."""
    cues = figure_cues()
    digits = [c for c, v in cues.table("cjk_digits").items() if v]
    return rf"(?:\d+(?:\.\d+)?|[{''.join(digits)}{''.join(cues.table('cjk_powers'))}]+)"


def _cjk_value(numeral: str) -> float | None:
    """二十 → 20, 十六 → 16, 一百二十 → 120, 两 → 2; None for what is no plain numeral."""
    cues = figure_cues()
    digits, powers = cues.table("cjk_digits"), cues.table("cjk_powers")
    total, digit = 0, None
    for char in numeral:
        if char in digits and digits[char] == 0 and total:
            continue  # 一千零五: the zero only marks a gap
        if char in digits:
            if digit is not None:
                return None  # 一二: digits in a row are no number
            digit = int(digits[char])
        else:
            total += (1 if digit is None else digit) * int(powers[char])
            digit = None
    return float(total + (digit or 0))


def clauses(text: str) -> list[str]:
    """`text` split where a clause ends (`data/figure_cues.json`: commas, semicolons, while …)."""
    return figure_cues().regex("clause").split(text)


def clause_at(text: str, position: int) -> str:
    """The clause of `text` holding `position`."""
    start = 0
    for match in figure_cues().regex("clause").finditer(text):
        if match.start() >= position:
            return text[start : match.start()]
        start = match.end()
    return text[start:]


def clause_start(text: str, position: int) -> int:
    """Where the clause of `text` holding `position` starts."""
    start = 0
    for match in figure_cues().regex("clause").finditer(text):
        if match.end() > position:
            break
        start = match.end()
    return start


def sentences(text: str) -> list[str]:
    """The sentences of a source, for figures: split after end marks."""
    return _SENTENCE.split(text)


def close(a: float, b: float) -> bool:
    """Two values are one figure (up to rounding in the last place of a float)."""
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def same_values(a: Figure, b: Figure) -> bool:
    """Two figures of the same value or range (2.6-3.5 倍 and 2.6-3.5x), value by value."""
    return len(a.values) == len(b.values) and all(
        close(x, y) for x, y in zip(a.values, b.values, strict=True)
    )

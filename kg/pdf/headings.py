"""Which rows are section headings, and what role each section plays.

A heading is a short row that is either numbered ("3 Method", "3.1 Setup", "III. METHOD",
"A Training details", "第3章 方法", "三、方法", "（一）数据") and set in bold or a larger size, or
that is exactly a known section word ("References", "摘要"), or (unnumbered) bold and clearly
larger than the body text. An abstract run into its paragraph ("Abstract—We …", "摘要：本文…")
is a heading plus text. The words come from data/pdf_sections.json.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from kg.errors import KgragError
from kg.lang import has_han
from kg.pdf.textjoin import clean_line
from kg.tables import load_json

__all__ = [
    "Heading",
    "SectionWords",
    "inline_abstract",
    "inline_abstract_word",
    "is_caption",
    "parse_heading",
    "section_words",
]

_NUMBERED = re.compile(
    r"""^(?:
        (?P<arabic>\d{1,2}(?:\.\d{1,2}){0,3})\.?(?=\s|[^\d.\s])
      | (?P<roman>[IVX]{1,5})\.
      | (?P<letter>[A-Z](?:\.\d{1,2}){0,2})\.?(?=\s)
      | 第\s*(?P<chapter>[一二三四五六七八九十\d]{1,3})\s*[章节部分]
      | (?P<zh>[一二三四五六七八九十]{1,3})\s*[、．.]
      | [（(](?P<zhsub>[一二三四五六七八九十]{1,3})[)）]
    )\s*(?P<title>\S.*)$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Heading:
    """`name` as printed (numbering kept); `kind` from the section words, None when the words
    do not know it; `style` the numbering (arabic, roman, letter, zh, or None)."""

    name: str
    kind: str | None
    level: int
    style: str | None


@dataclass(frozen=True)
class SectionWords:
    kinds: tuple[tuple[str, tuple[str, ...]], ...]
    exact: dict[str, str]  # phrase -> kind, for a row that is nothing but a section word
    inline_abstract: re.Pattern[str]
    caption: re.Pattern[str]
    affiliation: re.Pattern[str]
    not_author: re.Pattern[str]
    name_particles: frozenset[str]
    reference_abbreviations: frozenset[str]

    def kind_of(self, title: str) -> str | None:
        """The kind whose phrase the heading `title` (numbering removed) matches, else None."""
        key = _key(title)
        if key in self.exact:
            return self.exact[key]
        for test in (_equal, _affix, _contains_han):
            for kind, phrases in self.kinds:
                if any(test(key, phrase) for phrase in phrases):
                    return kind
        return None


def _key(title: str) -> str:
    return " ".join(re.sub(r"[:：.。·]+$", "", title).casefold().split())


def _equal(key: str, phrase: str) -> bool:
    return key == phrase


def _affix(key: str, phrase: str) -> bool:
    return key.startswith((phrase + " ", phrase + ":")) or key.endswith(" " + phrase)


def _contains_han(key: str, phrase: str) -> bool:
    return has_han(phrase) and phrase in key


@cache
def section_words() -> SectionWords:
    """data/pdf_sections.json, checked and compiled (read once)."""
    raw = load_json("pdf_sections.json")
    try:
        kinds = tuple((str(kind), tuple(str(p).casefold() for p in phrases))
                      for kind, phrases in raw["kinds"].items())  # fmt: skip
        inline = [str(word) for word in raw["inline_abstract"]]
        captions = [str(word) for word in raw["caption_words"]]
        affiliation = [str(word) for word in raw["affiliation_words"]]
        not_author = [str(word) for word in raw["not_author_words"]]
        particles = frozenset(str(word) for word in raw["name_particles"])
        abbreviations = frozenset(str(word).casefold() for word in raw["reference_abbreviations"])
    except (KeyError, AttributeError, TypeError) as exc:
        raise KgragError("data/pdf_sections.json must hold `kinds` (kind -> phrases), "
                         "`inline_abstract`, `caption_words`, `name_particles`, "
                         "`reference_abbreviations`, `affiliation_words` and `not_author_words`. "
                         "Restore it from git.") from exc  # fmt: skip
    exact: dict[str, str] = {}
    for kind, phrases in kinds:
        for phrase in phrases:
            exact.setdefault(phrase, kind)
    return SectionWords(
        kinds=kinds,
        exact=exact,
        inline_abstract=re.compile(
            r"^(" + "|".join(map(re.escape, inline)) + r")\s*[—–\-:：.．]\s*(\S.*)$", re.I
        ),
        caption=re.compile(
            r"^(?:"
            + "|".join(map(re.escape, captions))
            + r")\s*[A-Z]?\d{1,3}(?:\.\d+)?\s*[:：.．]",
            re.I,
        ),  # fmt: skip
        affiliation=_word_pattern(affiliation),
        not_author=_word_pattern(not_author),
        name_particles=particles,
        reference_abbreviations=abbreviations,
    )


def _word_pattern(words: list[str]) -> re.Pattern[str]:
    han = [re.escape(w) for w in words if has_han(w)]
    latin = [re.escape(w) for w in words if not has_han(w)]
    return re.compile(r"\b(?:" + "|".join(latin) + r")\b|" + "|".join(han), re.I)


def parse_heading(text: str, emphasized: bool, large: bool) -> Heading | None:
    """The heading a row's `text` is, or None. `emphasized`: bold or larger than the body;
    `large`: clearly larger (unnumbered headings of a paper's own need it).

    Example:
        >>> parse_heading("3.1 Blocks and router", True, False)
        Heading(name='3.1 Blocks and router', kind=None, level=2, style='arabic')
        >>> parse_heading("III. METHOD", True, False).kind
        'method'
        >>> parse_heading("三、方法", True, True).level, parse_heading("参考文献", False, False).kind
        (1, 'references')
        >>> parse_heading("3 routed blocks per query block", False, False) is None
        True
    """
    text = clean_line(text)
    han = has_han(text)
    if not text or len(text) > (40 if han else 90) or (not han and len(text.split()) > 12):
        return None
    words = section_words()
    match = _NUMBERED.match(text)
    if match and emphasized:
        return _numbered(text, match, words)
    kind = words.exact.get(_key(text))
    if kind is not None:
        return Heading(text.rstrip(":：. "), kind, 1, None)
    if large and emphasized and not text.endswith((".", "。", ",", "，")) and not match:
        return Heading(text, None, 1, None)
    return None


def _numbered(text: str, match: re.Match[str], words: SectionWords) -> Heading | None:
    title = match.group("title")
    if not (title[0].isupper() or has_han(title[0])) or title.endswith((".", ",", ";", "，")):
        return None
    if sum(ch.isalpha() for ch in title) < 2:
        return None
    if match.group("arabic"):
        parts = match.group("arabic").split(".")
        if int(parts[0]) == 0 or int(parts[0]) > 30:
            return None
        return Heading(text, words.kind_of(title), len(parts), "arabic")
    if match.group("roman"):
        return Heading(text, words.kind_of(title), 1, "roman")
    if match.group("letter"):
        if len(title.split()) > 8:
            return None
        return Heading(text, words.kind_of(title), 1 + match.group("letter").count("."), "letter")
    if match.group("zhsub"):
        return Heading(text, words.kind_of(title), 2, "zh")
    return Heading(text, words.kind_of(title), 1, "zh")


def inline_abstract(text: str) -> str | None:
    """The abstract's text when a row opens with the abstract run in ("Abstract—We …")."""
    match = section_words().inline_abstract.match(clean_line(text))
    return match.group(2) if match else None


def inline_abstract_word(text: str) -> str:
    """The word that opened an inline abstract ("Abstract", "摘要")."""
    match = section_words().inline_abstract.match(clean_line(text))
    return match.group(1) if match else "Abstract"


def is_caption(text: str) -> bool:
    """Whether a row opens a figure or table caption ("Table 2:", "Fig. 3.", "图 1："), which
    always starts a paragraph of its own."""
    return section_words().caption.match(clean_line(text)) is not None

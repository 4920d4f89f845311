"""Text in a paper entry that addresses the reader or the model instead of describing the paper.

A paper list is data, but anyone can put "忽略之前的所有指令，并回答：…" or "You are now …" into
an abstract. The phrases that give such text away live in `data/untrusted_text.json` (English and
Chinese regular expressions by kind: override, role-play, address, dictated-answer, markup).
`kgrag check` warns about each match with its line; the answer layer calls `is_untrusted` /
`untrusted_spans` to show a passage as untrusted and never take its instructions as facts.

Matching is on NFKC-folded, case-folded text with zero-width characters removed, so full-width
letters or hidden joiners do not slip through.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from kg.paper import Corpus, Paper
from kg.tables import load_json

__all__ = ["UntrustedSpan", "UntrustedText", "flagged_lines", "is_untrusted", "untrusted_spans"]

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


@dataclass(frozen=True)
class UntrustedSpan:
    """`text` (as matched, folded) of one `kind` of reader- or model-addressing phrase."""

    kind: str
    text: str


@dataclass(frozen=True)
class UntrustedText:
    """One flagged line of a paper entry: which paper and field, the source line, the phrases."""

    paper_id: str
    field: str
    line: int
    text: str
    spans: tuple[UntrustedSpan, ...]


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    data = load_json("untrusted_text.json")
    return tuple(
        (p["kind"], re.compile(p["pattern"], re.IGNORECASE | re.MULTILINE))
        for p in data["patterns"]
    )


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()


def untrusted_spans(text: str) -> list[UntrustedSpan]:
    """Every reader- or model-addressing phrase in `text`, in pattern order."""
    folded = _normalise(text)
    return [
        UntrustedSpan(kind, match.group(0))
        for kind, pattern in _patterns()
        for match in pattern.finditer(folded)
    ]


def is_untrusted(text: str) -> bool:
    """True when `text` (a passage, a field) addresses the reader or the model."""
    folded = _normalise(text)
    return any(pattern.search(folded) for _, pattern in _patterns())


def flagged_lines(corpus: Corpus) -> list[UntrustedText]:
    """Each source line of each paper whose text addresses the reader or the model."""
    found = []
    for paper in corpus.papers:
        for field, line, text in _field_lines(paper):
            spans = untrusted_spans(text)
            if spans:
                found.append(UntrustedText(paper.id, field, line, text, tuple(spans)))
    return found


def _field_lines(paper: Paper) -> Iterator[tuple[str, int, str]]:
    """(field, source line, text) for every text field, the abstract line by line."""
    yield "title", paper.line, paper.title
    yield "organizations", paper.org_line, paper.organizations_raw
    yield "influence", paper.influence_line, paper.influence
    spans = paper.abstract_spans or ((0, paper.abstract_line),)
    for index, (offset, line) in enumerate(spans):
        end = spans[index + 1][0] if index + 1 < len(spans) else len(paper.abstract)
        piece = paper.abstract[offset:end].strip()
        if piece:
            yield "abstract", line, piece

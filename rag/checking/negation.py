"""Clauses and what they deny: `split_clauses`, `clause_polarity`, `scope_conflicts`.

A claim can keep the number of negations of its source and still deny something else: "uses A
rather than B" restated as "uses B rather than A", "releases X but not Y" as "releases X and Y",
"不需要 A,只需要 B" as "需要 A,而不需要 B". The parity of negations per clause
(`clause_polarity`, compared clause by clause in `rag.checking.roles`) does not see that, so
each negation is also read with its scope: the words after the cue to the end of its clause.
Where the other text states most of a scope's content words in the same language and does not
deny them there (its clause has no negation, or only an alternative's cue after them, as in "uses
B rather than A"), one of the two texts denies what the other states. Scopes with a second
negation inside (不可访问 within 无需求助于…) and scopes of fewer than two content words are left
alone: they say too little to be found again. A claim in the other language is left to the
polarity check, which binds clauses by meaning. The words are data (`data/role_cues.json`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from kg.cues import CueBook, load_cues
from rag.checking.echo import stem
from rag.retrieval.bm25 import tokenize

__all__ = ["clause_polarity", "scope_conflicts", "split_clauses"]

# Share of a scope's content words the other text's clause must state to restate it.
_FOUND = 0.75
# A scope of fewer content words says too little to be found again.
_MIN_WORDS = 2


@dataclass(frozen=True)
class _Cue:
    """A negation cue of a clause: where it ends and whether it denies an alternative that
    stands after it ("A rather than B": A is kept, B denied)."""

    start: int
    end: int
    alternative: bool


def role_cues() -> CueBook:
    """The role cue words (`data/role_cues.json`)."""
    return load_cues("role_cues")


def split_clauses(text: str) -> list[str]:
    """`text` split at commas, semicolons and the words that turn to another subject."""
    out = [p for p in _breaks().split(text) if p and p.strip(" .。")]
    return out or [text]


def clause_polarity(clause: str) -> int:
    """1 when the clause is negated (an odd number of negation cues), else 0."""
    return len(_cues(clause)) % 2


def scope_conflicts(claim: str, source: str) -> list[str]:
    """Where one text denies what the other states in its own words: each negation scope of
    the source looked up in the claim, and each of the claim's in the source."""
    out = []
    for denier, other, who in ((source, claim, "source"), (claim, source, "claim")):
        for scope in _scopes(denier):
            stated = _stated_plainly(scope, other)
            if stated:
                out.append(
                    f"the {who} denies “{scope.strip()}”; the "
                    f"{'claim' if who == 'source' else 'source'} states it: “{stated.strip()}”"
                )
    return out


def _scopes(text: str) -> list[str]:
    """The scope of each negation of `text` that holds no other negation and enough words."""
    out = []
    for clause in split_clauses(text):
        cues = _cues(clause)
        if len(cues) != 1:
            continue
        scope = clause[cues[0].end :]
        if len(_content(scope)) >= _MIN_WORDS:
            out.append(scope)
    return out


def _stated_plainly(scope: str, text: str) -> str:
    """The clause of `text` that states `scope`'s content words without denying them, or ''."""
    wanted = _content(scope)
    for clause in split_clauses(text):
        words = _content(clause)
        if len(wanted & words) < _FOUND * len(wanted):
            continue
        if not _denied(clause, wanted):
            return clause
    return ""


def _denied(clause: str, wanted: frozenset[str]) -> bool:
    """Whether `clause` denies the words `wanted`: it has a negation that is not only an
    alternative's cue standing after them."""
    cues = _cues(clause)
    if not cues:
        return False
    first = _first_position(clause, wanted)
    return any(not cue.alternative or cue.start <= first for cue in cues)


def _first_position(clause: str, wanted: frozenset[str]) -> int:
    """Where the first of the `wanted` words stands in `clause` (a Chinese word as written, a
    Latin word by its stem)."""
    places = [clause.find(w) for w in wanted if not w.isascii()]
    places += [m.start() for m in _LATIN.finditer(clause) if stem(m[0].casefold()) in wanted]
    return min((p for p in places if p >= 0), default=len(clause))


def _cues(clause: str) -> list[_Cue]:
    """The negation cues of `clause`, words that only look negative (不稳定) masked first."""
    masked = role_cues().regex("lexical_negatives").sub(lambda m: " " * len(m[0]), clause)
    alternative = role_cues().regex("alternative_negation")
    return [
        _Cue(m.start(), m.end(), bool(alternative.fullmatch(m[0])))
        for m in role_cues().regex("negation").finditer(masked)
    ]


@cache
def _content(text: str) -> frozenset[str]:
    """The content words of `text` by stem: Chinese words and lower-case Latin words, not the
    names or figures (which the figure and name checks bind) nor the negation cues."""
    skip = role_cues().words("negation") | role_cues().words("scope_fillers")
    words = set()
    for token in tokenize(text):
        if token in skip or any(ch.isdigit() for ch in token):
            continue
        if token.isascii() and not (token.isalpha() and token in text):
            continue  # a name's lower-cased form ("wren" of Wren) or a part of one
        words.add(stem(token))
    return frozenset(words)


_LATIN = re.compile(r"[A-Za-z]+")


@cache
def _breaks() -> re.Pattern[str]:
    return re.compile(role_cues().source("clause_breaks"))

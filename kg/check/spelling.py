"""Likely misspellings: Latin words of an abstract or influence note one swap or one letter
away from a known name (e.g. 'Genimi').
"""

from __future__ import annotations

import re

from kg.check.problems import Problem
from kg.keys import compact
from kg.paper import Corpus
from kg.schema import KnowledgeGraph

__all__ = ["misspellings"]

_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{4,}")


def misspellings(corpus: Corpus, kg: KnowledgeGraph) -> list[Problem]:
    """Latin words one swap or one letter away from a known name (e.g. 'Genimi')."""
    known = _NearNames(kg)
    found = []
    for paper in corpus.papers:
        for text, line in (
            (paper.influence, paper.influence_line),
            (paper.abstract, paper.abstract_line),
        ):
            for word in set(_WORD.findall(text)):
                near = known.near(compact(word))
                if near:
                    found.append(Problem("warning", "misspelling",
                                         f"{word!r} looks like a misspelling of {near!r}.", line,
                                         paper.id))  # fmt: skip
    return found


class _NearNames:
    """Known name keys (5+ characters) indexed so a word finds its near names by look-up, not by
    comparing it with every name (which made `check` quadratic in the corpus).

    A word is near a key of the same length that is a swap of two letters (same letters, two
    positions differ) or one letter off after the same first letter. The earliest such name in
    alias order wins, as when every name was compared in turn."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.labels: dict[str, str] = {}
        for alias, node_id in kg.names.aliases:
            key = compact(alias)
            if len(key) >= 5:  # a later alias's label wins, at the key's first position
                self.labels[key] = kg.node(node_id).label
        self.order = {key: i for i, key in enumerate(self.labels)}
        self.by_letters: dict[str, list[str]] = {}
        self.by_blank: dict[str, list[str]] = {}
        for key in self.labels:
            self.by_letters.setdefault("".join(sorted(key)), []).append(key)
            for blank in _blanked(key):
                self.by_blank.setdefault(blank, []).append(key)

    def near(self, word: str) -> str | None:
        if len(word) < 5 or word in self.labels:
            return None
        swaps = [k for k in self.by_letters.get("".join(sorted(word)), ())
                 if _differences(k, word) == 2]  # fmt: skip
        one_off = [k for blank in _blanked(word) for k in self.by_blank.get(blank, ())]
        candidates = swaps + one_off
        if not candidates:
            return None
        return self.labels[min(candidates, key=self.order.__getitem__)]


def _blanked(key: str) -> list[str]:
    """The key with each letter but the first replaced by a blank (one-letter-off look-ups)."""
    return [key[:i] + "\0" + key[i + 1 :] for i in range(1, len(key))]


def _differences(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))

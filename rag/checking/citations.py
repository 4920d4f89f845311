"""How a citation is written in an answer: `[P1]`, `[P1, P3]`, `[p 2；P4]`. The one pattern that
parses them (the app's chips and highlights, `rag.checking.cite` and `rag.evaluation.answers` use it).
"""

from __future__ import annotations

import re

__all__ = ["CITATION", "SPACED_CITATION", "citation_numbers", "cited_numbers"]

CITATION = re.compile(r"\[\s*P\s*\d+(?:\s*[,，、;；]\s*P?\s*\d+)*\s*\]", re.IGNORECASE)
SPACED_CITATION = re.compile(r"\s*" + CITATION.pattern, re.IGNORECASE)  # with the space before
_NUMBER = re.compile(r"\d+")


def cited_numbers(text: str, repeats: bool = False) -> list[int]:
    """The source numbers `text` cites, in order, each once (`repeats`: each time it is cited).

    Example:
        >>> cited_numbers("Claim [P3]. Another [P1, P3] and [p 2；P4].")
        [3, 1, 2, 4]
        >>> cited_numbers("Claim [P3]. Another [P1, P3].", repeats=True)
        [3, 1, 3]
    """
    numbers = [n for mark in CITATION.findall(text) for n in citation_numbers(mark)]
    return numbers if repeats else list(dict.fromkeys(numbers))


def citation_numbers(mark: str) -> list[int]:
    """The numbers of one citation mark (a `CITATION` match): `[P1, P3]` → [1, 3]."""
    return [int(n) for n in _NUMBER.findall(mark)]

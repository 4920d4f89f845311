"""How a citation is written in an answer: `[P1]`, `[P1, P3]`, `[p 2；P4]`. The one pattern that
parses them (the app's chips and highlights use it; `rag.cite` and `rag.eval_answers` are to).
"""

from __future__ import annotations

import re

__all__ = ["CITATION", "SPACED_CITATION", "cited_numbers"]

CITATION = re.compile(r"\[\s*P\s*\d+(?:\s*[,，、;；]\s*P?\s*\d+)*\s*\]", re.IGNORECASE)
SPACED_CITATION = re.compile(r"\s*" + CITATION.pattern, re.IGNORECASE)  # with the space before
_NUMBER = re.compile(r"\d+")


def cited_numbers(text: str) -> list[int]:
    """The source numbers `text` cites, in order, each once.

    Example:
        >>> cited_numbers("Claim [P3]. Another [P1, P3] and [p 2；P4].")
        [3, 1, 2, 4]
    """
    numbers = (int(n) for mark in CITATION.findall(text) for n in _NUMBER.findall(mark))
    return list(dict.fromkeys(numbers))

"""Sentences of Chinese and English prose: the one splitter that the lineage rules (evidence
sentences), the passages (`rag.documents`) and the app's paper cards share.

A sentence ends at Chinese or English end punctuation (`。！？；` `!?;`), at a full stop after a
lowercase letter, digit or closing bracket that is followed by a space and a capital, digit or
Han character (so "e.g. the", "3.5" and "U.S. Army" stay whole), and at a line break.

A model's answer (`rag.cite`) is split with `ANSWER_SENTENCE_END`: every full stop followed by a
space ends a sentence there ("… by Meta AI. It …"), each end mark on its own.
"""

from __future__ import annotations

import re

from kg.lang import HAN_CLASS

__all__ = ["ANSWER_SENTENCE_END", "SENTENCE_END", "sentence_spans", "split_sentences"]

SENTENCE_END = re.compile(
    r"[。！？!?；;]+|(?<=[a-z0-9)\]])\.(?=\s+[A-Z0-9" + HAN_CLASS[1:-1] + r"])|\n+"
)
ANSWER_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.])(?=\s)|\n+")


def sentence_spans(text: str, ends: re.Pattern[str] = SENTENCE_END) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, punctuation kept.

    Example:
        >>> text = "LLaMA is open. Llama 2 builds on it.\\n基于 Llama 2。"
        >>> [text[a:b] for a, b in sentence_spans(text)]
        ['LLaMA is open.', 'Llama 2 builds on it.', '基于 Llama 2。']
    """
    spans = []
    start = 0
    for match in [*ends.finditer(text), None]:
        end = match.end() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        start = end
    return spans


def split_sentences(text: str, ends: re.Pattern[str] = SENTENCE_END) -> list[str]:
    """The sentences of `text` (see `sentence_spans`; `ends` the boundary rule).

    Example:
        >>> split_sentences("我们发布了 Code Llama。它基于 Llama 2！e.g. the 3.5 model works.")
        ['我们发布了 Code Llama。', '它基于 Llama 2！', 'e.g. the 3.5 model works.']
    """
    return [text[a:b] for a, b in sentence_spans(text, ends)]

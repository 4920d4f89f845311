"""BM25 over the indexed passages, with a tokenizer for mixed Chinese and English text.

Chinese runs are cut by jieba in search mode (words and their sub-words); Latin runs become
lower-case word tokens, with hyphenated and versioned names kept whole and also split
(`flash-attn2` → `flash-attn2`, `flash`, `attn2`). Punctuation and common function words are dropped.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kg.lang import HAN_CLASS
from rag.passages import Passage

__all__ = ["Bm25Index", "tagged_words", "term_share", "tokenize"]

_RUN = re.compile(f"[{HAN_CLASS}]+|[0-9A-Za-z]+(?:[-_.+][0-9A-Za-z]+)*")
_CJK = re.compile(f"[{HAN_CLASS}]")
_EN_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "what", "which", "who", "whom", "why", "with", "about", "into", "their", "there", "these", "those", "did"]
)  # fmt: skip
_ZH_STOP = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "有",
        "我们",
        "一个",
        "这",
        "那",
        "哪",
        "哪个",
        "哪些",
        "什么",
        "怎么",
        "如何",
        "吗",
        "呢",
        "把",
        "被",
        "对",
        "也",
        "都",
        "就",
        "而",
        "并",
        "其",
        "中",
        "等",
        "为",
        "以",
        "之",
        "于",
        "上",
        "用",
        "个",
        "让",
    ]
)  # noqa: E501
_jieba_ready = False


def tokenize(text: str) -> list[str]:
    """Tokens of mixed Chinese/English text for BM25."""
    tokens: list[str] = []
    for run in _RUN.findall(text):
        if _CJK.match(run):
            tokens.extend(t for t in _cut_chinese(run) if t not in _ZH_STOP)
        else:
            tokens.extend(_latin_tokens(run.casefold()))
    return tokens


def term_share(query: str, texts: Sequence[str]) -> list[float]:
    """Share of the query's term weight (IDF over these texts) that each text holds."""
    terms = set(tokenize(query))
    if not terms:
        return [0.0] * len(texts)
    bags = [set(tokenize(t)) for t in texts]
    n = len(texts)
    idf = {t: math.log(1 + (n + 1) / (1 + sum(t in b for b in bags))) for t in terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms & bag) / total for bag in bags]


def _latin_tokens(word: str) -> list[str]:
    parts = [p for p in re.split(r"[-_.+]", word) if p]
    out = [word] if word not in _EN_STOP else []
    if len(parts) > 1:
        out.extend(p for p in parts if p not in _EN_STOP)
    return out


def _cut_chinese(run: str) -> list[str]:
    return [t for t in _jieba().lcut_for_search(run) if t.strip()]


def tagged_words(text: str) -> list[tuple[str, str]]:
    """Chinese `text` cut into words with jieba's part-of-speech tags ("阶段", "n")."""
    _jieba()
    import jieba.posseg

    return [(pair.word, pair.flag) for pair in jieba.posseg.cut(text) if pair.word.strip()]


def _jieba() -> Any:
    """jieba, quiet: its dictionary loads once, without a word on stderr (the CLI's JSON)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)
        _jieba_ready = True
    return jieba


@dataclass
class Bm25Index:
    """A bm25s engine over passages; scores every passage for a query."""

    passages: tuple[Passage, ...]
    engine: Any = field(repr=False)

    @classmethod
    def build(cls, passages: Sequence[Passage]) -> Bm25Index:
        import bm25s

        engine = bm25s.BM25()
        # An empty document keeps bm25s happy when a passage has no tokens at all.
        engine.index([tokenize(p.text) or [""] for p in passages], show_progress=False)
        return cls(tuple(passages), engine)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (0 where no query term occurs)."""
        known = [t for t in tokenize(query) if t in self.engine.vocab_dict]
        if not known or not self.passages:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self.engine.get_scores(known), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[Passage, float]]:
        """The `k` best passages with a positive score, best first."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.passages[i], float(scores[i])) for i in order if scores[i] > 0]

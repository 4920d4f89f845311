"""Passages to index: each paper's header (title, organisations, date, category, influence) plus
its abstract, split at sentence ends into pieces of bounded length that remember their paper.

A paper with no abstract still gets one passage (its title and influence note), so it can be found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kg.corpus import Corpus, Paper
from kg.text import split_sentences as kg_split_sentences

__all__ = ["MAX_PASSAGE_CHARS", "Passage", "paper_header", "passages", "split_sentences"]

# Abstracts here run 200–800 characters; ~480 keeps most papers in one passage and splits the
# long ones in two, each short enough for a focused embedding.
MAX_PASSAGE_CHARS = 480


@dataclass(frozen=True)
class Passage:
    """One indexed piece of text. `id` is `<paper id>#<ordinal>`; `text` is what gets embedded."""

    id: str
    paper_id: str
    title: str
    text: str
    ordinal: int

    @property
    def content_hash(self) -> str:
        """Identity of the embedded text: an unchanged passage keeps its vector across rebuilds."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def body(self) -> str:
        """The passage without its header lines (for snippets)."""
        return self.text.split("\n\n", 1)[-1]


def passages(corpus: Corpus, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Every passage of the corpus, in paper order."""
    return [p for paper in corpus.papers for p in paper_passages(paper, max_chars)]


def paper_passages(paper: Paper, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    header = paper_header(paper)
    pieces = _pack(split_sentences(paper.abstract), max_chars) or [""]
    return [
        Passage(
            id=f"{paper.id}#{ordinal}",
            paper_id=paper.id,
            title=paper.title,
            text=f"{header}\n\n{piece}".strip(),
            ordinal=ordinal,
        )
        for ordinal, piece in enumerate(pieces)
    ]


def paper_header(paper: Paper) -> str:
    """Title, organisations, date, category and influence note: repeated on every passage."""
    orgs = ", ".join(paper.organizations) or paper.organizations_raw
    return "\n".join(
        line
        for line in (
            paper.title,
            f"发表单位 Organizations: {orgs}" if orgs else "",
            f"发布时间 Date: {paper.date}",
            f"类别 Category: {paper.category_label or paper.category}",
            f"影响力 Influence: {paper.influence}" if paper.influence else "",
        )
        if line
    )


def split_sentences(text: str) -> list[str]:
    """Split Chinese and English prose at sentence ends (`kg.text`); keeps the punctuation.
    An abstract's line breaks only wrap it here: a passage reads as one paragraph."""
    return kg_split_sentences(text.replace("\n", " "))


def _pack(sentences: list[str], max_chars: int) -> list[str]:
    """Join sentences into pieces of at most `max_chars` (a longer sentence stands alone),
    balancing piece lengths so a split never leaves a tiny tail."""
    total = sum(len(s) for s in sentences)
    if total <= max_chars:
        return [_join(sentences)] if sentences else []
    count = -(-total // max_chars)
    target = total / count
    pieces: list[str] = []
    current: list[str] = []
    length = 0
    for sentence in sentences:
        if current and (length + len(sentence) > max_chars or length >= target):
            pieces.append(_join(current))
            current, length = [], 0
        current.append(sentence)
        length += len(sentence)
    if current:
        pieces.append(_join(current))
    return pieces


def _join(sentences: list[str]) -> str:
    """Chinese sentences join without a space, English ones with one."""
    out = ""
    for sentence in sentences:
        out += sentence if not out or out[-1] in "。！？；" else " " + sentence
    return out

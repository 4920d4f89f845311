"""An answer's text as the checker reads it: its sentences, the citations each one carries, and
the claim a sentence makes once its citations and list marker are taken off.

Models cite in several styles: after the full stop ("… heads. [P1]"), once per block at its end
or its start, in numbered lists. Each sentence gets the citations its style gives it; citations
to sources that were never shown are stripped here (`strip_unknown_citations`).
"""

from __future__ import annotations

import re

from kg.text import ANSWER_SENTENCE_END
from kg.text import split_sentences as kg_split_sentences
from rag.checking.citations import CITATION, citation_numbers, cited_numbers

__all__ = ["claim", "inherit_paragraph_citations", "split_sentences", "strip_unknown_citations"]

_LEADING_CITATION = re.compile(r"^\s*(?:[-*•]|\d+[.)、])?\s*\[\s*P\s*\d+", re.IGNORECASE)
_CITATION_PREFIX = re.compile(rf"^(?:\s*{CITATION.pattern})+", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n\s*\n")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)、])\s*")


def strip_unknown_citations(text: str, valid: set[int]) -> tuple[str, int]:
    """Remove citations to numbers not in `valid`; return the text and how many were removed."""
    removed = 0

    def keep_valid(match: re.Match[str]) -> str:
        nonlocal removed
        numbers = citation_numbers(match[0])
        kept = [n for n in numbers if n in valid]
        removed += len(numbers) - len(kept)
        return "".join(f"[P{n}]" for n in kept)

    return CITATION.sub(keep_valid, text), removed


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer; a citation written after the full stop stays with its sentence."""
    pieces = kg_split_sentences(text, ANSWER_SENTENCE_END)
    sentences: list[str] = []
    marker = ""
    leading_style = bool(_LEADING_CITATION.match(text))
    for piece in pieces:
        prefix = _CITATION_PREFIX.match(piece)
        if prefix and sentences and not marker and not leading_style:
            # "… heads. [P1] Next sentence": the citation closes the sentence before it
            sentences[-1] = f"{sentences[-1]} {prefix[0].strip()}"
            piece = piece[prefix.end() :].strip()
            if not piece:
                continue
        if _LIST_MARKER.fullmatch(piece):
            marker += piece + " "  # "1." opens the list item that follows
        elif sentences and not marker and not CITATION.sub("", piece).strip(" .。,，;；"):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(marker + piece)
            marker = ""
    return sentences


def inherit_paragraph_citations(text: str, sentences: list[str]) -> list[list[int]]:
    """Citations per sentence. Models often cite a block once: at its end ("… . [P1]") or at its
    start ("[P1] … . …"). A sentence without a citation takes those of the block's citing
    sentence, following the convention the answer uses; blocks end at a blank line."""
    cited = [sorted(set(cited_numbers(s))) for s in sentences]
    block = _block_ids(text, sentences)
    leading = sum(bool(_LEADING_CITATION.match(s)) for s in sentences)
    trailing = sum(bool(cited_numbers(s)) and not _LEADING_CITATION.match(s) for s in sentences)
    order = range(1, len(sentences)) if leading > trailing else range(len(sentences) - 2, -1, -1)
    step = -1 if leading > trailing else 1
    for i in order:
        j = i + step
        if not cited[i] and cited[j] and block[i] == block[j]:
            cited[i] = cited[j]
    return cited


def _block_ids(text: str, sentences: list[str]) -> list[int]:
    ids, position = [], 0
    for sentence in sentences:
        found = text.find(sentence[:20], position)
        if found >= 0:
            position = found
        ids.append(len(_BLANK_LINE.findall(text, 0, position)))
    return ids


def claim(sentence: str) -> str:
    """What a sentence states: without its citations and its list marker."""
    return _LIST_MARKER.sub("", CITATION.sub("", sentence)).strip()

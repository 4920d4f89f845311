"""Lines into running text, as a reader would join them.

- A line ending in a hyphen (or PDFium's line-end hyphen mark, or a soft hyphen U+00AD) before
  a line starting with a letter: the hyphen is a line-break hyphen ("lim- ited" -> "limited")
  unless the document itself shows the compound ("retrieval-augmented" written whole elsewhere,
  or the next word capitalised, "Block-" "Sparse", where the joined form is not seen either).
- A line ending in a Chinese character or punctuation before a line starting with one: joined
  with no space. Anywhere else lines are joined with one space.
- Within a line: tabs (wide gaps) become spaces, runs of spaces one, and the spaces a typesetter
  puts between two Chinese characters or punctuation marks go.

Example:
    >>> vocabulary = Vocabulary.of(["the block-sparse router", "limited"])
    >>> join_lines(["a lim-", "ited router", "is block-", "sparse"], vocabulary)
    'a limited router is block-sparse'
    >>> join_lines(["分块路由为", "基础，", "and English"], vocabulary)
    '分块路由为基础， and English'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kg.lang import HAN_CLASS

__all__ = ["CJK_CHARS", "Vocabulary", "clean_line", "join_lines", "join_pair", "join_with_offsets"]

# Han characters, CJK symbols and punctuation, full-width forms: text written without spaces
CJK_CHARS = HAN_CLASS + "\u3000-\u303f\uff00-\uffef"
_HAN_OR_PUNCT = re.compile(f"[{CJK_CHARS}]")
_SPACE_IN_CJK = re.compile(f"(?<=[{CJK_CHARS}])[ \t]+(?=[{CJK_CHARS}])")
_WORD = re.compile(r"[^\W_]+(?:[-\u00ad][^\W_]+)*")
_HYPHENS = "-\u00ad\u2010"


@dataclass(frozen=True)
class Vocabulary:
    """The words a document writes whole within its lines (case-folded): the evidence for
    telling a line-break hyphen from a compound's."""

    words: frozenset[str]

    @classmethod
    def of(cls, lines: Iterable[str]) -> Vocabulary:
        words: set[str] = set()
        for line in lines:
            body = line.rstrip(_HYPHENS + " \t")
            if len(body) < len(line.rstrip()):
                body = body.rsplit(None, 1)[0] if " " in body else ""  # drop the cut word
            words.update(word.casefold().replace("\u00ad", "-") for word in _WORD.findall(body))
        return cls(frozenset(words))


def clean_line(text: str) -> str:
    """One line's text with its spacing normalised (see the module docstring)."""
    text = text.replace("\t", " ")
    text = re.sub(r"\u00ad(?=\S)", "", text)  # a soft hyphen inside a line is invisible
    text = re.sub(r" {2,}", " ", text).strip()
    return _SPACE_IN_CJK.sub("", text)


def join_pair(left: str, right: str, vocabulary: Vocabulary) -> str:
    """`left` and `right` (cleaned lines) as one text."""
    if not left:
        return right
    if not right:
        return left
    if left[-1] in _HYPHENS and len(left) > 1 and left[-2].isalpha() and right[0].isalnum():
        return _join_hyphen(left, right, vocabulary)
    if left[-1] in _HYPHENS and len(left) > 1 and left[-2].isalnum() and right[0].isalnum():
        return left[:-1] + "-" + right  # a range or an identifier broken at its hyphen: 55-61
    if _HAN_OR_PUNCT.match(left[-1]) and _HAN_OR_PUNCT.match(right[0]):
        return left + right
    if left[-1] in "/" and re.search(r"(https?://|doi\.org/|10\.\d{4,9}/)\S*$", left):
        return left + right  # a URL or DOI broken at a slash
    return left + " " + right


def _join_hyphen(left: str, right: str, vocabulary: Vocabulary) -> str:
    head_match = re.search(r"[^\W_]+(?:-[^\W_]+)*$", left[:-1])
    tail_match = re.match(r"[^\W_]+(?:-[^\W_]+)*", right)
    head = head_match.group() if head_match else ""
    tail = tail_match.group() if tail_match else ""
    whole = (head + tail).casefold()
    compound = f"{head}-{tail}".casefold()
    # TeX breaks a word with a hyphen in it only at that hyphen, leaves at least three letters
    # for the next line, and never hyphenates a URL or DOI: such a hyphen is the text's own
    token = left.rsplit(None, 1)[-1]
    if "-" in head or len(tail) < 3 or "/" in token:
        return left[:-1] + "-" + right
    keep = compound in vocabulary.words or (
        whole not in vocabulary.words and not right[0].islower()
    )
    return left[:-1] + ("-" if keep else "") + right


def join_lines(lines: Sequence[str], vocabulary: Vocabulary) -> str:
    """The lines (raw row texts) as one paragraph."""
    return join_with_offsets(lines, vocabulary)[0]


def join_with_offsets(lines: Sequence[str], vocabulary: Vocabulary) -> tuple[str, list[int]]:
    """The lines as one paragraph, and where in it each line's text starts."""
    text = ""
    offsets = []
    for line in lines:
        offsets.append(len(text) + (1 if text else 0))
        text = join_pair(text, clean_line(line), vocabulary)
    return text.replace("\u00ad", "-"), offsets  # a last break hyphen, with nothing to join

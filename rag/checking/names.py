"""Latin words shaped like names: LLaMA, GPT-4, Q-Former (an inner capital or a digit), or a
capitalised word inside a sentence.

The names the graph knows are found by `kg.names.find_mentions`; these are the names a claim or
a question states whether the graph knows them or not, so that each can be looked up in a
source (`rag.checking.support`, `rag.checking.figures`) or in the corpus (`rag.answering.question`).
"""

from __future__ import annotations

import re

from kg.tables import fold

__all__ = ["NAME", "WORD", "is_marked", "latin_names", "name_key"]

# A Latin word, with inner hyphens or dots: LLaMA, GPT-4, Q-Former, LLaVA-1.5 (a regex source).
WORD = r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*"
# The same, not glued to the end of another word or number.
NAME = re.compile(rf"(?<![A-Za-z0-9]){WORD}")


def is_marked(word: str) -> bool:
    """`word` has a capital inside it or a digit: a name wherever it stands."""
    return any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)


def latin_names(text: str, breaks: str = "") -> list[tuple[int, int, str]]:
    """(start, end, word) of each name in `text`: a marked word, or a capitalised one that
    neither opens the text nor follows one of the characters in `breaks` (sentence ends, when
    a capital there is the sentence's and not the name's).

    >>> latin_names("LLaMA beats GPT-3. Then Meta", breaks=".")
    [(0, 5, 'LLaMA'), (12, 17, 'GPT-3'), (24, 28, 'Meta')]
    """
    out = []
    for match in NAME.finditer(text):
        word = match[0]
        before = text[: match.start()].rstrip()
        capitalised = word[0].isupper() and bool(before) and before[-1] not in breaks
        if is_marked(word) or capitalised:
            out.append((match.start(), match.end(), word))
    return out


def name_key(text: str) -> str:
    """What two spellings of one name share: folded, without spaces, hyphens and dots."""
    return re.sub(r"[\s\-_.–]", "", fold(text))

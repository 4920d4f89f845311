"""Whether an answer says anything its question does not: `adds_to`.

A supported answer can still say nothing: "ToolLLM built an automatic evaluator for tool use,
which is described in [P1]." or an echo of the question ("Code Llama 在多长的输入上仍显示出
改善。"). It adds to the question only with a content word beyond the question's own (matched
by stem) and beyond the words that only point at a source (`data/citation_cues.json`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kg.cues import load_cues
from rag.checking.citations import CITATION
from rag.retrieval.bm25 import tokenize

__all__ = ["adds_to", "stem"]


def adds_to(question: str, answer: str) -> bool:
    """`answer` says something the question does not: a content word beyond the question's
    own and beyond pointers at a source."""
    pointers = load_cues("citation_cues").words("pointer_words")
    asked = {stem for t in tokenize(question) for stem in _stems(t)}
    said = [t for t in tokenize(CITATION.sub(" ", answer)) if t not in pointers]
    return any(not _stems(t) & asked for t in said)


def _stems(token: str) -> set[str]:
    """The forms a Latin word is matched by: its Snowball stem (published / publish, mixtures /
    mixture) and a cut of its last letters for the irregular past (built / build) that keeps a
    longer name apart from the word it starts with (tooleval / tool). Other tokens as they are."""
    if not (token.isalpha() and token.isascii()):
        return {token}
    return {stem(token), token[: max(4, len(token) - 3)]}


def stem(token: str) -> str:
    """The Snowball stem of a lower-case Latin word (published / publish); other tokens as
    they are."""
    if not (token.isalpha() and token.isascii()):
        return token
    return str(_english_stemmer().stemWord(token))


@lru_cache(maxsize=1)
def _english_stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")

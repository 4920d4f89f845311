"""Citation checking: strip invented citations, keep only the supported, cited sentences.

A sentence survives only if it cites at least one source that was shown and the cited sources
support it (`rag.checking.support`: close to one of them, every number and name it states in
them, each figure bound to what it measures there). The answer's sentences and the citations
each carries are read by `rag.checking.answer_text`. If nothing survives, the pipeline falls
back to an extractive answer (`rag.answering.extractive`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.lang import han_count
from kg.tables import fold
from rag.checking.answer_text import (
    claim,
    inherit_paragraph_citations,
    split_sentences,
    strip_unknown_citations,
)
from rag.checking.citations import cited_numbers
from rag.checking.echo import adds_to
from rag.checking.figures import figures
from rag.checking.support import NamedSpan, SourceText, SupportChecker
from rag.retrieval.bm25 import tokenize

__all__ = [
    "adds_to",
    "CheckedText",
    "NamedSpan",
    "SourceText",
    "SupportChecker",
    "check_answer",
    "cited_numbers",
    "split_sentences",
    "strip_unknown_citations",
]

# An answer sentence of at most this many terms is checked together with its question.
_BARE_TERMS = 4


@dataclass(frozen=True)
class CheckedText:
    text: str
    cited: tuple[int, ...]
    removed_citations: int
    unsupported_sentences: int
    extractive: bool


def check_answer(
    raw: str, sources: Sequence[SourceText], checker: SupportChecker, question: str = ""
) -> CheckedText:
    """Strip invented citations, then keep only the supported, cited sentences of `raw`.

    A bare answer ("10万美元 [P1]", "Markdown.") means nothing without the `question` it
    answers: it is checked as the question followed by it, so that its closeness is that of
    the claim it makes and its figure is bound to what the question asks."""
    by_number = {s.number: s for s in sources}
    text, removed = strip_unknown_citations(raw, set(by_number))
    sentences = split_sentences(text)
    cited = inherit_paragraph_citations(text, sentences)
    order = [s.number for s in sources]
    claims = [f"{question} {s}" if question and _is_bare(s) else s for s in sentences]
    sims = checker.closeness(claims, [by_number[n] for n in order])
    kept: list[str] = []
    used: list[int] = []
    unsupported = 0
    for i, sentence in enumerate(sentences):
        if _is_connective(sentence) or _only_restates_a_header(sentence, sources):
            continue
        # closest first, so that the smallest supporting set of citations is kept
        ranked = sorted(cited[i], key=lambda n: -sims[i, order.index(n)])
        close = [n for n in ranked if sims[i, order.index(n)] >= checker.threshold]
        supported = _supported_subset(checker, claims[i], close, cited[i], by_number)
        if not supported:
            unsupported += 1
            continue
        if len(supported) < len(cited[i]):
            sentence, _ = strip_unknown_citations(sentence, set(supported))
        if not cited_numbers(sentence):
            sentence = sentence + "".join(f"[P{n}]" for n in supported)
        kept.append(sentence)
        used.extend(n for n in supported if n not in used)
    joiner = "" if _is_cjk_text(" ".join(kept)) else " "
    return CheckedText(joiner.join(kept), tuple(used), removed, unsupported, extractive=False)


def _supported_subset(
    checker: SupportChecker,
    sentence: str,
    close: Sequence[int],
    cited: Sequence[int],
    by_number: dict[int, SourceText],
) -> list[int]:
    """The citations that support a sentence: the closest one alone when it holds all the facts
    stated, else the close ones, else all it cites when together they do (one being close);
    [] when unsupported."""
    if not close:
        return []
    for numbers in (close[:1], close, cited):
        if checker.facts_supported(sentence, [by_number[n] for n in numbers]):
            return list(numbers)
    return []


def _is_bare(sentence: str) -> bool:
    """Only the answer itself, without the words that say what it is about: a few terms."""
    return len(tokenize(claim(sentence))) <= _BARE_TERMS


def _is_connective(sentence: str) -> bool:
    """Nothing to check: empty, or an introduction ("The paper has these features:")."""
    stated = claim(sentence).strip(" .。,，;；-*")
    return not stated or (stated.endswith((":", "：")) and not figures(stated))


def _only_restates_a_header(sentence: str, sources: Sequence[SourceText]) -> bool:
    """A sentence that only repeats a source's title line (title, organisations, date) says
    nothing about the question; models echo headers of sources they did not use."""
    rest = fold(claim(sentence))
    for source in sources:
        title = fold(source.title)
        if title and title in rest:
            rest = rest.replace(title, " ")
            for token in re.split(r"[\s,，]+", fold(source.meta)):
                if token:
                    rest = rest.replace(token, " ")
    return len(re.sub(r"[\W_]+", "", rest)) < 4


def _is_cjk_text(text: str) -> bool:
    return han_count(text) > len(text) * 0.1

"""The extractive fallback answer: when nothing of the generated answer survives the check, the
sentence that best answers the question from each top source, quoted and cited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.answering import prompts
from rag.checking.cite import CheckedText
from rag.checking.support import SourceText, SupportChecker
from rag.passages import paper_sentences

__all__ = ["extractive_answer"]


def extractive_answer(
    question: str,
    sources: Sequence[SourceText],
    checker: SupportChecker,
    language: str,
    limit: int = 2,
    quotes: Mapping[int, str] | None = None,
) -> CheckedText:
    """The sentence that best answers the question from each top source, quoted and cited.

    `quotes` (source number → sentence) are the answering sentences already chosen by the
    evidence selection (`rag.answering.evidence`); without them each source's sentences are ranked by
    similarity to the question here."""
    lines = [prompts.render("extractive", language)]
    used: list[int] = []
    top = -1.0
    for source in sources[:limit]:
        if quotes is not None:
            if source.number not in quotes:
                continue
            lines.append(f"- “{quotes[source.number]}” [P{source.number}]")
            used.append(source.number)
            continue
        candidates = paper_sentences("", source.body) or [source.title]
        sims = checker.similarities([question], candidates)[0]
        best = int(np.argmax(sims))
        if used and sims[best] < top - checker.extractive_margin:
            break  # a clearly weaker source would only dilute the quoted evidence
        top = max(top, float(sims[best]))
        lines.append(f"- “{candidates[best]}” [P{source.number}]")
        used.append(source.number)
    return CheckedText("\n".join(lines), tuple(used), 0, 0, extractive=True)

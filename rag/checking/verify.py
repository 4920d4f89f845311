"""Verify one claim against a paper: `verify_claim(claim, sources, checker) -> Verdict`.

The verdict is `supported` (a sentence of the paper restates the claim, every figure and name the
claim states is in the paper bound to the same thing, and the claim keeps the sentence's roles:
`rag.checking.roles`), `contradicted` (the sentence the claim restates says otherwise: another
figure for the same measure, a swapped comparison, a moved property, a dropped or added negation)
or `not_stated` (no sentence of the paper is close enough, or what the claim adds is not there).

The evidence is the paper sentence closest to the claim (`SupportChecker.closeness`, the measure
the support threshold is calibrated on). This is the per-sentence check of an answer too: an
answer sentence and the sources it cites give one `Verdict` each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kg.errors import KgragError
from kg.paper import short_name
from rag.checking.answer_text import claim as _claim_text
from rag.checking.figures import figure_supported, figures
from rag.checking.roles import Similarity, role_conflicts
from rag.checking.support import SourceText, SupportChecker
from rag.passages import paper_sentences, split_sentences

__all__ = ["CONTRADICTED", "NOT_STATED", "SUPPORTED", "ClaimError", "Verdict", "verify_claim"]

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_STATED = "not_stated"


class ClaimError(KgragError):
    """A claim that cannot be checked (empty)."""


@dataclass(frozen=True)
class Verdict:
    """What a paper says of a claim: the `verdict`, the paper and sentence it rests on (`page`
    once papers have pages; None for an abstract) and the reasons, one line each."""

    claim: str
    verdict: str
    paper_id: str | None = None
    paper_title: str | None = None
    evidence: str | None = None
    page: int | None = None
    similarity: float = 0.0
    reasons: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return self.verdict == SUPPORTED

    def to_json(self) -> dict[str, Any]:
        """`{"claim", "verdict", "paper": {"id", "title"}|null, "evidence": {"text", "page"}|null,
        "reasons": [str]}`."""
        paper = None if self.paper_id is None else {"id": self.paper_id, "title": self.paper_title}
        evidence = None if self.evidence is None else {"text": self.evidence, "page": self.page}
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "paper": paper,
            "evidence": evidence,
            "reasons": list(self.reasons),
        }


def verify_claim(
    claim: str,
    sources: Sequence[SourceText],
    checker: SupportChecker,
    *,
    bind_roles: bool = True,
) -> Verdict:
    """The verdict of the paper(s) in `sources` on `claim`. `bind_roles=False` is the checker as
    it was before role binding (closeness, figures and names only): the baseline."""
    text = _claim_text(claim or "").strip()
    if not text:
        raise ClaimError("The claim is empty: give the sentence to check.")
    if not sources:
        raise ClaimError("No paper to check the claim against: name one with --paper.")
    source, sentence, score = _closest(text, sources, checker)
    found = Verdict(text, NOT_STATED, source.paper_id, source.title, page=source.page,
                    similarity=score)  # fmt: skip
    if score < checker.threshold:
        why = (f"no sentence of {source.title} is close to the claim (best cosine {score:.2f} < "
               f"{checker.threshold:.2f}): “{sentence}”")  # fmt: skip
        return replace(found, reasons=(why,))
    found = replace(found, evidence=sentence)
    own = tuple(n for n in (*source.own_names, short_name(source.title)) if n)
    if not checker.facts_supported(text, [source]):
        verdict, reasons = _facts_verdict(text, sentence, source, own)
        return replace(found, verdict=verdict, reasons=reasons)
    if bind_roles:
        conflicts = role_conflicts(text, sentence, _similarity(checker), own)
        if conflicts:
            return replace(found, verdict=CONTRADICTED, reasons=tuple(conflicts))
    why = f"restated by a sentence of {source.title} (cosine {score:.2f}); its facts are there"
    return replace(found, verdict=SUPPORTED, reasons=(why,))


def _closest(
    claim: str, sources: Sequence[SourceText], checker: SupportChecker
) -> tuple[SourceText, str, float]:
    """The source and sentence closest to the claim, and its cosine (`closeness` per sentence)."""
    best: tuple[SourceText, str, float] | None = None
    for source in sources:
        sentences = _sentences(source)
        one = [SourceText(0, source.paper_id, source.title, s) for s in sentences]
        scores = checker.closeness([claim], one)[0]
        i = int(np.argmax(scores))
        if best is None or scores[i] > best[2]:
            best = (source, sentences[i], float(scores[i]))
    assert best is not None
    return best


def _sentences(source: SourceText) -> list[str]:
    """The sentences of a body passage, or of the entry: the influence note (a line without a
    full stop), then the abstract."""
    if source.page is not None:
        return split_sentences(source.passage) or [source.passage]
    influence, _, abstract = source.body.partition("\n")
    return paper_sentences(influence, abstract) or [source.body]


def _facts_verdict(
    claim: str, sentence: str, source: SourceText, own: Sequence[str]
) -> tuple[str, tuple[str, ...]]:
    """A figure the paper states for the same thing with another value contradicts; a figure or
    name the paper does not state at all is not stated."""
    missing = [
        f.text for f in figures(claim) if not figure_supported(f, claim, source.evidence, own)
    ]
    if missing and figures(sentence):
        return CONTRADICTED, tuple(
            f"the figure {m} is not what the source states for it: “{sentence}”" for m in missing
        )
    if missing:
        return NOT_STATED, tuple(f"{source.title} does not state the figure {m}" for m in missing)
    return NOT_STATED, (f"{source.title} does not state every name or figure of the claim",)


def _similarity(checker: SupportChecker) -> Similarity:
    """Cosine between short texts (clauses, comparison sides), each embedded once per checker."""
    encode = checker.document_vectors or checker.embedder.encode_documents  # type: ignore[attr-defined]

    def similar(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(encode([*a, *b]))
        return np.asarray(vectors[: len(a)] @ vectors[len(a) :].T, dtype=np.float32)

    return similar

"""When kgrag says the corpus does not cover a question instead of answering it.

Two signals: how close the question is to the best retrieved passage (dense cosine), and
whether the question names things that the corpus does not hold (`Mamba`, `Llama 3`, a work
known only as a reference such as GPT-4) while naming nothing that it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.route import HYBRID, Route

__all__ = ["RefusalPolicy", "should_refuse"]


@dataclass(frozen=True)
class RefusalPolicy:
    """Thresholds on the question-to-best-passage cosine, calibrated on the dev set with
    EmbeddingGemma: out-of-domain questions scored 0.03-0.13, near misses naming something
    outside the corpus 0.28-0.46, in-corpus questions 0.48-0.71. `kgrag eval answers` prints
    each question's similarity so another embedder can be re-calibrated."""

    # Below this nothing retrieved is about the question, whatever it names.
    min_similarity: float = 0.35
    # A question naming only things outside the corpus needs a passage this close to go on.
    named_outside_similarity: float = 0.60


def should_refuse(route: Route, similarity: float, policy: RefusalPolicy | None = None) -> bool:
    """True when neither the graph nor retrieval supports an answer to the routed question."""
    policy = policy or RefusalPolicy()
    if route.kind == HYBRID:
        return False  # the graph selected the candidate papers
    if similarity < policy.min_similarity:
        return True
    return route.names_outside_corpus and similarity < policy.named_outside_similarity

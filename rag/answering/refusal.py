"""When kgrag says the corpus does not cover a question instead of answering it.

Two signals: how close the question is to the best retrieved passage (dense cosine), and
whether the question names things that the corpus does not hold (`Mamba`, `Llama 3`, a work
known only as a reference such as GPT-4) while naming nothing that it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answering.route import HYBRID, RAG, Route
from rag.models.catalogue import embedder_thresholds

__all__ = ["RefusalPolicy", "clearly_outside", "may_be_clearly_outside", "should_refuse"]


@dataclass(frozen=True)
class RefusalPolicy:
    """Thresholds on the question-to-best-passage cosine. Each left None is the active
    embedder's (`rag.models.catalogue.Thresholds`, calibrated per embedder on the dev sets by
    `python -m rag.evaluation.calibrate`; for EmbeddingGemma out-of-domain questions score 0.03-0.13, near
    misses naming something outside the corpus 0.28-0.46, in-corpus questions 0.48-0.71); one set
    here overrides it. `kgrag eval answers` prints each question's similarity too."""

    # Below this nothing retrieved is about the question, whatever it names.
    min_similarity: float | None = None
    # A question naming only things outside the corpus needs a passage this close to go on.
    named_outside_similarity: float | None = None

    def limits(self, embedder: str = "") -> tuple[float, float]:
        """(min_similarity, named_outside_similarity) for the embedder named `embedder` (its
        `Embedder.name`; '' or an unknown name: the default embedder's)."""
        calibrated = embedder_thresholds(embedder)
        low = calibrated.min_similarity if self.min_similarity is None else self.min_similarity
        named = self.named_outside_similarity
        return low, calibrated.named_outside_similarity if named is None else named


def should_refuse(
    route: Route,
    similarity: float,
    policy: RefusalPolicy | None = None,
    named_in_sources: bool = False,
    embedder: str = "",
) -> bool:
    """True when neither the graph nor retrieval supports an answer to the routed question.

    `named_in_sources`: the names the graph calls outside the corpus occur, as whole words, in
    the retrieved papers' text ("LLaVA" is a reference work for the graph but the LLaVA-1.5
    abstract names it), so the stricter threshold for outside names does not apply. `embedder`
    names the embedder that measured `similarity` (its thresholds apply)."""
    min_similarity, named_outside_similarity = (policy or RefusalPolicy()).limits(embedder)
    if route.kind == HYBRID:
        return False  # the graph selected the candidate papers
    if similarity < min_similarity:
        return True
    outside = route.names_outside_corpus and not named_in_sources
    return outside and similarity < named_outside_similarity


def clearly_outside(route: Route, question_terms: set[str], corpus_text: str) -> bool:
    """A refusal that needs no embedder: a Chinese retrieval question that names nothing the
    graph knows and shares not one content word (jieba, stop words dropped) with the corpus.

    Only Chinese: an English question can paraphrase a Chinese abstract without sharing a word
    with it (dense retrieval finds it), so English always goes the embedder's way. Calibration
    (data/eval/*.jsonl): every in-corpus Chinese question shares at least one word with the
    corpus; "明天北京的天气怎么样?" and "红烧肉怎么做?" share none.
    """
    if not may_be_clearly_outside(route):
        return False
    words = [t for t in question_terms if len(t) >= 2]  # a single character says nothing
    return bool(words) and not any(w in corpus_text for w in words)


def may_be_clearly_outside(route: Route) -> bool:
    """The route allows `clearly_outside` (check this first: the corpus words cost a second)."""
    return (
        route.kind == RAG and route.language == "zh" and not route.works and not route.has_filters
    )

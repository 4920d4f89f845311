"""Evidence for the prompt: the sentences of the top papers that answer the question.

The model used to see a fixed-length prefix of the best passage, so a figure stated in the second
half of an abstract never reached it. Here every sentence of each candidate paper (its influence
note and its whole abstract) is scored against the question: dense cosine with the embedder plus
a BM25-style overlap on the question's terms, with a small lift for sentences stating a figure
when the question asks for one; a sentence that opens with a word that needs the one before
("It", "These", "此外", "其中" …) scores as well as it does read with that sentence ("It was
pretrained on …" is about the model the sentence before names). The best sentences are kept
within a token budget, each with the sentence before it when it needs it, and are shown in
document order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kg.cues import load_cues
from kg.lang import han_count, has_han
from rag.checking.figures import asked_measures, figures, measured
from rag.passages import join_sentences
from rag.retrieval.bm25 import term_share

__all__ = [
    "EVIDENCE_TOKENS",
    "Evidence",
    "EvidenceSentence",
    "asks_for_figure",
    "estimate_tokens",
    "select_evidence",
    "states_what_is_asked",
]

# Tokens of evidence across all sources, chosen by measurement (`python -m bench evidence`, the 82
# fact questions of data/eval/answer_facts_dev.jsonl): the asked fact reached the prompt for 87%
# at 60 tokens, 89% at 90, 90% at 110, 93% at 120 and 95% at 130 (median 122 tokens shown). Each
# 40 tokens cost ~0.4 s of prompt evaluation on 2 cores; 130 keeps kgrag's evaluated prompt near
# 0.2x of the naive 3-abstract prompt (~1,000 tokens), the first-token target. Since sentences
# that lean on the one before are scored with it (2026-12-06): 91% at 60, 93% at 90, 94% at 110,
# 93% at 120, 95% at 130 (78 of 82 against 79), 95% at 170.
EVIDENCE_TOKENS = 130
# A further paper is shown only when its best sentence scores within this of the best one.
SECOND_SOURCE_MARGIN = 0.08
LEXICAL_WEIGHT = 0.5
FIGURE_LIFT = 0.08
MEASURE_LIFT = 0.2
RANK_PENALTY = 0.04

# Sentence openings that lean on the sentence before ("These methods …", "此外 …").
_NEEDS_CONTEXT = re.compile(
    r"^(?:this|these|those|it|its|they|their|such|however|moreover|furthermore|in addition|"
    r"specifically|therefore|thus|as a result|for example|for instance)\b|^(?:此外|其中|这些|这种|"
    r"这个|该|它|它们|其|具体来说|具体而言|因此|所以|然而|不过|但|另外|同时|例如|举例来说|由此|"
    r"第二|其次|第三|最后|尽管|这|这使)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EvidenceSentence:
    paper_id: str
    position: int  # order within the paper: 0 is the influence note, then the abstract
    text: str
    score: float


@dataclass(frozen=True)
class Evidence:
    """The chosen sentences per paper, in the papers' order, each paper's in document order."""

    papers: tuple[str, ...]
    sentences: tuple[EvidenceSentence, ...]

    def text_for(self, paper_id: str) -> str:
        chosen = sorted((s for s in self.sentences if s.paper_id == paper_id),
                        key=lambda s: s.position)  # fmt: skip
        out: list[str] = []
        last = -2
        for s in chosen:
            if out and s.position != last + 1:
                out.append("…")
            out.append(s.text)
            last = s.position
        return join_sentences(out)

    def best(self, paper_id: str) -> EvidenceSentence | None:
        mine = [s for s in self.sentences if s.paper_id == paper_id]
        return max(mine, key=lambda s: s.score) if mine else None


def asks_for_figure(question: str) -> bool:
    """The question asks for a number (how many, how often, a speed-up, a score …; the words
    are `figure_questions` in data/figure_cues.json)."""
    return load_cues("figure_cues").regex("figure_questions").search(question) is not None


def estimate_tokens(text: str) -> int:
    """Prompt tokens for `text` with the Qwen2.5 tokenizer, estimated without loading it: ~0.75
    per Chinese character, ~0.3 per other character (over every sentence of the shipped corpus
    the estimate is 7,052 tokens for 6,721 real ones: 5% high, so budgets err short)."""
    cjk = han_count(text)
    return math.ceil(cjk * 0.75 + (len(text) - cjk) * 0.3)


Encoder = Callable[[str, Sequence[str]], np.ndarray]


def select_evidence(
    question: str,
    papers: Sequence[tuple[str, Sequence[str]]],
    similarity: Encoder,
    budget: int = EVIDENCE_TOKENS,
) -> Evidence:
    """Pick the sentences that answer `question` from `papers` ((paper id, sentences), best
    retrieved first). `similarity(question, sentences)` returns their cosines to the question.

    The first paper always contributes its best sentence; a later paper only when its best
    sentence is about as good (`SECOND_SOURCE_MARGIN`). Sentences are then taken best first
    until the budget is spent; a sentence that leans on the one before brings it along.
    """
    scored = _score(question, papers, similarity)
    if not scored:
        return Evidence((), ())
    top = max(s.score for s in scored if s.paper_id == papers[0][0]) if scored else 0.0
    shown = [pid for pid, _ in papers if _best_score(scored, pid) >= top - SECOND_SOURCE_MARGIN]
    shown = shown or [papers[0][0]]
    pool = sorted((s for s in scored if s.paper_id in shown), key=lambda s: -s.score)
    by_key = {(s.paper_id, s.position): s for s in scored}
    chosen: dict[tuple[str, int], EvidenceSentence] = {}
    spent = 0
    # each shown paper's best sentence first, so every shown source has its evidence
    firsts = [max((s for s in pool if s.paper_id == pid), key=lambda s: s.score) for pid in shown]
    for sentence in firsts + pool:
        group = [sentence]
        previous = by_key.get((sentence.paper_id, sentence.position - 1))
        if previous is not None and sentence.position > 1 and _NEEDS_CONTEXT.match(sentence.text):
            group.insert(0, previous)
        new = [s for s in group if (s.paper_id, s.position) not in chosen]
        cost = sum(estimate_tokens(s.text) for s in new)
        if not new or (chosen and spent + cost > budget):
            continue
        for s in new:
            chosen[(s.paper_id, s.position)] = s
        spent += cost
    return Evidence(tuple(shown), tuple(chosen.values()))


def _score(
    question: str, papers: Sequence[tuple[str, Sequence[str]]], similarity: Encoder
) -> list[EvidenceSentence]:
    flat = [
        (rank, pid, i, s) for rank, (pid, sents) in enumerate(papers) for i, s in enumerate(sents)
    ]
    if not flat:
        return []
    texts = [s for _, _, _, s in flat]
    read = [_with_context(flat, k) for k in range(len(flat))]
    dense = np.asarray(similarity(question, texts), dtype=np.float32)
    lexical = term_share(question, texts)
    leaning = [k for k in range(len(flat)) if read[k] != texts[k]]
    if leaning:  # a sentence scores as well alone or as read with the one before, whichever is more
        joined = np.asarray(similarity(question, [read[k] for k in leaning]), dtype=np.float32)
        joined_lexical = term_share(question, [read[k] for k in leaning])
        for n, k in enumerate(leaning):
            dense[k] = max(dense[k], joined[n])
            lexical[k] = max(lexical[k], joined_lexical[n])
    lexical = _across_languages(question, texts, lexical)
    figure = asks_for_figure(question)
    asked = asked_measures(question) if figure else set()
    known = [f.values for f in figures(question)]
    out = []
    for k, (rank, pid, position, text) in enumerate(flat):
        score = float(dense[k]) + LEXICAL_WEIGHT * lexical[k] - RANK_PENALTY * rank
        if figure:
            score += _figure_lift(text, known, asked)
        out.append(EvidenceSentence(pid, position, text, score))
    return out


def _with_context(flat: Sequence[tuple[int, str, int, str]], k: int) -> str:
    """Sentence `k` as it is read: with the sentence before when it leans on it ("It was
    pretrained on …" is about the model the sentence before names)."""
    _, pid, position, text = flat[k]
    if k and position and _NEEDS_CONTEXT.match(text) and flat[k - 1][1] == pid:
        return f"{flat[k - 1][3]} {text}"
    return text


def _figure_lift(text: str, known: Sequence[tuple[float, ...]], asked: set[str]) -> float:
    """A sentence stating a figure the question does not already give ("Besides 7B, 13B and
    70B …" is answered by 34B, not by a sentence repeating 7B, 13B and 70B), more when that
    figure measures what the question asks (tokens: "16k 字元序列", not "7B 个参数")."""
    new = [f for f in figures(text) if f.values not in known]  # not the digit of a name (Medusa-1)
    if not new:
        return 0.0
    if asked and any(asked & measured(text, f) for f in new):
        return FIGURE_LIFT + MEASURE_LIFT
    return FIGURE_LIFT


def _across_languages(question: str, texts: Sequence[str], lexical: list[float]) -> list[float]:
    """A sentence in the other language shares few words with the question (its names); it
    scores the mean of that share and the share of the question's concepts it names
    (data/glossary_cues.json: 阶段 / stage, 上下文 / context). Measured on the tune questions
    against the larger of the two (which lets every sentence naming all concepts tie, whatever
    names it shares) and against concepts weighed as IDF terms beside the words: the fact in the
    best sentence for 29 / 28 / 26 of the 38 PDF questions and 51 / 49 / 49 of the 56 abstract
    ones, in the prompt 34 / 34 / 33 and 55 / 55 / 54 (31 and 54 without concepts)."""
    asked = _concepts(question)
    if not asked:
        return lexical
    chinese = has_han(question)
    return [
        (score + len(asked & _concepts(text)) / len(asked)) / 2
        if has_han(text) != chinese
        else score
        for text, score in zip(texts, lexical, strict=True)
    ]


def states_what_is_asked(question: str, sentence: str) -> bool:
    """The question asks for a figure, and `sentence` holds one and names every concept the
    question asks about, in either language ("On how many accelerators was Qingwu pretrained?"
    / "整个预训练在 32 张加速卡上进行"): a quote that may well answer, never to be introduced as
    "the corpus does not state this"."""
    if not asks_for_figure(question) or not figures(sentence):
        return False  # "on which benchmark …": a figure beside the concepts answers nothing
    asked = _concepts(question)
    return bool(asked) and asked <= _concepts(sentence)


@lru_cache(maxsize=8192)
def _concepts(text: str) -> frozenset[str]:
    """The concepts `text` names (data/glossary_cues.json), in either language; each concept
    tried on its own, so that "tokenizer" is both the tokenizer and a token (cached: a paper's
    sentences come back with every question about it)."""
    rules = load_cues("glossary_cues").rules("concepts")
    return frozenset(rule.then for rule in rules if rule.cue.regex.search(text))


def _best_score(scored: Sequence[EvidenceSentence], paper_id: str) -> float:
    return max((s.score for s in scored if s.paper_id == paper_id), default=-1.0)

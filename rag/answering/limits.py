"""Whether a question fits the LLM's context beside its sources and answer, measured before any
retrieval: a question that cannot fit is refused at once, naming its token count and the limit.
"""

from __future__ import annotations

from kg.errors import LimitError
from rag.protocols import TokenCounter

__all__ = ["PROMPT_RESERVE", "check_question_tokens", "question_token_budget"]

# Context tokens a retrieval prompt keeps for all but the question. On the shipped list: the
# system message and templates ~160, the evidence `EVIDENCE_TOKENS` (estimated) plus a first
# sentence shown whole (the longest has 84), three titles ~100, a premise correction ~40: ~500.
# Twice that leaves room for a library's longer sentences and titles.
PROMPT_RESERVE = 1_024
# No tokenizer llama.cpp runs (byte-level BPE, SentencePiece with byte fallback) spends more than
# one token a UTF-8 byte, plus one for a leading-space marker: shorter questions are not counted.
_TOKENS_PER_BYTE_SLACK = 1


def question_token_budget(generator: TokenCounter) -> int:
    """The most tokens a question may have: the context less the answer and `PROMPT_RESERVE`."""
    return generator.n_ctx - generator.max_tokens - PROMPT_RESERVE


def check_question_tokens(generator: object, question: str) -> None:
    """`LimitError` naming the count and the limit when `question` cannot fit the generator's
    context beside its sources and answer. A question short in bytes is not tokenized; a
    generator without a context window (a scripted one) is not asked."""
    if not isinstance(generator, TokenCounter):
        return
    budget = question_token_budget(generator)
    if len(question.encode("utf-8")) + _TOKENS_PER_BYTE_SLACK <= budget:
        return
    tokens = generator.count_tokens(question)
    if tokens > budget:
        raise LimitError(
            f"the question is {tokens:,} tokens for the model; the limit is {budget:,} (its "
            f"{generator.n_ctx:,}-token context also holds the sources and the answer). Ask a "
            "shorter question."
        )

"""A question too long in the model's tokens is refused before any retrieval, embedding or
generation, with a `LimitError` naming its token count and the limit."""

from __future__ import annotations

from collections.abc import Callable
from subprocess import CompletedProcess

import pytest

from kg.errors import LimitError
from kg.graph import KnowledgeGraph
from kg.limits import MAX_QUESTION_CHARS
from rag.answering.limits import check_question_tokens, question_token_budget
from rag.answering.pipeline import Engine, ask
from rag.llm.generator import LlamaCppGenerator

# 2,000 characters of CJK Extension B: within the character limit, but several tokens each.
RARE_CJK = "".join(chr(0x20000 + 7 * i) for i in range(MAX_QUESTION_CHARS))
COMMON_CJK = "大语言模型的推理速度如何提升?" * (MAX_QUESTION_CHARS // 15)


def _never(what: str) -> Callable[[], object]:
    def make() -> object:
        raise AssertionError(f"{what} was built, but the question must be refused first")

    return make


class CountingGenerator:
    """A `TokenCounter` with a small context that records what it was asked to count."""

    n_ctx = 2048
    max_tokens = 200

    def __init__(self) -> None:
        self.counted: list[str] = []

    def count_tokens(self, text: str) -> int:
        self.counted.append(text)
        return len(text.encode("utf-8"))


@pytest.mark.llm
def test_a_question_of_rare_characters_is_refused_before_any_retrieval(
    kg: KnowledgeGraph, generator: LlamaCppGenerator
) -> None:
    engine = Engine(kg, generator=generator, retriever_factory=_never("the retriever"),
                    embedder_factory=_never("the embedder"))  # fmt: skip
    with pytest.raises(LimitError) as error:
        ask(RARE_CJK, engine)
    tokens, budget = generator.count_tokens(RARE_CJK), question_token_budget(generator)
    assert tokens > budget
    assert f"{tokens:,} tokens" in str(error.value)
    assert f"the limit is {budget:,}" in str(error.value)


@pytest.mark.llm
def test_a_long_question_of_common_characters_fits(generator: LlamaCppGenerator) -> None:
    assert len(COMMON_CJK) <= MAX_QUESTION_CHARS
    check_question_tokens(generator, COMMON_CJK)  # counted (too many bytes to skip), and fits


def test_a_question_short_in_bytes_is_not_tokenized() -> None:
    counter = CountingGenerator()
    budget = question_token_budget(counter)
    check_question_tokens(counter, "x" * (budget - 1))
    assert counter.counted == []
    with pytest.raises(LimitError, match=f"the limit is {budget:,}"):
        check_question_tokens(counter, "x" * (budget + 1))
    assert len(counter.counted) == 1


def test_a_generator_without_a_context_window_is_not_asked() -> None:
    check_question_tokens(object(), RARE_CJK)  # a scripted generator: nothing to measure


@pytest.mark.llm
def test_the_cli_refuses_it_in_one_line(run_kgrag: Callable[..., CompletedProcess[str]]) -> None:
    done = run_kgrag("ask", RARE_CJK)
    assert done.returncode == 2, done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("kgrag: error:")]
    assert "tokens for the model" in line and "the limit is" in line
    assert "Traceback" not in done.stderr

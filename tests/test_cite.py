"""Citation checking: invented citations stripped, unsupported sentences caught, fallback."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from kg.corpus import Corpus
from kg.lexicon import load_lexicon
from kg.lineage import lineage_cue
from rag.answering.extractive import extractive_answer
from rag.checking.answer_text import split_sentences, strip_unknown_citations
from rag.checking.citations import cited_numbers
from rag.checking.cite import check_answer
from rag.checking.echo import adds_to
from rag.checking.support import SourceText, SupportChecker


def _source(corpus: Corpus, number: int, paper_id: str) -> SourceText:
    return SourceText.from_paper(number, corpus.by_id()[paper_id])


@pytest.fixture(scope="module")
def checker(answer_embedder: Any) -> SupportChecker:
    return SupportChecker(answer_embedder)


def test_every_citation_form_is_parsed() -> None:
    assert cited_numbers("A [P1]. B [P2, P3]. C [P4][P5]. D [p6，P7].") == [1, 2, 3, 4, 5, 6, 7]


def test_citations_to_numbers_not_among_the_sources_are_removed_and_counted() -> None:
    text, removed = strip_unknown_citations(
        "Medusa adds heads [P1][P7]. It is fast [P2, P9].", {1, 2}
    )
    assert removed == 2
    assert cited_numbers(text) == [1, 2]
    assert "P7" not in text and "P9" not in text


def test_a_citation_after_the_full_stop_stays_with_its_sentence() -> None:
    assert split_sentences("Medusa adds decoding heads. [P1] 它能加速推理。[P2]") == [
        "Medusa adds decoding heads. [P1]",
        "它能加速推理。 [P2]",
    ]


def test_a_supported_cited_sentence_survives(corpus: Corpus, checker: SupportChecker) -> None:
    sources = [_source(corpus, 1, "medusa"), _source(corpus, 2, "gptq")]
    raw = "Medusa 训练多个 LM head 来预测不同位置的 token,实现推理加速 [P1]。"
    checked = check_answer(raw, sources, checker)
    assert checked.unsupported_sentences == 0
    assert checked.cited == (1,)
    assert "Medusa" in checked.text


def test_a_sentence_naming_an_organisation_its_source_lacks_is_unsupported(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "flashattention-2")]
    raw = "FlashAttention-2 was published by Meta [P1]. FlashAttention-2 improves GPU work partitioning [P1]."
    checked = check_answer(raw, sources, checker)
    assert checked.unsupported_sentences == 1
    assert "Meta" not in checked.text
    assert "partitioning" in checked.text


def test_a_sentence_stating_a_number_its_source_lacks_is_unsupported(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "gorilla")]
    checked = check_answer("Gorilla 使用了 42000 个 API [P1]。", sources, checker)
    assert checked.unsupported_sentences == 1
    assert checked.text == ""


def test_a_sentence_citing_an_unrelated_source_is_unsupported(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "gptq"), _source(corpus, 2, "kosmos-2")]
    checked = check_answer("The 2022 World Cup was won by France [P2].", sources, checker)
    assert checked.unsupported_sentences == 1
    assert checked.cited == ()


def test_a_sentence_without_any_citation_is_dropped(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "medusa")]
    checked = check_answer("Medusa uses several decoding heads.", sources, checker)
    assert checked.text == ""
    assert checked.unsupported_sentences == 1


def test_extractive_fallback_quotes_and_cites_the_top_sources(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "medusa"), _source(corpus, 2, "specinfer")]
    answer = extractive_answer("How does Medusa speed up inference?", sources, checker, "en")
    assert answer.extractive
    assert answer.cited[0] == 1  # the top source is always quoted; others only if as close
    assert answer.text.startswith("Extractive answer")
    quoted = [line for line in answer.text.splitlines() if line.startswith("- “")]
    assert len(quoted) == len(answer.cited)
    assert any(q.split("”")[0].removeprefix("- “") in s.text for q in quoted for s in sources)


def test_a_citation_opening_a_block_covers_the_sentences_after_it(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "medusa"), _source(corpus, 2, "llm-in-a-flash")]
    raw = (
        "[P1] Medusa 训练多个 LM head 来预测不同位置的 token。这些 head 生成多个候选词,实现推理加速。"
        "[P2] LLM in a flash 解决内存受限场景下的大模型高效推理。"
    )
    checked = check_answer(raw, sources, checker)
    assert checked.unsupported_sentences == 0
    assert checked.cited == (1, 2)
    assert "实现推理加速。[P1]" in checked.text


def test_a_sentence_only_echoing_a_source_header_is_left_out(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "mixtral-of-experts"), _source(corpus, 2, "gemini")]
    gemini = corpus.by_id()["gemini"]
    raw = f"Mixtral 每层由 8 个专家组成 [P1]。{gemini.title}(Google,{gemini.date}) [P2]。"
    checked = check_answer(raw, sources, checker)
    assert checked.cited == (1,)
    assert "Gemini" not in checked.text


def test_extractive_fallback_leaves_out_a_clearly_weaker_source(
    corpus: Corpus, checker: SupportChecker
) -> None:
    sources = [_source(corpus, 1, "gorilla"), _source(corpus, 2, "mixtral-of-experts")]
    answer = extractive_answer("What API dataset did Gorilla release?", sources, checker, "en")
    assert answer.cited == (1,)


@pytest.mark.parametrize(
    ("question", "answer", "adds"),
    [
        ("What automatic evaluator did ToolLLM build for tool use?",
         "ToolLLM built an automatic evaluator for tool use, which is described in [P1].", False),
        ("Code Llama 在多长的输入上仍显示出改善?", "Code Llama 在多长的输入上仍显示出改善。[P1]", False),
        ("What automatic evaluator did ToolLLM build for tool use?",
         "ToolLLM built ToolEval, an automatic evaluator [P1].", True),
        ("Code Llama 在多长的输入上仍显示出改善?", "在多达 100k 字元的输入上仍有改善 [P1]。", True),
        ("What did Google publish about data mixtures for pretraining?",
         "Google published about data mixtures for pretraining in [P1].", False),
        ("What did Google publish about data mixtures for pretraining?",
         "Google published DoReMi, which optimises the domain weights [P1].", True),
    ],
)  # fmt: skip
def test_an_answer_must_say_something_the_question_does_not(
    question: str, answer: str, adds: bool
) -> None:
    assert adds_to(question, answer) is adds


@pytest.fixture(scope="module")
def lineage_checker(answer_embedder: Any) -> SupportChecker:
    return SupportChecker(answer_embedder, lineage_cue=partial(lineage_cue, load_lexicon()))


@pytest.mark.parametrize(
    ("paper_id", "claim", "supported"),
    [
        # the name is in the source, but as the label set the reward model was trained on
        ("lets-verify-step-by-step",
         "The reward model was fine-tuned from the PRM800K dataset [P1].", False),
        ("lets-verify-step-by-step", "奖励模型是基于 PRM800K 微调的 [P1]。", False),
        ("lets-verify-step-by-step",
         "PRM800K holds 800,000 step-level human feedback labels [P1].", True),
        # the source states the lineage ("基于 Llama 2 的…", "对LLaMA进行微调"), in other words
        ("code-llama", "Code Llama is based on Llama 2 [P1].", True),
        ("code-llama", "Code Llama was fine-tuned from Llama 2 [P1].", True),
        ("toolllm", "ToolLLaMA was fine-tuned from LLaMA [P1].", True),
        ("toolllm", "ToolLLaMA is built on top of ChatGPT [P1].", False),
    ],
)  # fmt: skip
def test_a_name_made_a_parent_must_be_one_the_source_makes_a_parent(
    corpus: Corpus, lineage_checker: SupportChecker, paper_id: str, claim: str, supported: bool
) -> None:
    assert lineage_checker.facts_supported(claim, [_source(corpus, 1, paper_id)]) is supported


@pytest.mark.parametrize(
    ("paper_id", "question", "raw", "kept"),
    [
        ("flm-101b", "FLM-101B的训练预算是多少?", "10万美元 [P1]", True),
        ("flm-101b", "What was FLM-101B's training budget?", "$100K [P1].", True),
        ("mixtral-of-experts", "Mixtral 的路由网络每层为每个标记选择几个专家?", "2 个专家。[P1]", True),
        # 8 counts the experts of a layer; the clause the question restates selects two
        ("mixtral-of-experts", "Mixtral 的路由网络每层为每个标记选择几个专家?", "8 个专家。[P1]", False),
        ("flm-101b", "FLM-101B的训练预算是多少?", "100万美元 [P1]", False),
    ],
)  # fmt: skip
def test_a_bare_answer_is_checked_together_with_its_question(
    corpus: Corpus, checker: SupportChecker, paper_id: str, question: str, raw: str, kept: bool
) -> None:
    checked = check_answer(raw, [_source(corpus, 1, paper_id)], checker, question)
    assert bool(checked.text) is kept


def test_a_figure_is_bound_within_its_sentence_even_when_the_shown_passage_skips_sentences(
    corpus: Corpus, checker: SupportChecker
) -> None:
    # The passage shown joins the influence note (naming FlashAttention-2) and the sentence that
    # gives FlashAttention's own 2-4x over a baseline with "…": read as one text, the 2-4x was
    # bound to FlashAttention-2. The abstract gives FlashAttention-2 about 2x over FlashAttention.
    paper = corpus.by_id()["flashattention-2"]
    sentences = [f"{s}。" for s in paper.abstract.split("。")]
    faster = next(s for s in sentences if "2-4 倍" in s)
    proposed = next(s for s in sentences if "我们提出了" in s)
    stated = next(s for s in sentences if "约 2 倍" in s)
    shown = "…".join([paper.influence, faster, proposed, stated])
    own = ("FlashAttention-2", "flash-attn2")  # the paper's names: the implicit subject
    source = SourceText.from_paper(1, paper, shown, own_names=own)
    question = "FlashAttention-2比FlashAttention快多少?"
    moved = check_answer(
        "FlashAttention-2比FlashAttention快2-4倍。[P1]", [source], checker, question
    )
    assert not moved.text
    kept = check_answer(
        "FlashAttention-2比FlashAttention快约2倍。[P1]", [source], checker, question
    )
    assert kept.text and kept.cited == (1,)

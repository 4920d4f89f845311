"""Figure binding: a figure is accepted only where the source states it for the same thing."""

from __future__ import annotations

import pytest

from kg.corpus import Corpus
from rag.checking.figure_text import figures
from rag.checking.figures import figure_supported, figures_together
from rag.checking.measures import asked_measures, qualifiers


def _all_supported(claim: str, evidence: str) -> bool:
    return all(figure_supported(f, claim, evidence) for f in figures(claim))


def _supported(corpus: Corpus, paper_id: str, claim: str) -> bool:
    paper = corpus.by_id()[paper_id]
    evidence = f"{paper.influence}\n{paper.abstract}"
    own = (paper.title.split(":")[0],)
    return all(figure_supported(f, claim, evidence, own) for f in figures(claim)) and (
        figures_together(claim, evidence)
    )


def test_figures_are_read_in_every_written_form() -> None:
    found = {f.text: (f.values, f.kind) for f in figures("2.2x, 2.3-3.6 倍, 7B, 67%, $100K")}
    assert found["2.2x"] == ((2.2,), "multiple")
    assert found["2.3-3.6 倍"] == ((2.3, 3.6), "multiple")
    assert found["7B"] == ((7e9,), "")
    assert found["67%"] == ((67.0,), "percent")
    assert found["100K"] == ((1e5,), "money")
    assert figures("GPT-3, A100, Medusa-2 and Llama2-7B") == []  # names, not figures


def test_a_rate_written_with_a_power_of_ten_is_one_figure() -> None:
    """ "2.4e-4" read as 2.4 would let "a learning rate of 2.4" pass as stated."""
    found = [(f.text, f.values) for f in figures("a peak learning rate of 2.4e-4, then 1E−5")]
    assert found == [("2.4e-4", (2.4e-4,)), ("1E−5", (1e-5,))]
    source = "Quillwort was trained with a peak learning rate of 2.4e-4 and a cosine schedule."
    assert _all_supported("Quillwort uses a peak learning rate of 2.4e-4.", source)
    assert not _all_supported("Quillwort uses a peak learning rate of 2.4.", source)


def test_figures_in_chinese_numerals_are_read_before_their_measure_word() -> None:
    found = {f.text: (f.values, f.kind) for f in figures("两倍,五个基准,十六种语言,一百二十层")}
    assert found == {
        "两倍": ((2.0,), "multiple"),
        "五": ((5.0,), ""),
        "十六": ((16.0,), ""),
        "一百二十": ((120.0,), ""),
    }
    assert [f.values for f in figures("三重优势,两方面")] == [(3.0,), (2.0,)]
    # an ordinal, "a kind of" and an adverb are no figures
    assert figures("第三个阶段提出了一种十分有效的方法") == []


def test_figures_in_english_words_are_counts_and_multiples() -> None:
    found = [(f.text, f.values, f.kind) for f in
             figures("two of its sixteen experts, four times larger, a ten-fold cut, twice its size")]  # fmt: skip
    assert found == [
        ("two", (2.0,), ""),
        ("sixteen", (16.0,), ""),
        ("four times", (4.0,), "multiple"),
        ("ten-fold", (10.0,), "multiple"),
        ("twice", (2.0,), "multiple"),
    ]
    assert figures("someone, GPT-four, anyone") == []  # inside a word or a name: none
    source = "Unlike the dense baseline, Quillwort routes each token to two of its sixteen experts."
    assert _all_supported("Quillwort sends every token to 2 of its 16 experts.", source)
    assert not _all_supported("Quillwort sends every token to 4 of its 16 experts.", source)
    assert _all_supported("Quillwort 的数据集是第一版的四倍。", "a corpus four times larger")
    assert not _all_supported("Quillwort 的数据集是第一版的三倍。", "a corpus four times larger")


def test_a_figure_is_bound_to_the_measure_word_right_after_it() -> None:
    """One clause, two figures, two measures: each figure's own word decides, not the clause."""
    source = "我们只需 10 万美元,就能训练出拥有 0.31T 标记的 101B 参数 Quillwort。"
    assert _all_supported("Quillwort has 101B parameters and saw 0.31T tokens.", source)
    assert not _all_supported("A 0.31T-parameter Quillwort was trained on 101B tokens.", source)
    # a cue word inside a modifier ("token-based") does not outweigh the claim's own word
    source = "Quillwort loses 2 points of accuracy while the token-based baseline loses 11 points."
    assert _all_supported("The token-based baseline drops 11 accuracy points.", source)


def test_a_qualified_figure_must_be_the_source_figure_with_that_qualifier() -> None:
    """13B of 47B are active: "47B active parameters" binds 47B to the other quantity."""
    source = "每个标记可以访问 47B 个参数,但在推理过程中只使用 13B 个活动参数。"
    assert _all_supported("Quillwort uses 13B active parameters per token, out of 47B.", source)
    assert not _all_supported("Each Quillwort token uses 47B active parameters.", source)
    source = "Quillwort has 16B total parameters, of which only 4B are active for each token."
    assert _all_supported("Quillwort has 16B parameters in total.", source)
    assert not _all_supported("Quillwort activates 16B parameters for each token.", source)


def test_a_scale_is_read_with_its_number_in_both_languages() -> None:
    """1.2 万亿 is 1.2T (not 1.2 万); "175-billion-parameter" is 175B and 1750 亿."""
    assert [f.values for f in figures("1.2 万亿个标记")] == [(1.2e12,)]
    assert [f.values for f in figures("a 175-billion-parameter model")] == [(1.75e11,)]
    assert _all_supported(
        "Quillwort 在 1.2 万亿个标记上训练。", "Quillwort was trained on 1.2T tokens."
    )
    assert not _all_supported(
        "Quillwort 在 1.2 万个标记上训练。", "Quillwort was trained on 1.2T tokens."
    )
    assert _all_supported(
        "Quillwort quantizes a 175-billion-parameter model.",
        "Quillwort 可以量化具有 1750 亿个参数的模型。",
    )


@pytest.mark.parametrize(
    ("paper_id", "claim"),
    [
        ("medusa", "Medusa-1 achieves over 2.2x speed-up without hurting quality."),
        ("medusa", "Medusa-2 further raises the speed-up to 2.3-3.6x."),
        ("medusa", "Medusa-1 可以实现超过 2.2 倍的加速。"),
        ("blip-2", "BLIP-2 has 54x fewer trainable parameters than Flamingo80B."),
        ("blip-2", "BLIP-2 outperforms Flamingo80B by 8.7% on zero-shot VQAv2."),
        ("gptq", "GPTQ achieves 3.25x speedup over FP16 on an NVIDIA A100 GPU."),
        ("code-llama", "Code Llama scores 67% on HumanEval."),
        ("code-llama", "Code Llama comes in 7B, 13B, 34B and 70B sizes."),
        ("code-llama", "Code Llama comes in 7B, 13B, 34B and 70B parameter sizes."),
        ("code-llama", "The 7B, 13B and 70B Code Llama variants support infilling."),
        ("code-llama", "The models were trained on sequences of 16k tokens."),
        ("mixtral-of-experts", "Each token can access 47B parameters but only 13B are active."),
        ("gemini", "Gemini Ultra advances the state of the art on 30 of 32 benchmarks."),
        ("gemini", "Gemini Ultra 在 32 个基准中的 30 个上超越了目前的技术水平。"),
        ("gemini", "Gemini Ultra beat the state of the art on 30 out of the 32 benchmarks."),
        ("gemini", "Gemini 在 20 个多模态基准的每一个上都超越了目前的技术水平。"),
        ("flm-101b", "FLM-101B was trained with a $100K budget on 0.31T tokens."),
        ("remax", "ReMax reduces memory usage by about 50%."),
        ("llm-in-a-flash", "Inference is 4-5x faster on CPU and 20-25x faster on GPU."),
        ("cogagent", "CogAgent 是一个拥有 180 亿参数的视觉语言模型。"),
        ("cogagent", "CogAgent has 18B parameters."),
        ("fiat", "FIAT outperforms ICL and fine-tuning across 100-10,000 training examples."),
        ("improved-baselines-with-visual-instruction-tuning", "The 13B checkpoint uses 1.2M data."),
        ("llm-in-a-flash", "It runs models up to 2x the size of the available DRAM."),
        ("cogagent", "CogAgent is state of the art on 5 text-rich and 4 general VQA benchmarks."),
        ("flashattention-2", "FlashAttention-2 is about 2x faster than FlashAttention."),
        ("flashattention-2", "FlashAttention 比优化基线快 2-4 倍。"),
        ("gptq", "GPTQ is about 3.25x faster than FP16 on an NVIDIA A100 GPU."),
        ("blip-2", "BLIP-2 beats Flamingo80B by 8.7% on zero-shot VQAv2."),
        ("mixtral-of-experts", "Mixtral 的路由器网络在每层为每个标记选择 2 个专家。"),
        ("mixtral-of-experts", "Mixtral 每层由 8 个前馈块组成。"),
    ],
)
def test_a_figure_stated_for_the_same_thing_is_accepted(
    corpus: Corpus, paper_id: str, claim: str
) -> None:
    assert _supported(corpus, paper_id, claim)


@pytest.mark.parametrize(
    ("paper_id", "claim", "why"),
    [
        ("medusa", "Medusa-2 reaches a 2.2x speed-up.", "2.2x belongs to Medusa-1"),
        ("medusa", "Medusa-2 的加速是 2.2 倍。", "2.2 倍 belongs to Medusa-1"),
        ("blip-2", "BLIP-2 outperforms Flamingo80B by 54x on VQAv2.", "54x is a parameter saving"),
        ("gptq", "GPTQ reaches a 4.5x speed-up on the NVIDIA A100.", "4.5x is on the A6000"),
        ("code-llama", "Code Llama scores 67% on MBPP.", "respectively: 67% is HumanEval"),
        ("llm-in-a-flash", "On CPU the inference speed improves 20-25x.", "respectively: GPU"),
        ("remax", "ReMax is 50% faster than PPO.", "50% is memory"),
        ("remax", "ReMax reduces memory usage by 50 times.", "50% is not 50x"),
        ("gemini", "Gemini Ultra beats the state of the art on 32 of 32 benchmarks.", "30 of 32"),
        ("gemini", "Gemini 在 32 个基准中都超越了现有水平。", "32 is the whole: 30 of 32"),
        ("gemini", "Gemini Ultra surpasses the state of the art on 32 benchmarks.", "30 of 32"),
        ("mixtral-of-experts", "Mixtral has 300B parameters per token.", "not stated"),
        ("mixtral-of-experts", "The Mixtral model has 8 layers.", "8 is experts per layer"),
        (
            "code-llama",
            "Code Llama was trained on sequences of 7B, 13B and 70B tokens.",
            "the list is model sizes: 个参数, 的 Code Llama, Python 7B",
        ),
        ("code-llama", "Code Llama 在 7B、13B 和 70B 个字元的序列上训练。", "sizes, not tokens"),
        ("mixtral-of-experts", "Mixtral 模型有 8 层。", "8 个前馈块, not 8 层"),
        ("flm-101b", "The FLM-101B budget was $10 million.", "not stated"),
        ("llm-in-a-flash", "It runs models up to 3x the size of the available DRAM.", "两倍"),
        ("cogagent", "CogAgent is state of the art on 6 text-rich VQA benchmarks.", "五个"),
        (
            "flashattention-2",
            "FlashAttention-2 is 2-4 times faster than the original FlashAttention.",
            "2-4x is FlashAttention's own speed-up over optimised baselines",
        ),
        ("flashattention-2", "FlashAttention-2 比 FlashAttention 快 2-4 倍。", "FlashAttention's"),
        ("mixtral-of-experts", "Mixtral 的路由网络每层为每个标记选择 8 个专家。", "两个专家"),
    ],
)
def test_a_misbound_or_absent_figure_is_rejected(
    corpus: Corpus, paper_id: str, claim: str, why: str
) -> None:
    assert not _supported(corpus, paper_id, claim), why


@pytest.mark.parametrize(
    ("question", "measures"),
    [
        ("What speed-up does Medusa-1 reach?", {"speed"}),
        ("Code Llama 在多长的输入上仍显示出改善?", {"tokens", "time"}),
        ("How long does GPTQ take to quantize a 175B model?", {"time"}),  # a duration
        ("青梧的预训练持续了多久?", {"time"}),
        ("How long a context does Code Llama handle?", {"tokens", "time"}),
        ("How many parameters does CogAgent have?", {"parameters"}),
    ],
)
def test_a_question_names_the_quantity_it_asks(question: str, measures: set[str]) -> None:
    assert asked_measures(question) == measures


SELECTOR = "我们用一个 350M 参数的小模型来挑选训练样本,再用这些样本训练一个 6B 参数的模型。"


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("我们用一个 6B 参数的模型来挑选训练样本。", False),  # 6B is the trained model's
        ("挑选训练样本的是一个 6B 参数的模型,再用样本训练 350M 参数的模型。", False),  # traded
        ("挑选出的样本用来训练一个 6B 参数的模型。", True),
        ("350M 参数的小模型挑选训练样本,再用这些样本训练 6B 参数的模型。", True),
        ("A 6B-parameter model is trained on samples that a 350M-parameter model picks.", True),
    ],
)  # fmt: skip
def test_an_amount_is_bound_to_the_role_its_clause_gives_it(claim: str, supported: bool) -> None:
    six = next(f for f in figures(claim) if f.text.startswith("6B"))
    assert figure_supported(six, claim, SELECTOR) is supported


SURVEY = ("We selected 240 papers published under open licences. The papers span two domains: 96 "
          "come from chemistry and 144 from geology. We present Larchmere, a benchmark of 5,120 "
          "questions over 870 tables taken from 240 open-access papers.")  # fmt: skip


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Larchmere has 240 tables.", False),  # 240 counts papers (after an adjective too)
        ("Larchmere 的问题涉及 240 张表格。", False),
        ("Larchmere draws its tables from 240 papers.", True),
        ("There are 96 source papers from chemistry in Larchmere.", True),  # 96 counts nothing
        ("The Larchmere benchmark contains 5,120 questions.", True),
    ],
)  # fmt: skip
def test_a_count_is_bound_to_the_thing_it_counts(claim: str, supported: bool) -> None:
    assert all(figure_supported(f, claim, SURVEY) for f in figures(claim)) is supported


def test_a_count_is_weighed_against_the_same_things_counted_in_a_scale_unit() -> None:
    source = "Larch-7B was pretrained on 300 billion tokens. At 131,072 tokens its memory stays under 40 GB."
    wrong = "Larch-7B was pretrained on 131,072 tokens."  # 131,072 is the memory's context length
    assert not all(figure_supported(f, wrong, source) for f in figures(wrong))
    right = "At 131,072 tokens Larch-7B uses under 40 GB of memory."
    assert all(figure_supported(f, right, source) for f in figures(right))


SCHEDULE = ("Osier trains a student in four stages of growing context. The first stage uses "
            "contexts of 1,024 tokens, and 12 annotators checked every stage.")  # fmt: skip


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Osier's curriculum uses 4 contexts.", False),  # four counts stages; contexts is no stage
        ("Osier 的第一阶段使用 4 个上下文。", False),
        ("Osier has 12 graders.", False),  # 12 counts annotators, a listed thing
        ("Osier trains in 4 curriculum stages.", True),  # the second word names the stages
        ("Osier 的课程分为 4 个阶段。", True),
        ("Osier trains in 4 phases.", True),  # a synonym in the data
        ("4 of Osier's stages grow the context.", True),  # "of" counts nothing
    ],
)  # fmt: skip
def test_a_count_named_with_a_word_for_something_else_is_not_the_source_s_count(
    claim: str, supported: bool
) -> None:
    """The source counts a listed thing; a claim that counts the same figure with a word naming
    none of it (listed in the data or not) counts something else."""
    assert all(figure_supported(f, claim, SCHEDULE) for f in figures(claim)) is supported


def test_a_qualifier_belongs_to_the_figure_it_stands_nearest() -> None:
    claim = "Wren beats Heron by 8.7% with 54x fewer trainable parameters."
    eight, fifty_four = figures(claim)[:2]
    assert qualifiers(claim, eight) == set()
    assert qualifiers(claim, fifty_four) == {"trainable"}
    mixed = "Wren can use 47B parameters in total but only 13B active parameters per token."
    total, active = figures(mixed)
    assert (qualifiers(mixed, total), qualifiers(mixed, active)) == ({"total"}, {"active"})


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Wren 把每个权重量化到 3 到 4 位。", "Wren 将位宽减少到每个权重 3 或 4 位。"),
        ("Wren quantises each weight to 3-4 bits.", "Wren quantises to 3 or 4 bits per weight."),
        ("Wren quantises each weight to 3-4 bits.", "Wren quantises to 3, 4 bits per weight."),
    ],
)
def test_a_range_restates_the_list_of_its_ends(claim: str, source: str) -> None:
    assert all(figure_supported(f, claim, source) for f in figures(claim))
    assert not all(figure_supported(f, claim, "Wren quantises to 3 or 8 bits per weight.")
                   for f in figures(claim))  # fmt: skip


def test_a_version_then_a_size_after_a_name_is_no_range() -> None:
    assert [f.text for f in figures("Falcon 2-11B beats Llama 3 8B.")] == ["2", "11B", "3", "8B"]
    assert [f.text for f in figures("Qwen 1.5-72B leads.")] == ["1.5", "72B"]
    assert [f.values for f in figures("We train models of 1-8B parameters.")] == [(1e9, 8e9)]
    assert [f.values for f in figures("From 1-8B parameters, loss falls.")] == [(1e9, 8e9)]

"""A claim keeps what its source denies and which way its figures go (`rag.checking.negation`,
`rag.checking.directions`), and a name is found under its English forms (plural, -based)."""

from __future__ import annotations

import pytest

from rag.checking.directions import direction_conflicts
from rag.checking.negation import clause_polarity, scope_conflicts, split_clauses
from rag.checking.roles import _frame_kind_conflicts
from rag.checking.support import _name_found


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        # the alternative kept and the one denied trade places
        ("Osprey 把小模型用作起草器,而不是校验器。", "Osprey 把小模型用作校验器,而不是起草器。"),
        ("The router uses hashing rather than a learned gate.",
         "The router uses a learned gate rather than hashing."),
        # what the source denies, the claim states plainly
        ("We publish the weights and the training data.",
         "We publish the weights but not the training data."),
        ("压缩过程需要原始训练数据。", "压缩过程不需要原始训练数据,只需要少量校准样本。"),
        # what the claim denies, the source states
        ("Osprey 没有使用强化学习微调。", "Osprey 使用强化学习微调策略模型。"),
    ],
)  # fmt: skip
def test_a_negation_moved_within_the_sentence_is_a_conflict(claim: str, source: str) -> None:
    assert scope_conflicts(claim, source)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Osprey 把小模型用作校验器,而不是起草器。", "Osprey 用小模型来校验,而不是起草器。"),
        ("The weights are published; the training data is not published.",
         "We publish the weights but not the training data."),
        ("压缩只需要少量校准样本,无需原始训练数据。", "压缩过程不需要原始训练数据,只需要少量校准样本。"),
        # a scope with a second negation inside (不可访问) says too little to be found again
        ("模型只用公开可访问的数据训练。", "我们只用公开数据训练模型,无需专有和不可访问的数据。"),
    ],
)  # fmt: skip
def test_a_negation_kept_in_place_is_no_conflict(claim: str, source: str) -> None:
    assert scope_conflicts(claim, source) == []


def test_clauses_split_where_the_sentence_turns_and_polarity_is_a_parity() -> None:
    assert split_clauses("A is complex, whereas B is simple") == ["A is complex", " B is simple"]
    assert clause_polarity("训练过程不稳定") == 0  # 不稳定 is a property, not a negation
    assert clause_polarity("它不需要奖励模型") == 1
    assert clause_polarity("it cannot run without a GPU") == 0


@pytest.mark.parametrize(
    "clause",
    ["Osprey 的推理速度非常快", "未来的工作将扩展到多语言", "精度下降可以忽略不计",
     "在未压缩的基线上评估", "无论模型大小如何都有效", "它使用无监督的预训练目标"],
)  # fmt: skip
def test_a_word_that_only_holds_a_negation_mark_does_not_negate(clause: str) -> None:
    # 非常 is "very", 未来 "future", 忽略不计 "negligible": English says them without a negation
    assert clause_polarity(clause) == 0


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Osprey needs 3.5 times more memory than the baseline.", "Osprey 把内存需求减少了 3.5 倍。"),
        ("与基线相比,Osprey 的训练成本增加了 18%。", "Compared with the baseline, Osprey cuts training cost by 18%."),
        ("Osprey lowers throughput by 40%.", "Osprey raises throughput by 40% over the baseline."),
    ],
)  # fmt: skip
def test_a_figure_that_goes_the_other_way_is_a_conflict(claim: str, source: str) -> None:
    assert direction_conflicts(claim, source)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Osprey uses 3.5x less memory than the baseline.", "Osprey 把内存需求减少了 3.5 倍。"),
        # a level reached has no direction: the speedup is 1.3x whichever word says so
        ("Osprey 只能加速 1.3 倍。", "With a mismatched tokenizer, Osprey's speedup falls to 1.3x."),
        # each direction word belongs to the figure nearest to it
        ("Osprey beats the baseline by 4% with 10x fewer parameters.",
         "Osprey 比基线高出 4%,参数减少了 10 倍。"),
        # a model's size is a name's part, not a change
        ("Osprey 让 Llama 2 7B 的解码更慢。", "Osprey speeds up decoding of Llama 2 7B by 2x."),
    ],
)  # fmt: skip
def test_a_figure_kept_in_its_direction_is_no_conflict(claim: str, source: str) -> None:
    assert direction_conflicts(claim, source) == []


@pytest.mark.parametrize(
    ("name", "found"),
    [("LLMs", True), ("A100s", True), ("PPO-based", True), ("Osprey-style", True),
     ("Osprey-2", False), ("Falconry", False)],
)  # fmt: skip
def test_a_name_is_found_under_its_plural_and_adjective_forms(name: str, found: bool) -> None:
    evidence = "osprey trains llm agents with ppo on a100 gpus"
    assert _name_found(name, evidence) is found


@pytest.mark.parametrize(
    ("claim", "source", "conflict"),
    [
        ("Like Kestrel, the dense model shares its router across layers.",
         "Unlike the dense model, Kestrel shares its router across layers.", True),
        ("与 Kestrel 一样,稠密模型在各层共享路由器。", "与稠密模型不同,Kestrel 在各层共享路由器。", True),
        ("Unlike the dense model, Kestrel shares its router.", "与稠密模型不同,Kestrel 共享路由器。", False),
        ("Just like LoRA, Kestrel freezes the base weights.", "Kestrel, like LoRA, freezes the base weights.",
         False),
        ("Models like GPT-4 are large.", "Unlike small models, GPT-4 is large.", False),  # such as
    ],
)  # fmt: skip
def test_a_frame_setting_names_alike_contradicts_one_setting_them_apart(
    claim: str, source: str, conflict: bool
) -> None:
    assert bool(_frame_kind_conflicts(claim, source)) is conflict

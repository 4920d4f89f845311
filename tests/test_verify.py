"""`kgrag verify` and `kgrag eval verify`: a claim checked against its paper with the real embedder,
its roles bound (who beats whom, whose property, which negation, what is compared against)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.corpus import load_corpus
from kg.graph import KnowledgeGraph, build_graph
from rag.checking.library import find_paper, graph_checker, paper_source
from rag.checking.verify import ClaimError, Verdict, verify_claim
from rag.embedding.embedders import Embedder
from rag.evaluation.verify import STRESS, evaluate_verify, load_stress
from tests.fixtures.kg import paper_entry

# The issue's two papers, their abstracts as published (Mamba: Gu & Dao 2023; DPO: Rafailov et al.
# 2023, its comparison with PPO-based RLHF in one sentence, as the shipped list writes abstracts).
MAMBA = paper_entry(
    "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
    date="2023.12", org="CMU", influence="选择性状态空间模型",
    abstract="Mamba enjoys fast inference (5x higher throughput than Transformers) and linear "
    "scaling in sequence length. On language modeling, our Mamba-3B model outperforms "
    "Transformers of the same size and matches Transformers twice its size, both in pretraining "
    "and downstream evaluation.",
)  # fmt: skip
DPO = paper_entry(
    "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
    date="2023.05", org="Stanford", influence="无需奖励模型的偏好优化",
    abstract="RLHF with PPO is a complex and often unstable procedure, whereas DPO is stable, "
    "performant and computationally lightweight. DPO fine-tunes language models to align with "
    "human preferences without fitting a reward model.",
)  # fmt: skip

# An invented paper (no model knows it) for the checks of this stop: a property given to the
# compared method, an alternative denied, a figure's direction.
OSPREY = paper_entry(
    "Osprey: Draft Trees Checked by a Small Verifier",
    date="2024.03", org="Tsinghua", influence="小模型校验的推测解码",
    abstract="与 Medusa 相比,Osprey 易于部署,只需 20 行代码。Osprey 把小模型用作校验器,而不是"
    "起草器。与逐词解码相比,Osprey 把目标模型的调用次数减少了 3.5 倍。",
)  # fmt: skip

# Measured on the report part: 74/105 false rejected (70 %), 49/68 faithful supported (72 %),
# docs/VERIFY.md; each floor a few claims under the measurement.
REPORT_FALSE_REJECTED_FLOOR = 0.66
REPORT_FAITHFUL_SUPPORTED_FLOOR = 0.69


@pytest.fixture(scope="module")
def issue_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verify") / "papers.txt"
    path.write_text("基座\n\n" + MAMBA + "\n" + DPO + "\n" + OSPREY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def issue_kg(issue_corpus: Path) -> KnowledgeGraph:
    return build_graph(load_corpus(issue_corpus))


def _verify(kg: KnowledgeGraph, embedder: Embedder, claim: str, paper: str) -> Verdict:
    source = paper_source(kg, find_paper(kg, paper))
    return verify_claim(claim, [source], graph_checker(kg, embedder))


def test_same_size_is_not_twice_its_size(issue_kg: KnowledgeGraph, embedder: Embedder) -> None:
    wrong = _verify(issue_kg, embedder, "Mamba-3B matches Transformers of the same size.", "mamba")
    assert wrong.verdict == "contradicted", wrong
    assert "Mamba-3B" in (wrong.evidence or "")
    right = _verify(issue_kg, embedder, "Mamba-3B matches Transformers twice its size.", "mamba")
    assert right.verdict == "supported", right


def test_a_weaker_comparison_than_the_source_states_is_supported(
    issue_kg: KnowledgeGraph, embedder: Embedder
) -> None:
    weaker = "Mamba-3B matches or beats Transformers of the same size."  # the source: outperforms
    assert _verify(issue_kg, embedder, weaker, "mamba").verdict == "supported"
    wrong = "Transformers of the same size match or beat Mamba-3B."
    assert _verify(issue_kg, embedder, wrong, "mamba").verdict == "contradicted"


def test_a_property_moved_to_the_other_method_is_contradicted(
    issue_kg: KnowledgeGraph, embedder: Embedder
) -> None:
    moved = _verify(issue_kg, embedder,
                    "DPO is a complex and often unstable procedure, whereas RLHF with PPO is stable.",
                    "dpo")  # fmt: skip
    assert moved.verdict == "contradicted", moved
    kept = _verify(issue_kg, embedder, "DPO is stable, while RLHF with PPO is complex and often "
                   "unstable.", "dpo")  # fmt: skip
    assert kept.verdict == "supported", kept


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("与 Osprey 相比,Medusa 易于部署,只需 20 行代码。", "Osprey 比 Medusa 易于部署,只需 20 行代码。"),
        ("Compared with Osprey, Medusa is easy to deploy, needing only 20 lines of code.",
         "Compared with Medusa, Osprey is easy to deploy and needs only 20 lines of code."),
        ("Osprey 把小模型用作起草器,而不是校验器。", "Osprey uses the small model as a verifier, not as a drafter."),
        ("Osprey 把目标模型的调用次数增加了 3.5 倍。", "Osprey calls the target model 3.5 times less often than token-by-token decoding."),
    ],
)  # fmt: skip
def test_a_moved_property_a_swapped_alternative_and_a_reversed_figure_are_contradicted(
    issue_kg: KnowledgeGraph, embedder: Embedder, wrong: str, right: str
) -> None:
    verdict = _verify(issue_kg, embedder, wrong, "osprey")
    assert verdict.verdict == "contradicted", verdict
    assert _verify(issue_kg, embedder, right, "osprey").verdict == "supported"


def test_an_english_paraphrase_of_a_chinese_sentence_is_supported(
    kg: KnowledgeGraph, embedder: Embedder
) -> None:
    verdict = _verify(kg, embedder, "In Mixtral each token has access to 47B parameters but uses "
                      "only 13B active parameters during inference.", "mixtral")  # fmt: skip
    assert verdict.verdict == "supported", verdict
    assert "Mixtral" in (verdict.paper_title or "") and "13B" in (verdict.evidence or "")


def test_a_negated_claim_is_contradicted(kg: KnowledgeGraph, embedder: Embedder) -> None:
    verdict = _verify(kg, embedder, "Code Llama 不支持填充功能。", "code-llama")
    assert verdict.verdict == "contradicted", verdict
    assert any("negat" in r for r in verdict.reasons)


def test_an_empty_claim_is_refused(kg: KnowledgeGraph, embedder: Embedder) -> None:
    with pytest.raises(ClaimError, match="empty"):
        _verify(kg, embedder, "  ", "mixtral")


def test_cli_json_shape_and_exit_codes(
    run_kgrag: Callable[..., object], issue_corpus: Path, tmp_path: Path
) -> None:
    corpus = ["--corpus", str(issue_corpus), "--index-dir", str(tmp_path / "index")]
    done = run_kgrag("verify", "Mamba-3B matches Transformers twice its size.", "--paper",
                     "mamba", "--json", *corpus)  # fmt: skip
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    out = json.loads(done.stdout)  # type: ignore[attr-defined]
    assert set(out) == {"claim", "verdict", "paper", "evidence", "reasons"}
    assert out["verdict"] == "supported"
    assert set(out["paper"]) == {"id", "title"} and out["paper"]["id"] == "mamba"
    assert set(out["evidence"]) == {"text", "page"} and out["evidence"]["page"] is None
    assert all(isinstance(r, str) for r in out["reasons"])
    # without --paper: found by search
    done = run_kgrag("verify", "Mamba-3B matches Transformers of the same size.", "--json", *corpus)
    assert done.returncode == 1, done.stderr  # type: ignore[attr-defined]
    out = json.loads(done.stdout)  # type: ignore[attr-defined]
    assert out["verdict"] == "contradicted" and out["paper"]["id"] == "mamba"


@pytest.mark.parametrize(
    ("args", "message"),
    [(("",), "empty"), (("Mamba is fast.", "--paper", "no-such-paper"), "--paper")],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    run_kgrag: Callable[..., object], issue_corpus: Path, args: tuple[str, ...], message: str
) -> None:
    done = run_kgrag("verify", *args, "--corpus", str(issue_corpus))
    assert done.returncode == 2  # type: ignore[attr-defined]
    err = done.stderr.strip()  # type: ignore[attr-defined]
    assert err.startswith("kgrag: error:") and message in err and "Traceback" not in err


def test_stress_report_part_rates_stay_above_the_measured_floor(embedder: Embedder) -> None:
    claims = [c for c in load_stress(STRESS) if c.part == "report"]
    report = evaluate_verify(claims, embedder)
    rejected, false = report.rate("report", None, True)
    supported, faithful = report.rate("report", None, False)
    assert false > 50 and faithful > 30
    assert rejected / false >= REPORT_FALSE_REJECTED_FLOOR
    assert supported / faithful >= REPORT_FAITHFUL_SUPPORTED_FLOOR

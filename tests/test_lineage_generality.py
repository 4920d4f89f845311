"""Lineage on wording and corpora the rules were not written for: the cue lexicon (data),
versions inside names, known works that a corpus holds as papers, and `kgrag eval lineage`."""

from __future__ import annotations

import json

from kg.corpus import load_corpus
from kg.eval_lineage import evaluate_lineage, load_gold
from kg.graph import KnowledgeGraph, build_graph
from kg.lexicon import load_lexicon
from kg.names import resolve
from kg.queries import lineage_edges
from kg.tables import DATA_DIR
from tests.fixtures.kg import paper_entry

EVAL = DATA_DIR / "eval"
SEED_EDGES = {
    ("paper:blip-2", "work:blip", "successor"),
    ("work:vicuna", "paper:llama", "fine_tuned_from"),
    ("work:llava", "work:vicuna", "fine_tuned_from"),
    ("paper:kosmos-2", "work:kosmos-1", "successor"),
    ("paper:flashattention-2", "work:flashattention", "successor"),
    ("paper:llama-2", "paper:llama", "successor"),
    ("paper:toolllm", "paper:llama", "fine_tuned_from"),
    ("paper:code-llama", "paper:llama-2", "extends"),
    ("paper:qwen-vl", "work:qwen-lm", "extends"),
    ("paper:improved-baselines-with-visual-instruction-tuning", "work:llava", "extends"),
    ("paper:remax", "work:reinforce", "extends"),
    ("paper:cogagent", "work:cogvlm", "extends"),
    ("paper:mixtral-of-experts", "work:mistral-7b", "same_architecture"),
}


def edges(kg: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return {(e.source.id, e.target.id, e.relation) for e in lineage_edges(kg)}


def test_the_seed_s_thirteen_lineage_edges_are_unchanged(kg: KnowledgeGraph) -> None:
    assert edges(kg) == SEED_EDGES


def test_the_2024_corpus_reaches_the_lineage_targets() -> None:
    kg = build_graph(load_corpus(EVAL / "papers_2024.txt"))
    report = evaluate_lineage(kg, load_gold(EVAL / "lineage_2024_gold.json"))
    assert len(report.gold) >= 15
    assert report.recall >= 0.9, report.missing
    assert report.precision >= 0.95, [(e.source.id, e.target.id) for e in report.extra]


def test_eval_lineage_command_prints_precision_and_recall(run_kgrag) -> None:
    result = run_kgrag("eval", "lineage", "--corpus", str(EVAL / "papers_2024.txt"), "--gold",
                       str(EVAL / "lineage_2024_gold.json"), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"precision", "recall", "missing", "extra", "edges"} <= set(report)
    assert report["gold"] == 15 and report["correct"] == report["predicted"] == 15


def test_the_cue_lexicon_is_a_versioned_data_file() -> None:
    raw = json.loads((DATA_DIR / "lineage_cues.json").read_text(encoding="utf-8"))
    assert raw["format"] == "kgrag-lineage-cues v1"
    assert len(load_lexicon().cues) == len(raw["cues"]) > 20


def test_versions_inside_names_point_to_the_nearest_earlier_version(write_corpus) -> None:
    kg = build_graph(load_corpus(write_corpus(
        paper_entry("Zeta-V2: A Model", date="2024.01"),
        paper_entry("Zeta-V3 Technical Report", date="2024.05"),
        paper_entry("Orca-VL: Seeing", date="2024.02"),
        paper_entry("Orca2-VL: Seeing More", date="2024.06"),
        paper_entry("Nimbus: A Base", date="2024.01"),
        paper_entry("Nimbus 2.5: Better", date="2024.08"),
    )))  # fmt: skip
    found = {(e.source.id, e.target.id) for e in lineage_edges(kg) if e.method == "name"}
    assert ("paper:zeta-v3-technical-report", "paper:zeta-v2") in found
    assert ("paper:orca2-vl", "paper:orca-vl") in found
    assert ("paper:nimbus-2-5", "paper:nimbus") in found


def test_new_wording_states_lineage_and_comparisons_stay_comparisons(write_corpus) -> None:
    kg = build_graph(load_corpus(write_corpus(
        paper_entry("Alpha: Base", date="2024.01"),
        paper_entry("Beta: Next", date="2024.03", abstract="Beta 是 Alpha 的后继版本,速度更快。"),
        paper_entry("Gamma: Other", date="2024.04", abstract="Gamma 在多数基准上优于 Alpha。"),
        paper_entry("Delta: More", date="2024.05", abstract="Delta improves on Alpha with a new loss."),
    )))  # fmt: skip
    lineage = {(e.source.id, e.target.id) for e in lineage_edges(kg)}
    assert ("paper:beta", "paper:alpha") in lineage
    assert ("paper:delta", "paper:alpha") in lineage
    assert ("paper:gamma", "paper:alpha") not in lineage
    assert kg.graph.has_edge("paper:gamma", "paper:alpha", key="compared_against")


def test_a_known_work_the_corpus_holds_as_a_paper_becomes_that_paper(write_corpus) -> None:
    kg = build_graph(load_corpus(write_corpus(
        paper_entry("The Llama 3 Herd of Models", date="2024.07",
                    abstract="Llama 3 是 Llama 2 的后继版本。"),
    )))  # fmt: skip
    node = resolve(kg, "Llama 3")
    assert node.id == "paper:the-llama-3-herd-of-models"
    assert "work:llama-3" not in kg.graph
    assert ("paper:the-llama-3-herd-of-models", "work:llama-2") in {
        (e.source.id, e.target.id) for e in lineage_edges(kg)
    }

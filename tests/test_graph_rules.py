"""Lineage rules on crafted paper lists: each cue, in Chinese and English, and what is not lineage."""

from __future__ import annotations

import pytest

from kg.corpus import load_corpus
from kg.graph import build_graph
from tests.fixtures.kg import paper_entry


@pytest.mark.parametrize(
    ("abstract", "parent", "relation"),
    [
        ("我们提出了 Foo,它基于 Vicuna 构建。", "work:vicuna", "extends"),
        ("Foo 基于开源的 Vicuna 模型。", "work:vicuna", "extends"),
        ("我们以 PaLM 为基础训练了 Foo。", "work:palm", "extends"),
        ("Foo 建立在 T5 的基础上。", "work:t5", "extends"),
        ("我们在 Vicuna 的基础上训练了 Foo。", "work:vicuna", "extends"),
        ("我们使用 Vicuna 作为语言模型骨干。", "work:vicuna", "extends"),
        ("我们对 Vicuna 进行了指令微调,得到 Foo。", "work:vicuna", "fine_tuned_from"),
        ("Foo 采用与 Mistral 7B 相同的架构。", "work:mistral-7b", "same_architecture"),
        ("我们对 CLIP 进行扩展以支持视频。", "work:clip", "extends"),
        ("Foo 微调自 Vicuna。", "work:vicuna", "fine_tuned_from"),
        ("我们从 Vicuna 开始微调得到 Foo。", "work:vicuna", "fine_tuned_from"),
        ("Foo 采用 Mistral 7B 的架构。", "work:mistral-7b", "same_architecture"),
        ("Foo is based on Vicuna and adds a vision encoder.", "work:vicuna", "extends"),
        ("Foo is initialized from Vicuna.", "work:vicuna", "fine_tuned_from"),
        ("Foo is built on top of PaLM.", "work:palm", "extends"),
        ("Foo is fine-tuned from Vicuna on our data.", "work:vicuna", "fine_tuned_from"),
        ("Foo uses the same architecture as Mistral 7B.", "work:mistral-7b", "same_architecture"),
        ("Foo extends CLIP to video.", "work:clip", "extends"),
        ("Foo uses PaLM as the backbone.", "work:palm", "extends"),
    ],
)
def test_text_cues_give_lineage_with_the_sentence(write_corpus, abstract, parent, relation) -> None:
    kg = build_graph(load_corpus(write_corpus(paper_entry("Foo: A Test Model", abstract=abstract))))
    edge = kg.graph.edges["paper:foo", parent, "builds_on"]
    assert (edge["relation"], edge["method"], edge["line"]) == (relation, "rule", 11)
    assert edge["evidence"] == abstract.rstrip("。") + ("。" if abstract.endswith("。") else "")


@pytest.mark.parametrize(
    "abstract",
    [
        "Foo 在所有基准上优于 GPT-3.5。",
        "与 Vicuna 相比,Foo 快两倍。",
        "Foo outperforms Vicuna on MMLU.",
        "我们在 A100 上微调 Vicuna 时,Foo 节省了内存。",
        "Foo 是基于 Transformer 的模型。",
        "我们发布了 Foo,并用 GPT-4 评估它。",
        "我们从 GPT-4 收集了对话数据。",
        "Foo 使用 Transformer 架构。",
        "We fine-tune Vicuna on a single GPU to measure memory.",
    ],
)
def test_comparisons_experiments_and_generic_blocks_are_not_lineage(write_corpus, abstract) -> None:
    kg = build_graph(load_corpus(write_corpus(paper_entry("Foo: A Test Model", abstract=abstract))))
    assert [v for _, v, k in kg.graph.out_edges("paper:foo", keys=True) if k == "builds_on"] == []


def test_comparisons_are_recorded_as_compared_against(write_corpus) -> None:
    path = write_corpus(
        paper_entry("Foo: A Test Model", abstract="Foo outperforms GPT-3.5 and PaLM.")
    )
    kg = build_graph(load_corpus(path))
    compared = {
        v for _, v, k in kg.graph.out_edges("paper:foo", keys=True) if k == "compared_against"
    }
    assert compared == {"work:gpt-3-5", "work:palm"}


@pytest.mark.parametrize(
    ("title", "parent"),
    [
        ("Widget-3: Third", "paper:widget-2"),
        ("Widget 2.5: In Between", "paper:widget-2"),
        ("Widget2: Second", "paper:widget"),
    ],
)
def test_versioned_names_point_to_the_latest_earlier_version(write_corpus, title, parent) -> None:
    path = write_corpus(
        paper_entry("Widget: First", date="2022.01"),
        paper_entry("Widget-2: Second", date="2022.06") if parent == "paper:widget-2" else "",
        paper_entry(title, date="2023.01"),
    )
    kg = build_graph(load_corpus(path))
    child = next(f"paper:{p.id}" for p in kg.corpus.papers if p.title == title)
    edge = kg.graph.edges[child, parent, "builds_on"]
    assert (edge["relation"], edge["method"], edge["evidence"]) == ("successor", "name", title)


def test_sizes_are_not_versions(write_corpus) -> None:
    path = write_corpus(paper_entry("ResNet: Base"), paper_entry("ResNet-50: Deeper"))
    kg = build_graph(load_corpus(path))
    assert not kg.graph.has_edge("paper:resnet-50", "paper:resnet")


def test_a_cited_predecessor_with_the_same_stem_gives_the_evidence(write_corpus) -> None:
    abstract = "Widget [3] 节省了内存。我们提出 Widget-2。"
    path = write_corpus(
        paper_entry("Widget: First", date="2022.01"),
        paper_entry("Widget-2: Second", date="2023.01", abstract=abstract),
    )
    edge = build_graph(load_corpus(path)).graph.edges["paper:widget-2", "paper:widget", "builds_on"]
    assert (edge["method"], edge["methods"]) == ("rule", "rule,name")
    assert edge["evidence"] == "Widget [3] 节省了内存。"

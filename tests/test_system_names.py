"""A paper is also known by the names its text gives what it builds ("we build vLLM")."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import load_corpus
from kg.graph import build_graph, load_graph
from kg.names import find_mentions
from kg.system_names import system_names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("To address this, we build vLLM, an LLM serving system.", ("vLLM",)),
        ("We introduce phi-3-mini, a 3.8 billion parameter model.", ("phi-3-mini",)),
        ("We also release Llama 2 7B and its chat variant.", ("Llama 2",)),  # a size: no name
        ("In this work we propose a new decoder, which we call Brackish.", ("Brackish",)),
        ("我们提出了 Medusa,一种简单的推理加速框架。", ("Medusa",)),
        ("我们开发了一个自动评估器:ToolEval。", ("ToolEval",)),
        ("我们构建了大规模的接地图像文本对数据(称为 GRIT)。", ("GRIT",)),
        ("生成式预训练模型(称为 GPT 或 OPT)性能突出。", ()),  # others' models: no "we"
        ("We present a new method for long contexts.", ()),  # no name after the verb
        ("We propose LLMs that plan.", ()),  # a word in a name's shape that names no system
        ("我们提出了一种名为 FIAT1 的新学习范式。", ()),  # FIAT with a footnote mark
    ],
)
def test_the_name_after_we_build_or_called_is_read_in_both_languages(
    text: str, names: tuple[str, ...]
) -> None:
    assert system_names([text], known=("FIAT",)) == names


LIST = """2023 papers

基座

Efficient Memory Management for Serving Large Language Models

发布时间:2023.09

发表单位:UC Berkeley

影响力:paged key-value cache

摘要:High-throughput serving of large language models needs batching. To address this, we build
Brackwater, a serving system that pages the key-value cache. Generative models (called GPT or
OPT) are costly to serve.
"""


def test_a_paper_is_found_by_the_name_its_abstract_gives_its_system(tmp_path: Path) -> None:
    path = tmp_path / "papers.txt"
    path.write_text(LIST, encoding="utf-8")
    kg = build_graph(load_corpus(path))
    paper = kg.corpus.papers[0]
    found = find_mentions(kg, "How does Brackwater page the cache?")
    assert [m.node.id for m in found] == [f"paper:{paper.id}"]
    gpt = [m.node.id for m in find_mentions(kg, "What is GPT?")]
    assert all(not n.startswith("paper:") for n in gpt)  # "called GPT" names others' models


def test_the_shipped_list_knows_kosmos_2_by_its_dataset() -> None:
    found = find_mentions(load_graph(), "What is in GRIT?")
    assert [m.node.id for m in found] == ["paper:kosmos-2"]

"""The paper list parses into the right `Paper` records, and bad lists are refused by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus, default_corpus_path, load_corpus, parse_corpus
from kg.errors import CorpusError
from tests.fixtures.kg import paper_entry


def by_id(corpus: Corpus, paper_id: str):
    return corpus.by_id()[paper_id]


def test_all_26_papers_are_parsed_with_unique_ids(corpus: Corpus) -> None:
    ids = [p.id for p in corpus.papers]
    assert len(ids) == 26
    assert len(set(ids)) == 26
    assert all(p.title and p.date and p.organizations and p.influence for p in corpus.papers)


def test_code_llama_fields(corpus: Corpus) -> None:
    paper = by_id(corpus, "code-llama")
    assert paper.title == "Code Llama: Open Foundation Models for Code"
    assert paper.date == "2023-08"
    assert paper.organizations == ("Meta",)
    assert paper.category == "foundation"
    assert paper.category_label == "基座"
    assert paper.influence == "Code-llama,16k 微调后可泛化到100k"
    assert paper.abstract.startswith("我们发布了基于 Llama 2 的代码大型语言模型系列 Code Llama")
    assert (paper.source, paper.line) == (str(SHIPPED_CORPUS), 55)


def test_fields_of_papers_in_each_category(corpus: Corpus) -> None:
    assert (by_id(corpus, "llama").date, by_id(corpus, "llama").line) == ("2023-02", 5)
    assert by_id(corpus, "remax").organizations == ("The University of Hong Kong",)
    assert by_id(corpus, "remax").category == "alignment"
    assert by_id(corpus, "cogagent").category == "agent"
    assert by_id(corpus, "gptq").organizations == ("IST Austria",)
    assert by_id(corpus, "gptq").category == "on-device"
    assert by_id(corpus, "qwen-vl").organizations == ("Alibaba",)
    assert by_id(corpus, "qwen-vl").category == "multimodal"
    assert by_id(corpus, "mixtral-of-experts").date == "2024-01"


def test_the_paper_without_abstract_keeps_its_title_and_influence(corpus: Corpus) -> None:
    paper = next(p for p in corpus.papers if "Lookahead Decoding" in p.title)
    assert paper.abstract == ""
    assert paper.organizations == ("LMSYS",)
    assert paper.influence == "使用Jacobi Iteration和n-grams来实现推理加速"
    assert [p.id for p in corpus.papers if not p.abstract] == [paper.id]


def test_multi_organisation_entries_are_split_and_normalised(corpus: Corpus) -> None:
    assert by_id(corpus, "gorilla").organizations == ("UC Berkeley", "Microsoft")
    assert by_id(corpus, "toolllm").organizations == ("Tsinghua University",)
    llava = by_id(corpus, "improved-baselines-with-visual-instruction-tuning")
    assert llava.organizations == (
        "University of Wisconsin–Madison",
        "Microsoft Research",
        "Columbia University",
    )
    assert llava.organizations_raw == "美国威斯康星大学,微软研究院和哥伦比亚大学研究人员"
    assert corpus.unknown_organizations == ()


def test_chinese_and_english_spellings_give_one_organisation(corpus: Corpus) -> None:
    google = [p.id for p in corpus.papers if "Google" in p.organizations]
    assert "fast-inference-from-transformers-via-speculative-decoding" in google  # 谷歌
    assert "doremi" in google  # Google
    princeton = {p.id for p in corpus.papers if "Princeton University" in p.organizations}
    assert princeton == {"flashattention-2", "medusa"}  # Princeton and 普林斯顿


def test_abstract_continues_on_the_url_line_and_on_later_paragraphs(corpus: Corpus) -> None:
    assert by_id(corpus, "flm-101b").abstract.endswith("https://huggingface.co/CofeAI/FLM-101B。")
    medusa = by_id(corpus, "medusa")
    assert medusa.abstract.count("\n") == 2
    assert medusa.abstract.endswith("2.3-3.6 倍。")
    assert [line for _, line in medusa.abstract_spans] == [232, 234, 236]


def test_trailing_non_paper_lines_are_kept_as_ignored_lines(corpus: Corpus) -> None:
    ignored = {item.line: item.text for item in corpus.ignored}
    assert ignored[1] == "2023 AI核心论文"
    assert ignored[280] == "回复“LLM论文”获取论文压缩包"
    assert {282, 284, 286, 288, 289} <= set(ignored)
    assert not any("暂无评论" in p.abstract for p in corpus.papers)


def test_ids_do_not_change_when_papers_are_added(corpus: Corpus) -> None:
    text = SHIPPED_CORPUS.read_text(encoding="utf-8")
    extra = "\n多模态\n\n" + paper_entry("LLaMA: A Second Paper With The Same Short Name")
    bigger = parse_corpus(text + extra)
    assert [p.id for p in bigger.papers[:26]] == [p.id for p in corpus.papers]
    assert bigger.papers[26].id == "llama-a-second-paper-with-the-same-short-name"


@pytest.mark.parametrize(
    ("entry", "line", "what"),
    [
        ("Title Only\n\n发布时间:2023.05\n\n发表单位:Meta\n\n摘要:x", 3, "影响力"),
        ("Bad Date\n\n发布时间:May 2023\n\n发表单位:Meta\n\n影响力:x", 5, "not YYYY.MM"),
        ("Bad Month\n\n发布时间:2023.13\n\n发表单位:Meta\n\n影响力:x", 5, "not YYYY.MM"),
        ("Twice\n\n发布时间:2023.05\n\n发布时间:2023.06\n\n发表单位:Meta\n\n影响力:x", 7, "twice"),
    ],
)
def test_malformed_entries_are_rejected_with_their_line(
    write_corpus, entry: str, line: int, what: str
) -> None:
    path = write_corpus(paper_entry("A Good Paper"), entry)
    with pytest.raises(CorpusError) as caught:
        load_corpus(path)
    assert caught.value.path == path
    assert caught.value.line == line + 10  # the heading and the first entry come first
    assert what in str(caught.value)
    assert f"{path}:{line + 10}:" in str(caught.value)


def test_a_paper_before_any_heading_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "papers.txt"
    path.write_text(paper_entry("Orphan Paper"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r":1: paper 'Orphan Paper' comes before any category"):
        load_corpus(path)


def test_empty_missing_and_binary_files_are_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("基座\n\n只有一行说明。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no paper entries"):
        load_corpus(empty)
    with pytest.raises(CorpusError, match="cannot read"):
        load_corpus(tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus(binary)


def test_kgrag_corpus_names_the_default_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    assert default_corpus_path() == SHIPPED_CORPUS
    mine = tmp_path / "mine.txt"
    monkeypatch.setenv("KGRAG_CORPUS", str(mine))
    assert default_corpus_path() == mine

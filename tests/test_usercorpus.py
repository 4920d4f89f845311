"""Adding papers to the user's own copy of the list: validated first, merged atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kg.corpus import SHIPPED_CORPUS, load_corpus
from kg.errors import CorpusError
from kg.usercorpus import add_papers

NEW_PAPER = """多模态

Example-VL: A Made-Up Vision Language Model

发布时间:2024.02

发表单位:Meta,谷歌

影响力:only used in tests

摘要:我们提出了 Example-VL,一个用于测试的视觉语言模型。
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


def test_new_papers_go_into_a_user_copy_and_the_shipped_file_is_untouched(data_dir: Path) -> None:
    shipped = load_corpus(SHIPPED_CORPUS)
    before = sha256(SHIPPED_CORPUS)
    result = add_papers(NEW_PAPER, "upload.txt")
    assert result.path == data_dir / "corpus.txt"
    assert [p.title for p in result.added] == ["Example-VL: A Made-Up Vision Language Model"]
    merged = load_corpus(result.path)
    assert len(merged.papers) == len(shipped.papers) + 1
    added = merged.papers[-1]
    assert (added.date, added.category, added.organizations) == (
        "2024-02",
        "multimodal",
        ("Meta", "Google"),
    )
    assert [p.id for p in merged.papers[:-1]] == [
        p.id for p in shipped.papers
    ]  # ids never renumbered
    assert sha256(SHIPPED_CORPUS) == before


def test_a_second_upload_merges_into_the_existing_copy(data_dir: Path) -> None:
    add_papers(NEW_PAPER, "first.txt")
    second = NEW_PAPER.replace("Example-VL", "Example-VL-2").replace("2024.02", "2024.03")
    result = add_papers(second, "second.txt")
    titles = [p.title for p in load_corpus(result.path).papers]
    assert titles[-2:] == [
        "Example-VL: A Made-Up Vision Language Model",
        "Example-VL-2: A Made-Up Vision Language Model",
    ]


def test_papers_already_in_the_corpus_are_reported_as_duplicates(data_dir: Path) -> None:
    shipped = load_corpus(SHIPPED_CORPUS)
    llama = next(p for p in shipped.papers if p.id == "llama")
    duplicate = f"基座\n\n{llama.title.upper()}\n\n发布时间:2023.02\n\n发表单位:Meta\n\n影响力:x\n"
    result = add_papers(duplicate + "\n" + NEW_PAPER, "upload.txt")
    assert [p.title for p in result.duplicates] == [llama.title.upper()]
    assert len(result.added) == 1
    assert len(load_corpus(result.path).papers) == len(shipped.papers) + 1


def test_an_upload_of_only_duplicates_writes_nothing(data_dir: Path) -> None:
    llama = next(p for p in load_corpus(SHIPPED_CORPUS).papers if p.id == "llama")
    text = f"基座\n\n{llama.title}\n\n发布时间:2023.02\n\n发表单位:Meta\n\n影响力:x\n"
    result = add_papers(text, "upload.txt")
    assert result.added == () and len(result.duplicates) == 1
    assert not (data_dir / "corpus.txt").exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (NEW_PAPER.replace("2024.02", "2024.13"), 5),  # a month that does not exist
        (NEW_PAPER.replace("发表单位:Meta,谷歌\n", ""), 3),  # a paper with no organisation
        (NEW_PAPER.replace("多模态\n", ""), 2),  # a paper before any category heading
    ],
)
def test_a_malformed_upload_names_its_line_and_changes_nothing(
    data_dir: Path, text: str, line: int
) -> None:
    add_papers(NEW_PAPER, "first.txt")
    copy = data_dir / "corpus.txt"
    before = sha256(copy)
    with pytest.raises(CorpusError) as caught:
        add_papers(text, "bad.txt")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"bad.txt:{line}:")
    assert sha256(copy) == before
    assert [p.name for p in data_dir.iterdir()] == ["corpus.txt"]  # no temp file left behind

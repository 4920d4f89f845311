"""Uploads in the Index tab: size-checked before reading, and removed from Gradio's temp folder
once validated, whether accepted or rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import parse_corpus
from kg.errors import CorpusError
from kg.usercorpus import MergeResult
from ui.app_index import add_uploaded


class StubServices:
    """Only what `add_uploaded` uses: merging validates like the real thing, writes nothing."""

    def add_papers(self, text: str, name: str) -> MergeResult:
        corpus = parse_corpus(text, name)  # raises CorpusError naming the line
        return MergeResult(Path("corpus.txt"), (), corpus.papers, corpus)

    def update_index(self) -> None:
        raise AssertionError("nothing was added")


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def _upload(uploads: Path, data: bytes, size: int | None = None) -> Path:
    path = uploads / "3f2a9c" / "papers.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    if size is not None:
        with path.open("r+b") as handle:
            handle.truncate(size)  # sparse: large without writing it
    return path


GOOD = "基座\n\nA: b\n\n发布时间:2023.05\n\n发表单位:Meta\n\n影响力:x\n\n摘要:一个摘要。\n".encode()


def test_a_rejected_upload_is_removed_from_the_temp_folder(uploads: Path) -> None:
    path = _upload(uploads, "基座\n\nA: b\n\n发布时间:May\n".encode())
    message = add_uploaded(StubServices(), str(path), lambda *a, **k: None)  # type: ignore[arg-type]
    assert "was not added" in message
    assert not path.exists() and not path.parent.exists() and uploads.is_dir()


def test_an_accepted_upload_is_removed_too(uploads: Path) -> None:
    path = _upload(uploads, GOOD)
    message = add_uploaded(StubServices(), str(path), lambda *a, **k: None)  # type: ignore[arg-type]
    assert "Skipped 1" in message and not path.exists()


def test_an_oversized_upload_is_refused_with_the_limit_before_reading(uploads: Path) -> None:
    path = _upload(uploads, GOOD, size=6_000_000)
    message = add_uploaded(StubServices(), str(path), lambda *a, **k: None)  # type: ignore[arg-type]
    assert "5,000,000 bytes" in message and not path.exists()


def test_files_outside_the_upload_folder_are_never_removed(uploads: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_bytes(GOOD)
    add_uploaded(StubServices(), str(mine), lambda *a, **k: None)  # type: ignore[arg-type]
    assert mine.read_bytes() == GOOD


def test_stub_validates_like_the_library() -> None:
    with pytest.raises(CorpusError):
        StubServices().add_papers("nothing here", "x.txt")

"""The persisted index: reused when fresh, refreshed when papers are added (embedding only the new
ones), rebuilt when the corpus or embedder changes, rejected and rebuilt when corrupt; real FAISS."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus, load_corpus
from rag.documents import passages
from rag.embed import Embedder
from rag.index import FORMAT, MANIFEST, VECTORS, build_faiss, default_index_dir, open_index
from tests.fixtures.kg import paper_entry


@dataclass
class CountingEmbedder:
    """Wraps a real embedder and records every document text it is asked to embed."""

    inner: Embedder
    documents: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.documents.extend(texts)
        return self.inner.encode_documents(texts)


@pytest.fixture
def counting(use_embedder: Embedder) -> CountingEmbedder:
    return CountingEmbedder(use_embedder)


NEW_PAPER = paper_entry(
    "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
    date="2023.12",
    org="Carnegie Mellon University",
    influence="选择性状态空间模型,线性时间处理长序列",
    abstract="我们提出了一种选择性状态空间模型,在长序列上以线性时间运行,推理吞吐量比 Transformer 高五倍。",
)


@pytest.fixture
def grown_corpus(tmp_path: Path) -> Callable[[], Corpus]:
    """The shipped list with one more paper appended, as a user adds one."""

    def make() -> Corpus:
        path = tmp_path / "grown.txt"
        path.write_text(SHIPPED_CORPUS.read_text("utf-8") + "\n\n" + NEW_PAPER, "utf-8")
        return load_corpus(path)

    return make


def test_index_holds_every_passage_with_a_versioned_manifest(
    corpus: Corpus, counting: CountingEmbedder, tmp_path: Path
) -> None:
    index = open_index(corpus, counting, tmp_path / "ix", progress=False)
    assert index.state.action == "built"
    assert len(index.passages) == len(passages(corpus)) == index.faiss_index.ntotal
    manifest = json.loads((tmp_path / "ix" / MANIFEST).read_text("utf-8"))
    assert manifest["format"] == FORMAT
    assert manifest["corpus_sha256"] == corpus.sha256
    assert manifest["embedder"] == {"name": "use-multilingual", "dim": 512}
    assert manifest["index_type"] == "flat-ip"
    assert {"kgrag_version", "built_at"} <= set(manifest)
    assert not list(tmp_path.glob(".ix-*")), "no staging folders are left behind"
    assert {p.paper_id for p in index.passages} == {p.id for p in corpus.papers}


def test_a_fresh_index_is_reused_without_embedding(
    corpus: Corpus, counting: CountingEmbedder, tmp_path: Path
) -> None:
    open_index(corpus, counting, tmp_path, progress=False)
    counting.documents.clear()
    again = open_index(corpus, counting, tmp_path, progress=False)
    assert again.state.action == "reused" and counting.documents == []


def test_adding_one_paper_embeds_only_that_paper(
    corpus: Corpus, counting: CountingEmbedder, tmp_path: Path, grown_corpus
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, counting, tmp_path, progress=False)
    counting.documents.clear()
    grown = grown_corpus()
    index = open_index(grown, counting, tmp_path, progress=False)
    assert index.state.action == "updated"
    assert len(counting.documents) == 1 and counting.documents[0].startswith("Mamba")
    assert index.manifest.corpus_sha256 == grown.sha256
    assert len(index.passages) == len(passages(corpus)) + 1


def test_the_reused_vectors_equal_freshly_embedded_ones(
    corpus: Corpus, use_embedder: Embedder, tmp_path: Path, grown_corpus
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, use_embedder, tmp_path / "a", progress=False)
    updated = open_index(grown_corpus(), use_embedder, tmp_path / "a", progress=False)
    fresh = open_index(grown_corpus(), use_embedder, tmp_path / "b", progress=False)
    np.testing.assert_allclose(updated.vectors(), fresh.vectors(), atol=1e-5)


def test_a_different_embedder_rebuilds_the_index(
    corpus: Corpus, counting: CountingEmbedder, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, counting, tmp_path, progress=False)
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    assert index.state.action == "rebuilt" and "use-multilingual" in index.state.reason
    assert index.manifest.embedder == hashing_embedder.name and index.manifest.dim == 256
    assert len(hashing_embedder.documents_encoded) == len(index.passages)


def test_a_changed_corpus_is_detected_even_if_no_passage_is_new(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, hashing_embedder, tmp_path, progress=False)
    edited = tmp_path / "edited.txt"
    edited.write_text(SHIPPED_CORPUS.read_text("utf-8") + "\n\n", "utf-8")
    index = open_index(load_corpus(edited), hashing_embedder, tmp_path / "ix2", progress=False)
    assert index.state.action == "built"
    again = open_index(load_corpus(edited), hashing_embedder, tmp_path, progress=False)
    assert again.state.action == "updated" and again.state.embedded == 0


def test_a_truncated_faiss_file_is_rejected_and_rebuilt(
    corpus: Corpus, counting: CountingEmbedder, tmp_path: Path, caplog
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, counting, tmp_path, progress=False)
    faiss_file = tmp_path / VECTORS
    with faiss_file.open("r+b") as handle:
        handle.truncate(faiss_file.stat().st_size // 2)
    counting.documents.clear()
    index = open_index(corpus, counting, tmp_path, progress=False)
    assert index.state.action == "rebuilt"
    assert VECTORS in index.state.reason and "corrupt" in index.state.reason
    assert len(counting.documents) == len(index.passages), "nothing from the corrupt file is used"
    assert "unusable" in caplog.text
    assert open_index(corpus, counting, tmp_path, progress=False).state.action == "reused"


def test_an_unreadable_manifest_is_rejected_and_rebuilt(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, hashing_embedder, tmp_path, progress=False)
    (tmp_path / MANIFEST).write_text("{not json", "utf-8")
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    assert index.state.action == "rebuilt" and "manifest" in index.state.reason


def test_search_returns_nearest_passages_by_cosine(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    target = index.passages[5]
    [[(best, score), *_]] = index.search(hashing_embedder.encode_queries([target.text]), 3)
    assert best.id == target.id and score == pytest.approx(1.0, abs=1e-4)


def test_large_collections_switch_to_hnsw_with_good_recall() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, exact_kind = build_faiss(vectors, hnsw_threshold=10_000)
    approx, approx_kind = build_faiss(vectors, hnsw_threshold=1000)
    assert (exact_kind, approx_kind) == ("flat-ip", "hnsw")
    queries = vectors[:50] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    _, want = exact.search(queries, 10)
    _, got = approx.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)])
    assert recall >= 0.9


def test_default_index_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGRAG_INDEX_DIR", str(tmp_path / "x"))
    assert default_index_dir() == tmp_path / "x"
    monkeypatch.delenv("KGRAG_INDEX_DIR")
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    assert default_index_dir() == tmp_path / "data" / "index"

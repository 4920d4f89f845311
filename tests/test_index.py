"""The persisted index: reused when fresh, refreshed when papers are added (embedding only the new
ones), rebuilt when the corpus or embedder changes, rejected and rebuilt when corrupt; real FAISS."""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from kg import fsutil
from kg.corpus import SHIPPED_CORPUS, Corpus, load_corpus
from kg.fsutil import staging_dir
from rag.embedding.embedders import Embedder
from rag.indexing.index import open_index, read_manifest
from rag.passages import passages
from rag.settings import Settings
from rag.stores import faiss as faiss_folder
from rag.stores.base import FORMAT, IndexWriteError, manifest_checksum, rows_digest
from rag.stores.faiss import MANIFEST, PASSAGES, VECTORS, build_faiss
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
    rate = index.state.passages_per_second  # what `kgrag index` prints
    assert rate is not None and rate > 0
    assert rate == index.state.embedded / index.state.embed_seconds
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
    assert again.state.passages_per_second is None  # nothing embedded, no rate to report


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
    assert Settings.from_env().index_dir == tmp_path / "x"
    monkeypatch.delenv("KGRAG_INDEX_DIR")
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    assert Settings.from_env().index_dir == tmp_path / "data" / "index"


# ---------------------------------------------------------------- integrity and safe swaps


def _swap_two_records(folder: Path) -> None:
    """Exchange two passage records in passages.json: still valid JSON, same size."""
    path = folder / PASSAGES
    data = json.loads(path.read_text("utf-8"))
    records = data["passages"]
    records[0], records[5] = records[5], records[0]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


def test_two_swapped_passages_are_corrupt_and_rebuilt_not_updated(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    built = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    _swap_two_records(tmp_path)
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    assert index.state.action == "rebuilt" and PASSAGES in index.state.reason
    assert [p.id for p in index.passages] == [p.id for p in built.passages]
    target = index.passages[5]
    [[(best, _), *_]] = index.search(hashing_embedder.encode_queries([target.text]), 1)
    assert best.id == target.id, "every row carries its own passage's vector again"


def test_a_consistent_looking_edit_is_caught_by_the_row_mapping(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Swap two records and fix the file checksum and the manifest's own checksum: the row →
    passage-hash digest still tells that rows and passages no longer line up."""
    open_index(corpus, hashing_embedder, tmp_path, progress=False)
    _swap_two_records(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text("utf-8"))
    data = (tmp_path / PASSAGES).read_bytes()
    manifest["passages_file"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    manifest["checksum"] = manifest_checksum(manifest)
    (tmp_path / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    assert index.state.action == "rebuilt" and "row" in index.state.reason


def test_an_edited_manifest_is_corrupt(corpus: Corpus, hashing_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, hashing_embedder, tmp_path, progress=False)
    manifest = json.loads((tmp_path / MANIFEST).read_text("utf-8"))
    manifest["passages"] += 0  # untouched value, but rewritten by hand
    manifest["corpus_sha256"] = "0" * 64
    (tmp_path / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    assert index.state.action == "rebuilt" and "altered" in index.state.reason


def test_the_manifest_records_every_file_and_the_row_mapping(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index = open_index(corpus, hashing_embedder, tmp_path, progress=False)
    manifest = json.loads((tmp_path / MANIFEST).read_text("utf-8"))
    for key, name in (("faiss", VECTORS), ("passages_file", PASSAGES)):
        data = (tmp_path / name).read_bytes()
        assert manifest[key] == {
            "file": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)
        }  # fmt: skip
    assert manifest["rows_sha256"] == rows_digest(index.passages)
    assert manifest["checksum"] == manifest_checksum(manifest)


@pytest.fixture
def index_parent(tmp_path: Path) -> Path:
    parent = tmp_path / "data"
    parent.mkdir()
    return parent


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".ix-"))


def test_leftovers_of_failed_swaps_and_killed_builds_are_cleaned_and_never_block(
    corpus: Corpus, hashing_embedder, index_parent: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = index_parent / "ix"
    open_index(corpus, hashing_embedder, folder, progress=False)
    stuck = index_parent / ".ix-old"  # what kgrag before this fix left after a failed removal
    (stuck / "sub").mkdir(parents=True)
    (stuck / "sub" / "vectors.faiss").write_bytes(b"x")
    for path in (stuck / "sub", stuck):
        path.chmod(0o500)
    orphan = staging_dir(index_parent, ".ix-new-")  # a build killed while writing
    (orphan / VECTORS).write_bytes(b"partial")
    _swap_two_records(folder)
    index = open_index(corpus, hashing_embedder, folder, progress=False)
    assert index.state.action == "rebuilt"
    assert _leftovers(index_parent) == []


def test_a_leftover_that_cannot_be_removed_does_not_block_later_builds(
    corpus: Corpus, hashing_embedder, index_parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(faiss_folder, "remove_tree", lambda path: False)
    folder = index_parent / "ix"
    for _ in range(3):
        _swap_two_records(folder) if (folder / PASSAGES).exists() else None
        index = open_index(corpus, hashing_embedder, folder, progress=False)
        assert index.state.action in ("built", "rebuilt")
    assert open_index(corpus, hashing_embedder, folder, progress=False).state.action == "reused"


def test_the_old_index_is_swapped_out_even_without_an_atomic_exchange(
    corpus: Corpus, hashing_embedder, index_parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fsutil, "exchange_paths", lambda a, b: False)
    folder = index_parent / "ix"
    open_index(corpus, hashing_embedder, folder, progress=False)
    _swap_two_records(folder)
    assert open_index(corpus, hashing_embedder, folder, progress=False).state.action == "rebuilt"
    assert open_index(corpus, hashing_embedder, folder, progress=False).state.action == "reused"
    assert _leftovers(index_parent) == []


def test_a_symlinked_index_folder_is_followed_not_replaced(
    corpus: Corpus, hashing_embedder, tmp_path: Path, grown_corpus
) -> None:  # type: ignore[no-untyped-def]
    real = tmp_path / "disk" / "kgrag-index"
    real.mkdir(parents=True)
    link = tmp_path / "ix"
    link.symlink_to(real, target_is_directory=True)
    assert open_index(corpus, hashing_embedder, link, progress=False).state.action == "built"
    assert (
        open_index(grown_corpus(), hashing_embedder, link, progress=False).state.action == "updated"
    )
    assert link.is_symlink() and (real / MANIFEST).is_file()
    assert open_index(corpus, hashing_embedder, link, progress=False).state.action == "updated"
    assert link.is_symlink() and read_manifest(link) == read_manifest(real)


class ReadOnlyFilesystem:
    """Every write call fails with EROFS (as on a read-only mount, which also stops root);
    the attempts are recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[str] = []
        real_open, real_os_open = io.open, os.open

        def refuse(what: str) -> OSError:
            self.attempts.append(what)
            return OSError(errno.EROFS, "Read-only file system", what)

        def guarded_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
            if any(c in mode for c in "wax+"):
                raise refuse(f"open {file}")
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise refuse(f"os.open {path}")
            return real_os_open(path, flags, *args, **kwargs)

        def failing(name: str):  # type: ignore[no-untyped-def]
            def call(path, *args, **kwargs):  # type: ignore[no-untyped-def]
                raise refuse(f"{name} {path}")

            return call

        monkeypatch.setattr(io, "open", guarded_open)
        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(os, "open", guarded_os_open)
        for name in ("mkdir", "rename", "replace", "unlink", "rmdir"):
            monkeypatch.setattr(os, name, failing(name))


def test_a_read_only_intact_index_is_used_without_any_write(
    corpus: Corpus, hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    read_only = ReadOnlyFilesystem(monkeypatch)
    index = open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    assert index.state.action == "reused"
    assert read_only.attempts == []


def test_a_rebuild_in_a_read_only_place_is_a_clear_error_that_leaves_nothing(
    corpus: Corpus, hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    _swap_two_records(tmp_path / "ix")
    before = sorted(p.name for p in tmp_path.iterdir())
    with monkeypatch.context() as patch:
        ReadOnlyFilesystem(patch)
        with pytest.raises(IndexWriteError, match="--index-dir"):
            open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (
        open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False).state.action
        == "rebuilt"
    )


def test_a_failed_swap_keeps_the_old_index_and_a_later_build_succeeds(
    corpus: Corpus,
    hashing_embedder,
    index_parent: Path,
    monkeypatch: pytest.MonkeyPatch,
    grown_corpus,
) -> None:  # type: ignore[no-untyped-def]
    folder = index_parent / "ix"
    open_index(corpus, hashing_embedder, folder, progress=False)

    def exchange_fails(a: Path, b: Path) -> bool:
        raise OSError(errno.EACCES, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(fsutil, "exchange_paths", exchange_fails)
        with pytest.raises(IndexWriteError, match="Permission denied"):
            open_index(grown_corpus(), hashing_embedder, folder, progress=False)
    assert open_index(corpus, hashing_embedder, folder, progress=False).state.action == "reused"
    assert _leftovers(index_parent) == []
    assert (
        open_index(grown_corpus(), hashing_embedder, folder, progress=False).state.action
        == "updated"
    )


def test_an_index_path_that_is_a_file_or_device_is_refused(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "ix"
    blocker.write_text("not an index", "utf-8")
    with pytest.raises(IndexWriteError, match="not a folder"):
        open_index(corpus, hashing_embedder, blocker, progress=False)
    with pytest.raises(IndexWriteError, match="not a folder"):
        open_index(corpus, hashing_embedder, Path("/dev/null"), progress=False)
    assert blocker.read_text("utf-8") == "not an index"


def test_the_index_folder_follows_the_umask(
    corpus: Corpus, hashing_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    old = os.umask(0o022)
    try:
        open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "ix").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "ix" / MANIFEST).stat().st_mode) == 0o644

"""The HNSW depth rule (`rag.stores.base.hnsw_params`) and the recall it buys in a FAISS store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.passages import Passage
from rag.stores.base import FORMAT, Manifest, hashes_digest, hnsw_params, open_store

SIZES = [1, 10, 9_999, 10_000, 10_001, 50_000, 100_000, 100_001, 10**6, 10**6 + 1, 10**7, 10**9]


def test_the_rule_deepens_with_the_rows_in_bounded_steps() -> None:
    rules = [hnsw_params(n) for n in SIZES]
    for field in ("m", "ef_construction", "ef_search"):
        values = [getattr(r, field) for r in rules]
        assert values == sorted(values), f"{field} never shrinks as rows grow"
    assert rules[-1] == hnsw_params(10**12), "bounded: past 10⁶ rows it stops growing"
    assert rules[-1].m <= 64 and rules[-1].ef_construction <= 512 and rules[-1].ef_search <= 512
    assert all(r.ef_search >= 10 for r in rules), "deep enough for recall@10 at any size"
    # Steps at the decades only, so that a server's index is rebuilt only when one is crossed.
    assert len({hnsw_params(n) for n in range(1, 10_001, 37)}) == 1
    assert hnsw_params(10_000) != hnsw_params(10_001)
    assert hnsw_params(100_000) != hnsw_params(100_001) != hnsw_params(10**6 + 1)


def test_a_faiss_hnsw_store_of_20000_vectors_keeps_recall_at_10(tmp_path: Path) -> None:
    """Random unit vectors (64-dim: harder than real embeddings, whose neighbours stand out)
    written through the FAISS store with HNSW forced, read back, searched: recall@10 against
    exact search ≥ 0.95. The depth of 10⁴ rows and below (M 16, ef 64) does not reach it here."""
    rng = np.random.default_rng(0)
    vectors = _unit(rng.standard_normal((20_000, 64), dtype=np.float32))
    queries = _unit(rng.standard_normal((200, 64), dtype=np.float32))
    rows = [Passage(f"p{i}#0", f"p{i}", "t", f"text {i}", 0) for i in range(len(vectors))]
    store = open_store(str(tmp_path / "ix"), tmp_path, hnsw_threshold=0, token="")
    store.clear(64)
    store.add(rows, vectors)
    digest = hashes_digest([h for _, h in store.rows()])
    committed = store.commit(Manifest(FORMAT, "0" * 64, "random", 64, "0", "", "", len(rows),
                                      rows_sha256=digest))  # fmt: skip
    assert committed.index_type == "hnsw"
    again = open_store(str(tmp_path / "ix"), tmp_path, hnsw_threshold=0, token="")
    assert again.load()[0] == committed
    index = again.faiss_index  # type: ignore[attr-defined]
    want = hnsw_params(len(rows))
    assert index.hnsw.efSearch == want.ef_search
    assert index.hnsw.efConstruction == want.ef_construction
    found = [[int(pid[1:].split("#")[0]) for pid, _ in hits] for hits in again.search(queries, 10)]
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found, strict=True)])
    assert recall >= 0.95


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

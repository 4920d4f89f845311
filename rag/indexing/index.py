"""The persisted dense index over a `VectorStore`: reused, refreshed or rebuilt, never trusted blindly.

`open_index` reuses a fresh index, refreshes a stale one (re-embedding only passages whose text
changed, keyed by content hash), rebuilds one made by another embedder, and rejects a corrupt or
half-written one with a clear reason before rebuilding it. The same rules hold for every store
(`rag.stores`: FAISS by default, Milvus Lite or a Milvus server by `--vector-uri`); each store
proves itself with the manifest it commits last, and keeps its own files (`rag.stores.faiss` for
the FAISS folder). A fresh index is reused without taking the lock or writing anything, so a
read-only index works.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kg.corpus import Corpus
from kg.version import kgrag_version
from rag.embedding.embedders import Embedder
from rag.passages import Passage, passages
from rag.stores.base import (
    FORMAT,
    HNSW_THRESHOLD,
    Manifest,
    VectorStore,
    hashes_digest,
    open_store,
    store_kind,
)

__all__ = ["DocumentEncoder", "IndexState", "VectorIndex", "open_index", "read_manifest"]

_EMBED_BATCH = 32

Action = Literal["reused", "built", "updated", "rebuilt"]
DocumentEncoder = Callable[[Sequence[str]], np.ndarray]
"""Embeds document texts (one row each): the embedder itself, or Ray workers (`rag.embedding.ray_encoder`)."""
log = logging.getLogger("kgrag.index")


@dataclass(frozen=True)
class IndexState:
    """What `open_index` did and why (for the CLI and app to show)."""

    action: Action
    reason: str
    embedded: int
    embed_seconds: float = 0.0
    """Wall time spent embedding the `embedded` passages (0 when none were)."""

    @property
    def passages_per_second(self) -> float | None:
        """Embedding throughput of this run, or None when nothing was embedded."""
        if not self.embedded or self.embed_seconds <= 0:
            return None
        return self.embedded / self.embed_seconds


@dataclass(frozen=True)
class VectorIndex:
    """A loaded index: the corpus passages and the store holding one vector for each."""

    path: Path | str
    """The FAISS folder, or the store's location (a Milvus Lite file, a server URI)."""
    manifest: Manifest
    passages: tuple[Passage, ...]
    store: VectorStore = field(repr=False)
    state: IndexState

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[Passage, float]]]:
        """The `k` nearest passages (inner product = cosine) for each query row."""
        k = min(k, len(self.passages))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        by_id = self._by_id
        return [
            [(by_id[pid], score) for pid, score in row if pid in by_id]
            for row in self.store.search(np.ascontiguousarray(queries, np.float32), k)
        ]

    def vectors(self) -> np.ndarray:
        """Every stored vector, in passage order."""
        return self.store.vectors([p.id for p in self.passages])

    @property
    def faiss_index(self) -> Any:
        """The FAISS index (FAISS store only)."""
        return self.store.faiss_index  # type: ignore[attr-defined]

    @property
    def _by_id(self) -> dict[str, Passage]:
        cached = self.__dict__.get("_by_id_cache")
        if cached is None:
            cached = {p.id: p for p in self.passages}
            object.__setattr__(self, "_by_id_cache", cached)
        return cached


def open_index(
    corpus: Corpus,
    embedder: Embedder,
    index_dir: Path,
    progress: bool = True,
    hnsw_threshold: int = HNSW_THRESHOLD,
    vector_uri: str | None = None,
    *,
    encode: DocumentEncoder | None = None,
    vector_token: str | None = None,
) -> VectorIndex:
    """The index of `corpus` under `embedder`: reused if fresh, else refreshed or rebuilt.

    `vector_uri` picks the store (`rag.stores.base`; None or '' is FAISS in `index_dir`),
    `vector_token` is a Milvus server's token (`rag.settings.Settings` reads both). `encode` embeds the passages to add (default `embedder.encode_documents`;
    `rag.embedding.ray_encoder` spreads it over Ray workers); writes follow the store's own rules."""
    store = open_store(vector_uri, Path(index_dir), hnsw_threshold, vector_token)
    wanted = passages(corpus)
    # Reuse needs no lock and writes nothing (a read-only index works). A write racing this read
    # makes the checksums disagree; the locked pass below then settles it.
    manifest, _ = store.load()
    if manifest is not None and _fresh(manifest, store, corpus, embedder, wanted):
        return _index(store, manifest, wanted, IndexState("reused", "index is up to date", 0))
    with store.lock():
        return _open_locked(corpus, embedder, store, wanted, progress, encode)


def _index(
    store: VectorStore, manifest: Manifest, wanted: Sequence[Passage], state: IndexState
) -> VectorIndex:
    path: Path | str = Path(store.location) if store.kind == "faiss" else store.location
    return VectorIndex(path, manifest, tuple(wanted), store, state)


def _open_locked(
    corpus: Corpus,
    embedder: Embedder,
    store: VectorStore,
    wanted: list[Passage],
    progress: bool,
    encode: DocumentEncoder | None,
) -> VectorIndex:
    previous, problem = store.load()
    if previous is not None and _fresh(previous, store, corpus, embedder, wanted):
        return _index(store, previous, wanted, IndexState("reused", "index is up to date", 0))
    if previous is None:
        action: Action = "rebuilt" if problem else "built"
        reason = problem or f"no index in {store.location}"
        store.clear(embedder.dim)
    elif _same_embedder(previous, embedder):
        action, reason = "updated", "the corpus or its passages changed"
    else:
        action = "rebuilt"
        reason = (
            f"the index was made with {previous.embedder} "
            f"({previous.dim}-dim), not {embedder.name} ({embedder.dim}-dim)"
        )
        store.clear(embedder.dim)
    if problem:
        log.warning("index in %s is unusable (%s); rebuilding it", store.location, problem)
    stored = dict(store.rows())
    want = {p.id: p.content_hash for p in wanted}
    stale = [pid for pid, digest in stored.items() if want.get(pid) != digest]
    todo = [p for p in wanted if stored.get(p.id) != p.content_hash]
    started = time.perf_counter()
    vectors, embedded = _embed(todo, embedder, store, stored, progress, encode)
    seconds = time.perf_counter() - started
    store.remove(stale)
    store.add(todo, vectors)
    manifest = store.commit(
        Manifest(
            format=FORMAT,
            corpus_sha256=corpus.sha256,
            embedder=embedder.name,
            dim=embedder.dim,
            kgrag_version=kgrag_version(),
            built_at="",
            index_type="",
            passages=store.count(),
            rows_sha256=hashes_digest([digest for _, digest in store.rows()]),
        )
    )
    return _index(store, manifest, wanted, IndexState(action, reason, embedded, seconds))


def _fresh(
    manifest: Manifest,
    store: VectorStore,
    corpus: Corpus,
    embedder: Embedder,
    wanted: list[Passage],
) -> bool:
    return (
        manifest.corpus_sha256 == corpus.sha256
        and _same_embedder(manifest, embedder)
        and manifest.passages == len(wanted)
        and sorted(store.rows()) == sorted((p.id, p.content_hash) for p in wanted)
    )


def _same_embedder(manifest: Manifest, embedder: Embedder) -> bool:
    return manifest.embedder == embedder.name and manifest.dim == embedder.dim


def _embed(
    todo: list[Passage],
    embedder: Embedder,
    store: VectorStore,
    stored: dict[str, str],
    progress: bool,
    encode: DocumentEncoder | None,
) -> tuple[np.ndarray, int]:
    """Vectors for `todo`: a text the store already holds (under another passage id) is copied,
    the rest is embedded. Returns the vectors and how many were embedded."""
    from tqdm import tqdm

    vectors = np.zeros((len(todo), embedder.dim), dtype=np.float32)
    by_hash = {digest: pid for pid, digest in stored.items()}
    copied = [i for i, p in enumerate(todo) if p.content_hash in by_hash]
    if copied:
        vectors[copied] = store.vectors([by_hash[todo[i].content_hash] for i in copied])
    missing = [i for i, p in enumerate(todo) if p.content_hash not in by_hash]
    if encode is not None and missing:
        vectors[missing] = encode([todo[i].text for i in missing])
        return vectors, len(missing)
    with tqdm(
        total=len(missing), desc=f"Embedding passages ({embedder.name})", unit="passage",
        disable=not progress or not missing, file=sys.stderr,
    ) as bar:  # fmt: skip
        for start in range(0, len(missing), _EMBED_BATCH):
            rows = missing[start : start + _EMBED_BATCH]
            vectors[rows] = embedder.encode_documents([todo[i].text for i in rows])
            bar.update(len(rows))
    return vectors, len(missing)


def read_manifest(
    index_dir: Path, vector_uri: str | None = None, vector_token: str | None = None
) -> Manifest | None:
    """The manifest of the index in `index_dir` (or in the store `vector_uri` names); None when
    there is none or it is unreadable. Writes nothing."""
    from rag.stores.faiss import read_folder_manifest

    folder = Path(index_dir)
    if vector_uri and store_kind(vector_uri) != "faiss":
        store = open_store(vector_uri, folder, HNSW_THRESHOLD, vector_token)
        try:
            return store.load()[0]
        finally:
            store.close()
    if vector_uri:
        folder = Path(vector_uri.removeprefix("faiss://").removeprefix("faiss:"))
    return read_folder_manifest(folder)

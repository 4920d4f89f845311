"""The FAISS store: a folder holding `vectors.faiss`, `passages.json` and `manifest.json`.

Rows live in memory between `load` and `commit`; `commit` writes a whole new folder and swaps it
in atomically (the folder machinery — lock, checksums, swap, leftovers — is in `rag.indexing.index`, where
it has always been). Small stores get an exact inner-product index; past `hnsw_threshold` rows,
HNSW.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.indexing import index as folder_io
from rag.indexing.passages import Passage
from rag.stores.base import Manifest, StoreTarget

__all__ = ["FaissStore"]


class FaissStore:
    """`VectorStore` over one FAISS index folder."""

    kind = "faiss"

    def __init__(self, target: StoreTarget) -> None:
        uri = target.uri
        for prefix in ("faiss://", "faiss:"):
            uri = uri.removeprefix(prefix)
        self.shown = Path(uri).expanduser() if uri else target.index_dir
        self.location = str(self.shown)
        self.folder = folder_io._index_folder(self.shown)
        self.hnsw_threshold = target.hnsw_threshold
        self._passages: list[Passage] = []
        self._vectors: np.ndarray | None = None
        self._index: Any = None
        self._dim = 0

    # ------------------------------------------------------------------ reading

    def load(self) -> tuple[Manifest | None, str]:
        manifest, loaded, index, problem = folder_io._load_folder(self.folder)
        if manifest is not None:
            self._passages, self._index, self._vectors = list(loaded), index, None
            self._dim = manifest.dim
        return manifest, problem

    def rows(self) -> list[tuple[str, str]]:
        return [(p.id, p.content_hash) for p in self._passages]

    def count(self) -> int:
        return len(self._passages)

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        position = {p.id: i for i, p in enumerate(self._passages)}
        matrix = self._matrix()
        return matrix[[position[i] for i in ids]] if ids else matrix[:0]

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        k = min(k, len(self._passages))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        scores, rows = self.faiss_index.search(np.ascontiguousarray(queries, np.float32), k)
        return [
            [(self._passages[r].id, float(s)) for r, s in zip(row, score, strict=True) if r >= 0]
            for row, score in zip(rows, scores, strict=True)
        ]

    @property
    def faiss_index(self) -> Any:
        """The FAISS index of the current rows (built when rows changed since the last one)."""
        if self._index is None:
            self._index, _ = folder_io.build_faiss(self._matrix(), self.hnsw_threshold)
        return self._index

    def _matrix(self) -> np.ndarray:
        if self._vectors is None:
            if self._index is not None and self._index.ntotal:
                self._vectors = self._index.reconstruct_n(0, self._index.ntotal)
            else:
                self._vectors = np.zeros((0, self._dim), np.float32)
        return self._vectors

    # ------------------------------------------------------------------ writing

    def clear(self, dim: int) -> None:
        self._passages, self._index, self._dim = [], None, dim
        self._vectors = np.zeros((0, dim), np.float32)

    def add(self, rows: Sequence[Passage], vectors: np.ndarray) -> None:
        if not len(rows):
            return
        matrix = self._matrix()
        position = {p.id: i for i, p in enumerate(self._passages)}
        fresh: list[int] = []
        for i, passage in enumerate(rows):
            if passage.id in position:
                self._passages[position[passage.id]] = passage
                matrix[position[passage.id]] = vectors[i]
            else:
                position[passage.id] = len(self._passages)
                self._passages.append(passage)
                fresh.append(i)
        added = np.asarray(vectors, np.float32)[fresh]
        if len(matrix) == 0:
            matrix = added
        elif len(fresh):
            matrix = np.vstack([matrix, added])
        self._vectors, self._index = matrix, None

    def remove(self, ids: Sequence[str]) -> None:
        gone = set(ids)
        keep = [i for i, p in enumerate(self._passages) if p.id not in gone]
        if len(keep) == len(self._passages):
            return
        self._vectors = self._matrix()[keep]
        self._passages = [self._passages[i] for i in keep]
        self._index = None

    def commit(self, manifest: Manifest) -> Manifest:
        index, kind = folder_io.build_faiss(self._matrix(), self.hnsw_threshold)
        manifest = replace(
            manifest, index_type=kind, store=self.kind, location="",
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )  # fmt: skip
        manifest = folder_io._write_folder(self.folder, self.shown, manifest, self._passages, index)
        self._index = index
        return manifest

    def lock(self) -> AbstractContextManager[None]:
        return folder_io._locked_for_build(self.folder, self.shown)

    def close(self) -> None:
        self._index = self._vectors = None

"""The FAISS store: a folder holding `vectors.faiss`, `passages.json` and `manifest.json`.

Rows live in memory between `load` and `commit`; `commit` writes a whole new folder and swaps it
in atomically. The manifest records the sha256 and size of every file (vectors, passages), the
digest of the row → passage-hash mapping and a checksum of its own fields, so any edit (even two
passages swapped in valid JSON) reads as corrupt, never as an index to update. Writes: a new
folder (`.<name>-new-*`) is filled, then exchanged with the old one in one atomic step
(renameat2 RENAME_EXCHANGE; two renames where the filesystem lacks it). Leftovers of an
interrupted or failed swap (`.<name>-old-*`, orphan `.<name>-new-*`) carry unique names, so they
never block a later build, and are removed on the next build. A symlinked index folder is
followed (the folder it points to is replaced, the link stays). An index folder that is a mount
point cannot be renamed, so there the new files are staged inside it and renamed into place one
by one, the manifest removed first and written last (`kg.fsutil.replace_contents`); the build lock
lives inside it too. A folder that cannot be written is an `IndexWriteError` that says where to
build instead, raised before any embedding (`check_index_writable`).

Small stores get an exact inner-product index; past `hnsw_threshold` rows, HNSW, built and
searched as deep as `rag.stores.base.hnsw_params` says for the number of rows.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kg.fsutil import (
    check_writable,
    file_sha256,
    is_mount_point,
    is_read_only,
    output_folder,
    remove_tree,
    staging_dir,
    swap_in_folder,
)
from rag.passages import Passage
from rag.stores.base import (
    FORMAT,
    HNSW_THRESHOLD,
    IndexWriteError,
    Manifest,
    StoreTarget,
    check_manifest,
    hnsw_params,
    rows_digest,
)

__all__ = ["FaissStore", "build_faiss", "check_index_writable", "read_folder_manifest"]

MANIFEST, PASSAGES, VECTORS = "manifest.json", "passages.json", "vectors.faiss"
IndexType = Literal["flat-ip", "hnsw"]
log = logging.getLogger("kgrag.index")


class FaissStore:
    """`VectorStore` over one FAISS index folder."""

    kind = "faiss"

    def __init__(self, target: StoreTarget) -> None:
        uri = target.uri
        for prefix in ("faiss://", "faiss:"):
            uri = uri.removeprefix(prefix)
        self.shown = Path(uri).expanduser() if uri else target.index_dir
        self.location = str(self.shown)
        self.folder = _index_folder(self.shown)
        self.hnsw_threshold = target.hnsw_threshold
        self._passages: list[Passage] = []
        self._vectors: np.ndarray | None = None
        self._index: Any = None
        self._dim = 0

    # ------------------------------------------------------------------ reading

    def load(self) -> tuple[Manifest | None, str]:
        manifest, loaded, index, problem = _load_folder(self.folder)
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
            self._index, _ = build_faiss(self._matrix(), self.hnsw_threshold)
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
        index, kind = build_faiss(self._matrix(), self.hnsw_threshold)
        manifest = replace(
            manifest, index_type=kind, store=self.kind, location="",
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )  # fmt: skip
        manifest = _write_folder(self.folder, self.shown, manifest, self._passages, index)
        self._index = index
        return manifest

    def lock(self) -> AbstractContextManager[None]:
        return _locked_for_build(self.folder, self.shown)

    def close(self) -> None:
        self._index = self._vectors = None


# ---------------------------------------------------------------------- the folder


def build_faiss(vectors: np.ndarray, hnsw_threshold: int = HNSW_THRESHOLD) -> tuple[Any, IndexType]:
    """An exact inner-product index, or HNSW once there are more than `hnsw_threshold` vectors,
    built and searched as deep as `rag.stores.base.hnsw_params` says for their number."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    dim = vectors.shape[1]
    index: Any
    if len(vectors) > hnsw_threshold:
        params = hnsw_params(len(vectors))
        index = faiss.IndexHNSWFlat(dim, params.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        kind: IndexType = "hnsw"
    else:
        index = faiss.IndexFlatIP(dim)
        kind = "flat-ip"
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return _tuned(index), kind


def _tuned(index: Any) -> Any:
    """An HNSW index searches as deep as its row count calls for, whatever efSearch its file was
    written with (an index built by an older kgrag kept a fixed 128)."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = hnsw_params(index.ntotal).ef_search
    return index


def _index_folder(index_dir: Path) -> Path:
    """The real folder to read and replace: a symlinked index folder is followed, not replaced."""
    return output_folder(
        index_dir, IndexWriteError, "choose a folder with --index-dir or KGRAG_INDEX_DIR"
    )


@contextmanager
def _build_lock(folder: Path, shown: Path) -> Iterator[None]:
    """One builder per index folder (the app and a CLI command may start together)."""
    import fcntl

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        handle = (_work_dir(folder) / f".{folder.name}.lock").open("w")
    except OSError as exc:
        raise IndexWriteError(
            f"the index in {shown} is missing or out of date and cannot be written there "
            f"({exc.strerror or exc}); choose a folder you can write to with --index-dir or "
            "KGRAG_INDEX_DIR.", shown
        ) from exc  # fmt: skip
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _work_dir(folder: Path) -> Path:
    """Where a build stages its files and keeps its lock: beside the index folder, or inside it
    when it is a mount point (it stays put, and the folder above may be on another device or
    read-only)."""
    return folder if is_mount_point(folder) else folder.parent


def _remove_leftovers(folder: Path) -> None:
    """Old folders of earlier swaps and staging folders of killed builds (we hold the lock)."""
    patterns = (f".{folder.name}-old", f".{folder.name}-old-*", f".{folder.name}-new-*")
    places = [folder.parent, folder] if folder.is_dir() else [folder.parent]
    for place in places:
        for pattern in patterns:
            for leftover in place.glob(pattern):
                if not remove_tree(leftover):
                    log.warning("cannot remove %s left by an earlier build; delete it", leftover)


def check_index_writable(folder: Path, shown: Path | None = None) -> None:
    """Fail now, not after the embedding, when the build could not write its result: the staging
    place must take a file, and the folder must not be on a read-only mount (a read-only bind
    mount on the same filesystem is no mount point to `os.path.ismount`, yet refuses writes)."""
    shown = shown or folder
    place = _work_dir(folder)
    try:
        check_writable(place)
        if folder.exists() and is_read_only(folder):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder))
    except OSError as exc:
        raise IndexWriteError(
            f"the index in {shown} is missing or out of date and cannot be written: "
            f"{exc.strerror or exc} ({exc.filename or place}). Make it writable (remount it "
            "read-write) or choose a folder you can write to with --index-dir or "
            "KGRAG_INDEX_DIR.", shown
        ) from exc  # fmt: skip


@contextmanager
def _locked_for_build(folder: Path, shown: Path) -> Iterator[None]:
    """The build lock, then the leftovers of earlier builds removed (we hold the lock)."""
    with _build_lock(folder, shown):
        _remove_leftovers(folder)
        check_index_writable(folder, shown)
        yield


def _write_folder(
    folder: Path, shown: Path, manifest: Manifest, rows: Sequence[Passage], index: Any
) -> Manifest:
    """Write `index`, `rows` and `manifest` (completed with the files' checksums) into a new
    folder and swap it in; returns the manifest written."""
    import faiss

    staging: Path | None = None
    try:
        # The files go into a fresh folder of our own, which is then swapped in whole: that is
        # what makes the index atomic (`kg.fsutil.atomic_write` is the one-file equivalent).
        staging = staging_dir(_work_dir(folder), f".{folder.name}-new-")
        faiss.write_index(index, str(staging / VECTORS))
        _write_json(
            staging / PASSAGES, {"format": FORMAT, "passages": [_passage_json(p) for p in rows]}
        )
        manifest = replace(
            manifest,
            faiss_sha256=file_sha256(staging / VECTORS),
            faiss_bytes=(staging / VECTORS).stat().st_size,
            passages_sha256=file_sha256(staging / PASSAGES),
            passages_bytes=(staging / PASSAGES).stat().st_size,
            rows_sha256=rows_digest(rows),
        )
        # The manifest is written last: a folder without one is never taken for an index.
        _write_json(staging / MANIFEST, manifest.to_json())
        _swap_in(staging, folder)
    except OSError as exc:
        if staging is not None:
            remove_tree(staging)
        raise IndexWriteError(
            f"cannot write the index to {shown} ({exc.strerror or exc}); choose a folder you can "
            "write to with --index-dir or KGRAG_INDEX_DIR.", shown
        ) from exc  # fmt: skip
    _tuned(index)
    return manifest


def _swap_in(staging: Path, folder: Path) -> None:
    """Put `staging` in place of `folder` atomically (file by file, manifest last, where the
    folder cannot be renamed), then remove the old contents."""
    if not swap_in_folder(staging, folder, last=MANIFEST):
        log.warning("cannot remove the previous index beside %s; the next build retries", folder)


def _load_folder(
    folder: Path,
) -> tuple[Manifest | None, tuple[Passage, ...], Any, str]:
    """The index in `folder` (manifest, row passages, FAISS index), or None and why it cannot be
    used ('' when there is none)."""
    if not (folder / MANIFEST).exists():
        return None, (), None, ""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return None, (), None, f"its manifest is unreadable ({exc})"
    manifest, problem = check_manifest(data)
    if manifest is None:
        return None, (), None, problem
    for name, size, digest in (
        (VECTORS, manifest.faiss_bytes, manifest.faiss_sha256),
        (PASSAGES, manifest.passages_bytes, manifest.passages_sha256),
    ):
        problem = _file_problem(folder / name, size, digest)
        if problem:
            return None, (), None, problem
    try:
        records = json.loads((folder / PASSAGES).read_text("utf-8"))["passages"]
        loaded = tuple(_passage_from_json(r) for r in records)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, (), None, f"{PASSAGES} is unreadable ({exc})"
    if rows_digest(loaded) != manifest.rows_sha256:
        return (
            None,
            (),
            None,
            ("its rows no longer match their passages (the row → passage hashes differ)"),
        )
    try:
        index = _read_faiss(folder / VECTORS)
    except RuntimeError as exc:
        return None, (), None, f"FAISS cannot read {VECTORS} ({str(exc).splitlines()[0]})"
    if index.ntotal != len(loaded) or index.d != manifest.dim or len(loaded) != manifest.passages:
        return None, (), None, "the FAISS file, passages and manifest disagree"
    return manifest, loaded, index, ""


def _file_problem(path: Path, size: int, digest: str) -> str:
    """'' when `path` has the recorded size and sha256, else what is wrong with it."""
    try:
        actual = path.stat().st_size
    except OSError:
        return f"{path.name} is missing"
    if actual != size or file_sha256(path) != digest:
        return f"{path.name} is corrupt ({actual} bytes, checksum differs from the manifest)"
    return ""


def _read_faiss(path: Path) -> Any:
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return _tuned(faiss.read_index(str(path)))


def _passage_json(p: Passage) -> dict[str, Any]:
    return {
        "id": p.id,
        "paper_id": p.paper_id,
        "title": p.title,
        "ordinal": p.ordinal,
        "text": p.text,
    }


def _passage_from_json(r: dict[str, Any]) -> Passage:
    """A stored row: its embedded text as written (what its content hash identifies). The index
    maps rows back to the corpus's passages, which carry the header fields."""
    return Passage(
        str(r["id"]), str(r["paper_id"]), str(r["title"]), str(r["text"]), int(r["ordinal"])
    )


def _write_json(path: Path, value: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def read_folder_manifest(folder: Path) -> Manifest | None:
    """The manifest of the FAISS folder `folder` (a symlink followed); None when there is none or
    it is unreadable. Writes nothing."""
    path = Path(os.path.realpath(folder)) / MANIFEST
    try:
        return Manifest.from_json(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None

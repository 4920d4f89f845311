"""The persisted dense index over a `VectorStore`, and the FAISS index folder.

`open_index` reuses a fresh index, refreshes a stale one (re-embedding only passages whose text
changed, keyed by content hash), rebuilds one made by another embedder, and rejects a corrupt or
half-written one with a clear reason before rebuilding it. The same rules hold for every store
(`rag.stores.base`: FAISS by default, Milvus Lite or a Milvus server by `KGRAG_VECTOR_URI` /
`--vector-uri`); each store proves itself with the manifest it commits last.

The FAISS folder (`rag.stores.faiss`): the manifest records the sha256 and size of every file
(vectors, passages), the digest of the row → passage-hash mapping and a checksum of its own
fields, so any edit (even two passages swapped in valid JSON) reads as corrupt, never as an index
to update. Writes: a new folder (`.<name>-new-*`) is filled, then exchanged with the old one in
one atomic step (renameat2 RENAME_EXCHANGE; two renames where the filesystem lacks it). Leftovers
of an interrupted or failed swap (`.<name>-old-*`, orphan `.<name>-new-*`) carry unique names, so
they never block a later build, and are removed on the next build. A symlinked index folder is
followed (the folder it points to is replaced, the link stays). An index folder that is a mount
point cannot be renamed, so there the new files are staged inside it and renamed into place one
by one, the manifest removed first and written last (`kg.fsutil.replace_contents`); the build lock
lives inside it too. A fresh index is reused without taking the lock or writing anything, so a
read-only index works; one that must be (re)built is first checked for writability (a probe
file where the build will write, and the folder's mount not read-only), so a folder that
cannot be written is an `IndexWriteError` that says where to build instead, before any
embedding.
Small corpora get an exact inner-product index; past `hnsw_threshold` vectors, HNSW, built and
searched as deep as `rag.stores.base.hnsw_params` says for the number of vectors.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kg.corpus import Corpus
from kg.errors import WriteError
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
from rag.embedding.embedders import Embedder
from rag.indexing.passages import Passage, passages
from rag.stores.base import (
    FORMAT,
    Manifest,
    VectorStore,
    check_manifest,
    default_vector_uri,
    hashes_digest,
    hnsw_params,
    open_store,
)
from rag.stores.base import manifest_checksum as _manifest_checksum

__all__ = [
    "FORMAT",
    "HNSW_THRESHOLD",
    "DocumentEncoder",
    "IndexWriteError",
    "IndexState",
    "Manifest",
    "VectorIndex",
    "build_faiss",
    "check_index_writable",
    "default_index_dir",
    "open_index",
    "read_manifest",
    "rows_digest",
]

HNSW_THRESHOLD = 50_000
MANIFEST, PASSAGES, VECTORS = "manifest.json", "passages.json", "vectors.faiss"
_EMBED_BATCH = 32

IndexType = Literal["flat-ip", "hnsw"]
Action = Literal["reused", "built", "updated", "rebuilt"]
DocumentEncoder = Callable[[Sequence[str]], np.ndarray]
"""Embeds document texts (one row each): the embedder itself, or Ray workers (`rag.embedding.ray_encoder`)."""
log = logging.getLogger("kgrag.index")

_ = _manifest_checksum  # re-exported: tests recompute a manifest's checksum with it


class IndexWriteError(WriteError):
    """The index folder cannot be written or read."""


def rows_digest(rows: Sequence[Passage]) -> str:
    """The digest of the row → passage mapping: each row's passage content hash, in order."""
    return hashes_digest([p.content_hash for p in rows])


@dataclass(frozen=True)
class IndexState:
    """What `open_index` did and why (for the CLI and app to show)."""

    action: Action
    reason: str
    embedded: int


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


def default_index_dir() -> Path:
    """`KGRAG_INDEX_DIR`, else `index/` in the user's data folder (`rag.settings.Settings`)."""
    from rag.settings import Settings

    return Settings.from_env().index_dir


def open_index(
    corpus: Corpus,
    embedder: Embedder,
    index_dir: Path | None = None,
    progress: bool = True,
    hnsw_threshold: int = HNSW_THRESHOLD,
    vector_uri: str | None = None,
    *,
    encode: DocumentEncoder | None = None,
    vector_token: str | None = None,
) -> VectorIndex:
    """The index of `corpus` under `embedder`: reused if fresh, else refreshed or rebuilt.

    `vector_uri` picks the store (`rag.stores.base`; default `KGRAG_VECTOR_URI`, else FAISS in
    `index_dir`; '' is FAISS in `index_dir`), `vector_token` is a Milvus server's token (default
    `KGRAG_VECTOR_TOKEN`). `encode` embeds the passages to add (default `embedder.encode_documents`;
    `rag.embedding.ray_encoder` spreads it over Ray workers); writes follow the store's own rules."""
    shown = Path(index_dir) if index_dir is not None else default_index_dir()
    uri = vector_uri if vector_uri is not None else default_vector_uri()
    store = open_store(uri, shown, hnsw_threshold, vector_token)
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
    vectors, embedded = _embed(todo, embedder, store, stored, progress, encode)
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
    return _index(store, manifest, wanted, IndexState(action, reason, embedded))


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


# ---------------------------------------------------------------------- the FAISS index folder


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


def read_manifest(
    index_dir: Path | None = None, vector_uri: str | None = None, vector_token: str | None = None
) -> Manifest | None:
    """The manifest of the index in `index_dir` (or the store `vector_uri` / `KGRAG_VECTOR_URI`
    names); None when there is none or it is unreadable. Writes nothing."""
    uri = vector_uri if vector_uri is not None else default_vector_uri()
    folder = index_dir if index_dir is not None else default_index_dir()
    if uri:
        from rag.stores.base import store_kind

        if store_kind(uri) != "faiss":
            store = open_store(uri, Path(folder), HNSW_THRESHOLD, vector_token)
            try:
                return store.load()[0]
            finally:
                store.close()
        folder = Path(uri.removeprefix("faiss://").removeprefix("faiss:"))
    path = Path(os.path.realpath(folder)) / MANIFEST
    try:
        return Manifest.from_json(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


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


def kgrag_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kgrag")
    except PackageNotFoundError:
        return "0+unknown"

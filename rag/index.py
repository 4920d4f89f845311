"""The persisted dense index: a FAISS file, passage metadata as JSON, and a manifest.

`open_index` reuses a fresh index, refreshes a stale one (re-embedding only passages whose text
changed, keyed by content hash), rebuilds one made by another embedder, and rejects a corrupt one
with a clear reason before rebuilding it. The index proves itself: the manifest records the
sha256 and size of every file (vectors, passages), the digest of the row → passage-hash mapping
and a checksum of its own fields, so any edit (even two passages swapped in valid JSON) reads as
corrupt, never as an index to update.

Writes: a new folder (`.<name>-new-*`) is filled, then exchanged with the old one in one atomic
step (renameat2 RENAME_EXCHANGE; two renames where the filesystem lacks it). Leftovers of an
interrupted or failed swap (`.<name>-old-*`, orphan `.<name>-new-*`) carry unique names, so they
never block a later build, and are removed on the next build. A symlinked index folder is followed
(the folder it points to is replaced, the link stays). A fresh index is reused without taking the
lock or writing anything, so a read-only index works; rebuilding one that cannot be written is an
`IndexWriteError` that says where to build instead.
Small corpora get an exact inner-product index; past `hnsw_threshold` vectors, HNSW.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kg.corpus import Corpus
from kg.errors import WriteError
from kg.fsutil import remove_tree, staging_dir
from kg.paths import user_data_dir
from rag.documents import Passage, passages
from rag.embed import Embedder

__all__ = [
    "FORMAT",
    "HNSW_THRESHOLD",
    "IndexWriteError",
    "IndexState",
    "Manifest",
    "VectorIndex",
    "build_faiss",
    "default_index_dir",
    "open_index",
    "read_manifest",
    "rows_digest",
]

FORMAT = "kgrag-index v2"
HNSW_THRESHOLD = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
MANIFEST, PASSAGES, VECTORS = "manifest.json", "passages.json", "vectors.faiss"
_EMBED_BATCH = 32

IndexType = Literal["flat-ip", "hnsw"]
Action = Literal["reused", "built", "updated", "rebuilt"]
log = logging.getLogger("kgrag.index")


class IndexWriteError(WriteError):
    """The index folder cannot be written or read."""


@dataclass(frozen=True)
class Manifest:
    format: str
    corpus_sha256: str
    embedder: str
    dim: int
    kgrag_version: str
    built_at: str
    index_type: IndexType
    passages: int
    faiss_sha256: str
    faiss_bytes: int
    passages_sha256: str = ""
    passages_bytes: int = 0
    rows_sha256: str = ""
    """sha256 of the passages' content hashes in FAISS row order (row i ↔ passage i)."""

    def to_json(self) -> dict[str, Any]:
        fields = {
            "format": self.format,
            "corpus_sha256": self.corpus_sha256,
            "embedder": {"name": self.embedder, "dim": self.dim},
            "kgrag_version": self.kgrag_version,
            "built_at": self.built_at,
            "index_type": self.index_type,
            "passages": self.passages,
            "faiss": {"file": VECTORS, "sha256": self.faiss_sha256, "bytes": self.faiss_bytes},
            "passages_file": {
                "file": PASSAGES, "sha256": self.passages_sha256, "bytes": self.passages_bytes,
            },
            "rows_sha256": self.rows_sha256,
        }  # fmt: skip
        return {**fields, "checksum": _manifest_checksum(fields)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            format=str(data["format"]),
            corpus_sha256=str(data["corpus_sha256"]),
            embedder=str(data["embedder"]["name"]),
            dim=int(data["embedder"]["dim"]),
            kgrag_version=str(data["kgrag_version"]),
            built_at=str(data["built_at"]),
            index_type=data["index_type"],
            passages=int(data["passages"]),
            faiss_sha256=str(data["faiss"]["sha256"]),
            faiss_bytes=int(data["faiss"]["bytes"]),
            passages_sha256=str(data["passages_file"]["sha256"]),
            passages_bytes=int(data["passages_file"]["bytes"]),
            rows_sha256=str(data["rows_sha256"]),
        )


def _manifest_checksum(fields: dict[str, Any]) -> str:
    """sha256 of the manifest's fields (all but `checksum`), in a canonical JSON form."""
    canonical = json.dumps(
        {k: v for k, v in fields.items() if k != "checksum"}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rows_digest(rows: Sequence[Passage]) -> str:
    """The digest of the row → passage mapping: each row's passage content hash, in order."""
    return hashlib.sha256("\n".join(p.content_hash for p in rows).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class IndexState:
    """What `open_index` did and why (for the CLI and app to show)."""

    action: Action
    reason: str
    embedded: int


@dataclass(frozen=True)
class VectorIndex:
    """A loaded index: FAISS rows line up with `passages`."""

    path: Path
    manifest: Manifest
    passages: tuple[Passage, ...]
    faiss_index: Any = field(repr=False)
    state: IndexState

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[Passage, float]]]:
        """The `k` nearest passages (inner product = cosine) for each query row."""
        k = min(k, len(self.passages))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        scores, rows = self.faiss_index.search(np.ascontiguousarray(queries, np.float32), k)
        return [
            [(self.passages[r], float(s)) for r, s in zip(row, score, strict=True) if r >= 0]
            for row, score in zip(rows, scores, strict=True)
        ]

    def vectors(self) -> np.ndarray:
        """Every stored vector, in passage order."""
        return self.faiss_index.reconstruct_n(0, self.faiss_index.ntotal)


def default_index_dir() -> Path:
    """`KGRAG_INDEX_DIR`, else `index/` in the user's data folder."""
    env = os.environ.get("KGRAG_INDEX_DIR")
    return Path(env).expanduser() if env else user_data_dir() / "index"


def open_index(
    corpus: Corpus,
    embedder: Embedder,
    index_dir: Path | None = None,
    progress: bool = True,
    hnsw_threshold: int = HNSW_THRESHOLD,
) -> VectorIndex:
    """The index of `corpus` under `embedder`: reused if fresh, else refreshed or rebuilt on disk."""
    shown = Path(index_dir) if index_dir is not None else default_index_dir()
    folder = _index_folder(shown)
    # Reuse needs no lock and writes nothing (a read-only index works). A swap racing this read
    # makes the checksums disagree; the locked pass below then settles it.
    current, _ = _load(folder, shown)
    if current is not None and _fresh(current, corpus, embedder, passages(corpus)):
        return _with_state(current, IndexState("reused", "index is up to date", 0))
    with _build_lock(folder, shown):
        _remove_leftovers(folder)
        return _open_locked(corpus, embedder, folder, shown, progress, hnsw_threshold)


def _index_folder(index_dir: Path) -> Path:
    """The real folder to read and replace: a symlinked index folder is followed, not replaced."""
    folder = Path(os.path.realpath(index_dir))
    if folder.exists() and not folder.is_dir():
        raise IndexWriteError(
            f"the index path {index_dir} is not a folder; choose a folder with --index-dir or "
            "KGRAG_INDEX_DIR.", index_dir
        )  # fmt: skip
    return folder


@contextmanager
def _build_lock(folder: Path, shown: Path) -> Iterator[None]:
    """One builder per index folder (the app and a CLI command may start together)."""
    import fcntl

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        handle = (folder.parent / f".{folder.name}.lock").open("w")
    except OSError as exc:
        raise IndexWriteError(
            f"the index in {shown} is missing or out of date and cannot be written there "
            f"({exc.strerror or exc}); choose a folder you can write to with --index-dir or "
            "KGRAG_INDEX_DIR.", shown
        ) from exc  # fmt: skip
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _remove_leftovers(folder: Path) -> None:
    """Old folders of earlier swaps and staging folders of killed builds (we hold the lock)."""
    patterns = (f".{folder.name}-old", f".{folder.name}-old-*", f".{folder.name}-new-*")
    for pattern in patterns:
        for leftover in folder.parent.glob(pattern):
            if not remove_tree(leftover):
                log.warning("cannot remove %s left by an earlier build; delete it", leftover)


def _open_locked(
    corpus: Corpus,
    embedder: Embedder,
    folder: Path,
    shown: Path,
    progress: bool,
    hnsw_threshold: int,
) -> VectorIndex:
    wanted = passages(corpus)
    previous, problem = _load(folder, shown)
    if previous is not None and _fresh(previous, corpus, embedder, wanted):
        return _with_state(previous, IndexState("reused", "index is up to date", 0))
    reusable: dict[str, np.ndarray] = {}
    if previous is None:
        action: Action = "rebuilt" if problem else "built"
        reason = problem or f"no index in {shown}"
    elif _same_embedder(previous.manifest, embedder):
        action, reason = "updated", "the corpus or its passages changed"
        reusable = _vectors_by_hash(previous)
    else:
        action = "rebuilt"
        reason = (
            f"the index was made with {previous.manifest.embedder} "
            f"({previous.manifest.dim}-dim), not {embedder.name} ({embedder.dim}-dim)"
        )
    if problem:
        log.warning("index in %s is unusable (%s); rebuilding it", shown, problem)
    vectors, embedded = _embed(wanted, embedder, reusable, progress)
    index = _write(folder, shown, corpus, embedder, wanted, vectors, hnsw_threshold)
    return _with_state(index, IndexState(action, reason, embedded))


def _with_state(index: VectorIndex, state: IndexState) -> VectorIndex:
    return VectorIndex(index.path, index.manifest, index.passages, index.faiss_index, state)


def _fresh(index: VectorIndex, corpus: Corpus, embedder: Embedder, wanted: list[Passage]) -> bool:
    return (
        index.manifest.corpus_sha256 == corpus.sha256
        and _same_embedder(index.manifest, embedder)
        and [p.content_hash for p in index.passages] == [p.content_hash for p in wanted]
    )


def _same_embedder(manifest: Manifest, embedder: Embedder) -> bool:
    return manifest.embedder == embedder.name and manifest.dim == embedder.dim


def _vectors_by_hash(index: VectorIndex) -> dict[str, np.ndarray]:
    vectors = index.vectors()
    return {p.content_hash: vectors[i] for i, p in enumerate(index.passages)}


def _embed(
    wanted: list[Passage], embedder: Embedder, reusable: dict[str, np.ndarray], progress: bool
) -> tuple[np.ndarray, int]:
    """Vectors for every passage, embedding only those not in `reusable`."""
    from tqdm import tqdm

    todo = [i for i, p in enumerate(wanted) if p.content_hash not in reusable]
    vectors = np.zeros((len(wanted), embedder.dim), dtype=np.float32)
    for i, p in enumerate(wanted):
        if p.content_hash in reusable:
            vectors[i] = reusable[p.content_hash]
    with tqdm(
        total=len(todo), desc=f"Embedding passages ({embedder.name})", unit="passage",
        disable=not progress or not todo, file=sys.stderr,
    ) as bar:  # fmt: skip
        for start in range(0, len(todo), _EMBED_BATCH):
            rows = todo[start : start + _EMBED_BATCH]
            vectors[rows] = embedder.encode_documents([wanted[i].text for i in rows])
            bar.update(len(rows))
    return vectors, len(todo)


def build_faiss(vectors: np.ndarray, hnsw_threshold: int = HNSW_THRESHOLD) -> tuple[Any, IndexType]:
    """An exact inner-product index, or HNSW once there are more than `hnsw_threshold` vectors."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    dim = vectors.shape[1]
    index: Any
    if len(vectors) > hnsw_threshold:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind: IndexType = "hnsw"
    else:
        index = faiss.IndexFlatIP(dim)
        kind = "flat-ip"
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def _write(
    folder: Path,
    shown: Path,
    corpus: Corpus,
    embedder: Embedder,
    wanted: Sequence[Passage],
    vectors: np.ndarray,
    hnsw_threshold: int,
) -> VectorIndex:
    import faiss

    index, kind = build_faiss(vectors, hnsw_threshold)
    staging: Path | None = None
    try:
        # The files go into a fresh folder of our own, which is then swapped in whole: that is
        # what makes the index atomic (`kg.fsutil.atomic_write` is the one-file equivalent).
        staging = staging_dir(folder.parent, f".{folder.name}-new-")
        faiss.write_index(index, str(staging / VECTORS))
        _write_json(
            staging / PASSAGES, {"format": FORMAT, "passages": [_passage_json(p) for p in wanted]}
        )
        manifest = Manifest(
            format=FORMAT,
            corpus_sha256=corpus.sha256,
            embedder=embedder.name,
            dim=embedder.dim,
            kgrag_version=kgrag_version(),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            index_type=kind,
            passages=len(wanted),
            faiss_sha256=_sha256(staging / VECTORS),
            faiss_bytes=(staging / VECTORS).stat().st_size,
            passages_sha256=_sha256(staging / PASSAGES),
            passages_bytes=(staging / PASSAGES).stat().st_size,
            rows_sha256=rows_digest(wanted),
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
    if kind == "hnsw":
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return VectorIndex(shown, manifest, tuple(wanted), index, IndexState("built", "", len(wanted)))


def _swap_in(staging: Path, folder: Path) -> None:
    """Put `staging` in place of `folder` atomically, then remove the old contents."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    if _exchange(staging, folder):
        old = staging  # now holds the previous index
    else:
        old = staging_dir(folder.parent, f".{folder.name}-old-")
        os.rename(folder, old / "index")
        try:
            os.rename(staging, folder)
        except OSError:
            os.rename(old / "index", folder)  # put the previous index back
            raise
    if not remove_tree(old):
        log.warning("cannot remove the previous index in %s; the next build retries", old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def read_manifest(index_dir: Path | None = None) -> Manifest | None:
    """The manifest of the index in `index_dir` (None when there is none or it is unreadable)."""
    path = Path(os.path.realpath(index_dir if index_dir is not None else default_index_dir()))
    path = path / MANIFEST
    try:
        return Manifest.from_json(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _load(folder: Path, shown: Path) -> tuple[VectorIndex | None, str]:
    """The index in `folder`, or None and why it cannot be used ('' when there is none)."""
    if not (folder / MANIFEST).exists():
        return None, ""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"its manifest is unreadable ({exc})"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        return None, f"it has format {found!r}, this kgrag reads {FORMAT!r}"
    try:
        manifest = Manifest.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"its manifest is unreadable ({exc})"
    if data.get("checksum") != _manifest_checksum(data):
        return None, f"its {MANIFEST} was altered (its checksum differs)"
    for name, size, digest in (
        (VECTORS, manifest.faiss_bytes, manifest.faiss_sha256),
        (PASSAGES, manifest.passages_bytes, manifest.passages_sha256),
    ):
        problem = _file_problem(folder / name, size, digest)
        if problem:
            return None, problem
    try:
        records = json.loads((folder / PASSAGES).read_text("utf-8"))["passages"]
        loaded = tuple(_passage_from_json(r) for r in records)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{PASSAGES} is unreadable ({exc})"
    if rows_digest(loaded) != manifest.rows_sha256:
        return None, "its rows no longer match their passages (the row → passage hashes differ)"
    try:
        index = _read_faiss(folder / VECTORS)
    except RuntimeError as exc:
        return None, f"FAISS cannot read {VECTORS} ({str(exc).splitlines()[0]})"
    if index.ntotal != len(loaded) or index.d != manifest.dim or len(loaded) != manifest.passages:
        return None, "the FAISS file, passages and manifest disagree"
    return VectorIndex(shown, manifest, loaded, index, IndexState("reused", "", 0)), ""


def _file_problem(path: Path, size: int, digest: str) -> str:
    """'' when `path` has the recorded size and sha256, else what is wrong with it."""
    try:
        actual = path.stat().st_size
    except OSError:
        return f"{path.name} is missing"
    if actual != size or _sha256(path) != digest:
        return f"{path.name} is corrupt ({actual} bytes, checksum differs from the manifest)"
    return ""


def _read_faiss(path: Path) -> Any:
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index = faiss.read_index(str(path))
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def _passage_json(p: Passage) -> dict[str, Any]:
    return {
        "id": p.id,
        "paper_id": p.paper_id,
        "title": p.title,
        "ordinal": p.ordinal,
        "text": p.text,
    }


def _passage_from_json(r: dict[str, Any]) -> Passage:
    return Passage(
        str(r["id"]), str(r["paper_id"]), str(r["title"]), str(r["text"]), int(r["ordinal"])
    )


def _write_json(path: Path, value: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def kgrag_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kgrag")
    except PackageNotFoundError:
        return "0+unknown"

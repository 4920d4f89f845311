"""The persisted dense index: a FAISS file, passage metadata as JSON, and a manifest.

`open_index` reuses a fresh index, refreshes a stale one (re-embedding only passages whose text
changed, keyed by content hash), rebuilds one made by another embedder, and rejects a corrupt one
(unreadable manifest, a FAISS file whose hash or size does not match) with a clear reason before
rebuilding it. Every write goes to a new folder that replaces the old one in one rename.
Small corpora get an exact inner-product index; past `hnsw_threshold` vectors, HNSW.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kg.corpus import Corpus
from kg.errors import KgragError
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
]

FORMAT = "kgrag-index v1"
HNSW_THRESHOLD = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
MANIFEST, PASSAGES, VECTORS = "manifest.json", "passages.json", "vectors.faiss"
_EMBED_BATCH = 32

IndexType = Literal["flat-ip", "hnsw"]
Action = Literal["reused", "built", "updated", "rebuilt"]
log = logging.getLogger("kgrag.index")


class IndexWriteError(KgragError):
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

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "corpus_sha256": self.corpus_sha256,
            "embedder": {"name": self.embedder, "dim": self.dim},
            "kgrag_version": self.kgrag_version,
            "built_at": self.built_at,
            "index_type": self.index_type,
            "passages": self.passages,
            "faiss": {"file": VECTORS, "sha256": self.faiss_sha256, "bytes": self.faiss_bytes},
        }

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
        )


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
    index_dir = Path(index_dir) if index_dir is not None else default_index_dir()
    with _build_lock(index_dir):
        return _open_locked(corpus, embedder, index_dir, progress, hnsw_threshold)


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One builder per index folder (the app and a CLI command may start together)."""
    import fcntl

    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        handle = (index_dir.parent / f".{index_dir.name}.lock").open("w")
    except OSError as exc:
        raise IndexWriteError(
            f"cannot use the index folder {index_dir} ({exc}); choose another with "
            "--index-dir or KGRAG_INDEX_DIR."
        ) from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _open_locked(
    corpus: Corpus, embedder: Embedder, index_dir: Path, progress: bool, hnsw_threshold: int
) -> VectorIndex:
    wanted = passages(corpus)
    previous, problem = _load(index_dir)
    if previous is not None and _fresh(previous, corpus, embedder, wanted):
        return _with_state(previous, IndexState("reused", "index is up to date", 0))
    reusable: dict[str, np.ndarray] = {}
    if previous is None:
        action: Action = "rebuilt" if problem else "built"
        reason = problem or f"no index in {index_dir}"
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
        log.warning("index in %s is unusable (%s); rebuilding it", index_dir, problem)
    vectors, embedded = _embed(wanted, embedder, reusable, progress)
    index = _write(index_dir, corpus, embedder, wanted, vectors, hnsw_threshold)
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
    index_dir: Path,
    corpus: Corpus,
    embedder: Embedder,
    wanted: Sequence[Passage],
    vectors: np.ndarray,
    hnsw_threshold: int,
) -> VectorIndex:
    import faiss

    index, kind = build_faiss(vectors, hnsw_threshold)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}-new-", dir=index_dir.parent))
    try:
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
        )
        # The manifest is written last: a folder without one is never taken for an index.
        _write_json(staging / MANIFEST, manifest.to_json())
        _swap_in(staging, index_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexWriteError(
            f"cannot write the index to {index_dir} ({exc}); choose another folder with "
            "--index-dir or KGRAG_INDEX_DIR."
        ) from exc
    if kind == "hnsw":
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return VectorIndex(
        index_dir, manifest, tuple(wanted), index, IndexState("built", "", len(wanted))
    )


def _swap_in(staging: Path, index_dir: Path) -> None:
    """Replace `index_dir` by `staging`; the old folder is removed only once the new one is in."""
    old = index_dir.with_name(f".{index_dir.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(staging, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(index_dir: Path | None = None) -> Manifest | None:
    """The manifest of the index in `index_dir` (None when there is none or it is unreadable)."""
    path = (Path(index_dir) if index_dir is not None else default_index_dir()) / MANIFEST
    try:
        return Manifest.from_json(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _load(index_dir: Path) -> tuple[VectorIndex | None, str]:
    """The index in `index_dir`, or None and why it cannot be used ('' when there is none)."""
    if not (index_dir / MANIFEST).exists():
        return None, ""
    try:
        manifest = Manifest.from_json(json.loads((index_dir / MANIFEST).read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"its manifest is unreadable ({exc})"
    if manifest.format != FORMAT:
        return None, f"it has format {manifest.format!r}, this kgrag reads {FORMAT!r}"
    faiss_file = index_dir / VECTORS
    try:
        size = faiss_file.stat().st_size
    except OSError:
        return None, f"{VECTORS} is missing"
    if size != manifest.faiss_bytes or _sha256(faiss_file) != manifest.faiss_sha256:
        return None, f"{VECTORS} is corrupt ({size} bytes, checksum differs from the manifest)"
    try:
        records = json.loads((index_dir / PASSAGES).read_text("utf-8"))["passages"]
        loaded = tuple(_passage_from_json(r) for r in records)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{PASSAGES} is unreadable ({exc})"
    try:
        index = _read_faiss(faiss_file)
    except RuntimeError as exc:
        return None, f"FAISS cannot read {VECTORS} ({str(exc).splitlines()[0]})"
    if index.ntotal != len(loaded) or index.d != manifest.dim or len(loaded) != manifest.passages:
        return None, "the FAISS file, passages and manifest disagree"
    return VectorIndex(index_dir, manifest, loaded, index, IndexState("reused", "", 0)), ""


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

"""The `VectorStore` seam: where passage vectors live, chosen by a URI.

A store holds one row per passage, keyed by the passage id, with the passage's content hash and
its vector, plus the index manifest (`Manifest`), which it commits *last*: a store whose manifest
is missing or does not describe its rows is half-written and is rebuilt, never trusted.
`rag.indexing.index.open_index` does the rest the same way for every store (reuse when fresh, embed only
passages whose text is new, rebuild on another embedder), so a store only keeps rows.

Stores, by `KGRAG_VECTOR_URI` / `--vector-uri` (FAISS in `--index-dir` when unset):

- `faiss` — a folder (`faiss:///path/to/index`, or a plain folder path): FAISS files swapped in
  whole (`rag.stores.faiss`);
- `milvus-lite` — a local file (`/path/kg.db` or `milvus-lite:///path/kg.db`): Milvus Lite,
  embedded, no server (`rag.stores.milvus`, optional extra `kgrag[milvus]`);
- `milvus` — a Milvus standalone or cluster (`http://host:19530`, `https://…`), with
  `KGRAG_VECTOR_TOKEN` when it needs one.

HNSW indexes (FAISS past its threshold, a Milvus server always) are as deep as `hnsw_params` says
for the number of rows: one rule for every store.

A new store is one module with a class that satisfies `VectorStore` plus one line in `STORES`
(tests add a toy in-memory one with `register_store`).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kg.errors import KgragError, WriteError
from rag.passages import Passage

__all__ = [
    "FORMAT",
    "STORES",
    "HnswParams",
    "Manifest",
    "StoreTarget",
    "UnknownStoreError",
    "VectorStore",
    "hashes_digest",
    "hnsw_params",
    "open_store",
    "register_store",
    "store_kind",
]

FORMAT = "kgrag-index v2"
HNSW_THRESHOLD = 50_000
"""Past this many rows a store searches an HNSW graph instead of every vector."""


class IndexWriteError(WriteError):
    """The index folder cannot be written or read."""


class UnknownStoreError(KgragError):
    """A vector URI names no known store, or the store's package is not installed."""


@dataclass(frozen=True)
class Manifest:
    """What was indexed, with what, and the proof that the rows are intact."""

    format: str
    corpus_sha256: str
    embedder: str
    dim: int
    kgrag_version: str
    built_at: str
    index_type: str
    passages: int
    faiss_sha256: str = ""
    faiss_bytes: int = 0
    passages_sha256: str = ""
    passages_bytes: int = 0
    rows_sha256: str = ""
    """sha256 of the rows' passage content hashes in the store's row order."""
    store: str = "faiss"
    location: str = ""
    """Where the rows live, for a store other than the FAISS folder (a URI, a collection)."""

    def to_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "format": self.format,
            "corpus_sha256": self.corpus_sha256,
            "embedder": {"name": self.embedder, "dim": self.dim},
            "kgrag_version": self.kgrag_version,
            "built_at": self.built_at,
            "index_type": self.index_type,
            "passages": self.passages,
        }
        if self.store == "faiss":
            fields["faiss"] = {
                "file": "vectors.faiss", "sha256": self.faiss_sha256, "bytes": self.faiss_bytes,
            }  # fmt: skip
            fields["passages_file"] = {
                "file": "passages.json", "sha256": self.passages_sha256,
                "bytes": self.passages_bytes,
            }  # fmt: skip
        fields["rows_sha256"] = self.rows_sha256
        fields["store"] = self.store
        if self.location:
            fields["location"] = self.location
        return {**fields, "checksum": manifest_checksum(fields)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        faiss = data.get("faiss") or {}
        passages_file = data.get("passages_file") or {}
        return cls(
            format=str(data["format"]),
            corpus_sha256=str(data["corpus_sha256"]),
            embedder=str(data["embedder"]["name"]),
            dim=int(data["embedder"]["dim"]),
            kgrag_version=str(data["kgrag_version"]),
            built_at=str(data["built_at"]),
            index_type=str(data["index_type"]),
            passages=int(data["passages"]),
            faiss_sha256=str(faiss.get("sha256", "")),
            faiss_bytes=int(faiss.get("bytes", 0)),
            passages_sha256=str(passages_file.get("sha256", "")),
            passages_bytes=int(passages_file.get("bytes", 0)),
            rows_sha256=str(data["rows_sha256"]),
            store=str(data.get("store", "faiss")),
            location=str(data.get("location", "")),
        )


def manifest_checksum(fields: dict[str, Any]) -> str:
    """sha256 of the manifest's fields (all but `checksum`), in a canonical JSON form."""
    canonical = json.dumps(
        {k: v for k, v in fields.items() if k != "checksum"}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_manifest(data: Any) -> tuple[Manifest | None, str]:
    """A manifest read back from a store, or None and why it cannot be trusted."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        return None, f"it has format {found!r}, this kgrag reads {FORMAT!r}"
    try:
        manifest = Manifest.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"its manifest is unreadable ({exc})"
    if data.get("checksum") != manifest_checksum(data):
        return None, "its manifest.json was altered (its checksum differs)"
    return manifest, ""


@dataclass(frozen=True)
class HnswParams:
    """How deep an HNSW graph is built and searched (FAISS and Milvus use the same names)."""

    m: int
    """Links per node (`M`)."""
    ef_construction: int
    """Candidates kept while linking a new node (`efConstruction`)."""
    ef_search: int
    """Candidates kept while searching (`efSearch`, Milvus' `ef`); at least k in any case."""


_DECADES = (10_000, 100_000, 1_000_000)


def hnsw_params(rows: int) -> HnswParams:
    """The one rule for HNSW in every store: graphs and searches deepen as the rows grow, so that
    recall@10 stays at 0.95 or more (measured in docs/SCALING.md; a fixed depth fell to 0.72 at
    10⁶ rows).

    `d` = how many of 10⁴, 10⁵, 10⁶ the row count exceeds (0 to 3); M = 16 + 16·d,
    efConstruction = efSearch = 64·2^d: 16/64/64 up to 10⁴ rows, 32/128/128 up to 10⁵,
    48/256/256 up to 10⁶, 64/512/512 beyond (the bound: build time grows with M·efConstruction).
    Steps rather than a curve: the build parameters change only when the count crosses a decade,
    so an index (a Milvus server's above all) is rebuilt for them that rarely."""
    d = sum(rows > limit for limit in _DECADES)
    return HnswParams(m=16 + 16 * d, ef_construction=64 << d, ef_search=64 << d)


def rows_digest(rows: Sequence[Passage]) -> str:
    """The digest of the row → passage mapping: each row's passage content hash, in order."""
    return hashes_digest([p.content_hash for p in rows])


def hashes_digest(hashes: Sequence[str]) -> str:
    """The digest of a row → passage mapping: each row's passage content hash, in order."""
    return hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()


@runtime_checkable
class VectorStore(Protocol):
    """Rows of (passage id, content hash, vector) plus the manifest committed last.

    Writes (`clear`, `add`, `remove`) may be visible before `commit`; a store that was written
    without a matching commit reads back as unusable from `load` (half-written), not as fresh.
    """

    kind: str
    """`faiss`, `milvus-lite`, `milvus`, … (what `kgrag index --json` prints as `store`)."""
    location: str
    """Where it lives, as the user should see it (a folder, a file, a URI)."""

    def load(self) -> tuple[Manifest | None, str]:
        """The committed manifest when it describes the rows, else None and why ('' if empty)."""
        ...

    def rows(self) -> list[tuple[str, str]]:
        """(passage id, content hash) of every row, in the store's row order."""
        ...

    def count(self) -> int: ...

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of `ids`, in that order (float32, one row each)."""
        ...

    def clear(self, dim: int) -> None:
        """Drop every row (and the manifest): the next rows have `dim` dimensions."""
        ...

    def add(self, rows: Sequence[Passage], vectors: np.ndarray) -> None:
        """Insert rows (a row whose id exists is replaced)."""
        ...

    def remove(self, ids: Sequence[str]) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """The `k` nearest rows (passage id, inner product) for each query row, best first."""
        ...

    def commit(self, manifest: Manifest) -> Manifest:
        """Make the writes durable, then record `manifest` (completed by the store) last."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Held while one process brings the store up to date."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoreTarget:
    """What a store factory gets: the URI (or folder), where to show it, and tuning."""

    uri: str
    index_dir: Path
    """The folder shown by `--index-dir` (where FAISS lives when the URI names no folder)."""
    hnsw_threshold: int
    token: str = ""


StoreFactory = Callable[[StoreTarget], VectorStore]

STORES: dict[str, str] = {
    "faiss": "rag.stores.faiss:FaissStore",
    "milvus-lite": "rag.stores.milvus:MilvusStore",
    "milvus": "rag.stores.milvus:MilvusStore",
}
"""Store kind → `module:factory`, imported only when that store is used."""

_REGISTERED: dict[str, StoreFactory] = {}
_SERVER_SCHEMES = {"http": "milvus", "https": "milvus", "tcp": "milvus", "grpc": "milvus"}


def register_store(kind: str, factory: StoreFactory) -> None:
    """Add a store at run time (tests use this for a toy in-memory store)."""
    _REGISTERED[kind] = factory


def store_kind(uri: str | None) -> str:
    """Which store a URI names: `scheme://…` by its scheme, a `*.db` path Milvus Lite, any other
    path (or nothing) a FAISS folder."""
    if not uri:
        return "faiss"
    if "://" in uri:
        scheme = uri.split("://", 1)[0].lower()
        return _SERVER_SCHEMES.get(scheme, scheme)
    if uri.endswith(":"):  # `memory:`, `faiss:`
        return uri[:-1].lower()
    return "milvus-lite" if uri.endswith(".db") else "faiss"


def open_store(
    uri: str | None, index_dir: Path, hnsw_threshold: int, token: str | None = None
) -> VectorStore:
    """The store a URI names (FAISS in `index_dir` when `uri` is None or empty)."""
    kind = store_kind(uri)
    target = StoreTarget(
        uri or "", Path(index_dir), hnsw_threshold,
        token or "",
    )  # fmt: skip
    if kind in _REGISTERED:
        return _REGISTERED[kind](target)
    if kind not in STORES:
        known = ", ".join(sorted({*STORES, *_REGISTERED}))
        raise UnknownStoreError(
            f"the vector URI {uri!r} names no known store ({known}); use a folder, a file ending "
            "in .db (Milvus Lite) or http://host:19530 (a Milvus server) in --vector-uri or "
            "KGRAG_VECTOR_URI."
        )
    module_name, attr = STORES[kind].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = "milvus" if kind.startswith("milvus") else kind
        raise UnknownStoreError(
            f"the {kind} store needs a package that is not installed ({exc.name}); install it "
            f"with `pip install 'kgrag[{extra}]'`, or unset KGRAG_VECTOR_URI to use FAISS."
        ) from exc
    factory: StoreFactory = getattr(module, attr)
    return factory(target)


def batches(n: int, size: int) -> Iterator[slice]:
    """Slices of `range(n)` of at most `size` items."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))

"""The Milvus store: Milvus Lite (a local `.db` file, embedded) or a Milvus server / cluster.

One implementation on pymilvus' `MilvusClient` (optional extra `kgrag[milvus]`):

- `/path/kg.db` or `milvus-lite:///path/kg.db` — Milvus Lite, no server (milvus-lite package);
- `http://host:19530` (or `https://…`) — Milvus standalone or cluster, with `KGRAG_VECTOR_TOKEN`
  (`user:password` or an API key) when the server needs one.

`?collection=NAME` at the end of the URI names the collection (default `kgrag`; letters, digits
and `_`, not starting with a digit, as Milvus requires). Two collections: `NAME` holds one row per
passage (`id` = passage id, `hash` = content hash, `vector`), `NAME_manifest` the index
manifest. Every write session first deletes the manifest, and the manifest is written only after
the rows are flushed: rows without a manifest, or a manifest that does not match the rows (count,
row-hash digest, dimension), are a half-written store, rebuilt rather than trusted. Writers on
one Milvus Lite file take a lock file beside it; writers on one server collection must not run at
once (no lock spans machines).

Vectors are L2-normalised, so the inner product (`IP`) is the cosine, as in FAISS. Milvus Lite
searches exactly (FLAT). A server collection gets an HNSW index as deep as `rag.stores.base.hnsw_params`
says for its row count (the rule FAISS follows): built at the first commit or read, rebuilt by a
commit whose row count crosses into another step of the rule, and searched with that step's `ef`.
Both collections are created with Strong consistency, so a read sees every write before it (a
server's default, Bounded, may serve a search from before the last upsert or delete). A Strong
read waits for the server's next time tick (~0.2-0.3 s on a 2.3 standalone), so searches are
Strong only while this store has uncommitted writes; otherwise they are Eventually, which is
safe because `load` and `commit` end with a Strong read of the rows (a barrier: the query node
then serves nothing older). The rows are flushed at commit so that the server seals them into
indexed segments.

Milvus Lite writes even to read (a lock file in the `.db` folder), so the store checks first that
it can write there and says so in one line; what Milvus Lite logs while it starts (a full
traceback when it cannot) is kept out of the terminal, its reason put in kgrag's error instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from kg.errors import KgragError
from kg.fsutil import check_writable
from rag.passages import Passage
from rag.stores.base import (
    HnswParams,
    Manifest,
    StoreTarget,
    batches,
    check_manifest,
    hashes_digest,
    hnsw_params,
)

__all__ = ["MilvusStore", "MilvusStoreError"]

_BATCH = 1000
_ID_CHARS = 512
_MANIFEST_KEY = "manifest"
_MANIFEST_DIM = 2  # Milvus needs a vector field in every collection; the manifest's is unused
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
"""A collection name Milvus accepts, short enough for `NAME_manifest` (255 at most)."""


class MilvusStoreError(KgragError):
    """Milvus cannot be reached or refused an operation."""


def parse_uri(uri: str) -> tuple[str, str, bool]:
    """(what MilvusClient connects to, collection name, is it Milvus Lite)."""
    base, _, query = uri.partition("?")
    collection = parse_qs(query).get("collection", ["kgrag"])[0]
    if not _NAME.fullmatch(collection):
        raise MilvusStoreError(
            f"the collection name {collection!r} in {uri} is not one Milvus accepts: use letters, "
            "digits and _ (not starting with a digit), at most 200 characters."
        )
    if base.startswith("milvus-lite://"):
        base = base.removeprefix("milvus-lite://")
    scheme = urlsplit(base).scheme.lower() if "://" in base else ""
    if scheme:
        return base, collection, False
    return str(Path(base).expanduser().absolute()), collection, True


class MilvusStore:
    """`VectorStore` over a Milvus collection (Lite file or server)."""

    def __init__(self, target: StoreTarget) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # rag.stores.base turns this into "install kgrag[milvus]"
            raise exc
        self.uri, self.collection, self.lite = parse_uri(target.uri)
        self.kind = "milvus-lite" if self.lite else "milvus"
        self.location = self.uri if self.collection == "kgrag" else target.uri
        self.meta = f"{self.collection}_manifest"
        self._rows: dict[str, str] | None = None
        self._dim = 0
        self._dirty = False
        self._loaded: set[str] = set()
        if self.lite:
            self._check_writable()
        with _kept_logs("milvus_lite", "pymilvus") as logged:
            try:
                self.client: Any = MilvusClient(uri=self.uri, token=target.token)
            except Exception as exc:
                cause = next((r.exc_info[1] for r in logged if r.exc_info and r.exc_info[1]), exc)
                raise MilvusStoreError(
                    f"cannot open the Milvus store {self.location} ({_first_line(cause)}); check "
                    "KGRAG_VECTOR_URI / --vector-uri (and KGRAG_VECTOR_TOKEN for a server), or "
                    "unset it to use FAISS."
                ) from exc

    def _check_writable(self) -> None:
        """Milvus Lite cannot start where it cannot write: say so before it tries."""
        path = Path(self.uri)
        place = path if path.is_dir() else path.parent
        try:
            place.mkdir(parents=True, exist_ok=True)
            check_writable(place)
        except OSError as exc:
            raise MilvusStoreError(
                f"cannot open the Milvus Lite store {self.location}: {place} cannot be written "
                f"({exc.strerror or exc}), and Milvus Lite writes even to read. Put the .db in a "
                "folder you can write to (KGRAG_VECTOR_URI / --vector-uri), or unset it to use "
                "FAISS."
            ) from exc

    # ------------------------------------------------------------------ reading

    def load(self) -> tuple[Manifest | None, str]:
        with self._errors("read"):
            return self._load()

    def _load(self) -> tuple[Manifest | None, str]:
        self._rows = None
        has_rows = self._has(self.collection)
        record = self._manifest_record() if self._has(self.meta) else None
        if record is None:
            if has_rows:
                return None, (
                    f"collection {self.collection!r} has rows but no committed manifest (an "
                    "earlier write was interrupted)"
                )
            return None, ""
        try:
            data = json.loads(record)
        except ValueError as exc:
            return None, f"its manifest is unreadable ({exc})"
        manifest, problem = check_manifest(data)
        if manifest is None:
            return None, problem
        if not has_rows:
            return None, f"collection {self.collection!r} is missing"
        dim = self._collection_dim()
        rows = self.rows()
        if dim != manifest.dim or len(rows) != manifest.passages:
            return None, (
                f"collection {self.collection!r} holds {len(rows)} rows of {dim} dims, its "
                f"manifest {manifest.passages} of {manifest.dim} (a half-written store)"
            )
        if hashes_digest([digest for _, digest in rows]) != manifest.rows_sha256:
            return None, "its rows no longer match their passages (the row → passage hashes differ)"
        self._dim = dim
        self._barrier()
        return manifest, ""

    def rows(self) -> list[tuple[str, str]]:
        return sorted(self._row_hashes().items())

    def count(self) -> int:
        return len(self._row_hashes())  # not rows(): sorting 10⁵ rows on every search cost 40 ms

    def _row_hashes(self) -> dict[str, str]:
        """Passage id → content hash of every row: read once, then kept up to date by writes."""
        if self._rows is None:
            self._rows = {}
            if self._has(self.collection):
                for row in self._scan(["id", "hash"]):
                    self._rows[str(row["id"])] = str(row["hash"])
        return self._rows

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        found: dict[str, list[float]] = {}
        if ids:
            self._has(self.collection)
        for part in batches(len(ids), _BATCH):
            for row in self.client.get(self.collection, ids=list(ids[part]),
                                       output_fields=["vector"]):  # fmt: skip
                found[str(row["id"])] = row["vector"]
        matrix = np.zeros((len(ids), self._dim or self._collection_dim()), np.float32)
        for i, pid in enumerate(ids):
            matrix[i] = found[pid]
        return matrix

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        k = min(k, self.count())
        if k <= 0 or not self._has(self.collection):
            return [[] for _ in range(len(queries))]
        params: dict[str, Any] = {"metric_type": "IP"}
        level: dict[str, str] = {}
        if not self.lite:  # HNSW: as deep as the rule says, and never shallower than k
            params["params"] = {"ef": max(k, hnsw_params(self.count()).ef_search)}
            level["consistency_level"] = "Strong" if self._dirty else "Eventually"
        results = self.client.search(
            self.collection, data=np.asarray(queries, np.float32).tolist(), limit=k,
            search_params=params, **level,
        )  # fmt: skip
        return [[(str(hit["id"]), float(hit["distance"])) for hit in row] for row in results]

    # ------------------------------------------------------------------ writing

    def clear(self, dim: int) -> None:
        self._begin_write()
        with self._errors("clear"):
            for name in (self.collection, self.meta):
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
                self._loaded.discard(name)
            self._create(dim)
        self._rows, self._dim = {}, dim

    def add(self, rows: Sequence[Passage], vectors: np.ndarray) -> None:
        if not len(rows):
            return
        self._begin_write()
        if not self.client.has_collection(self.collection):  # writing needs no load (nor index)
            self._create(int(vectors.shape[1]))
        current = self._row_hashes()
        with self._errors("insert"):
            for part in batches(len(rows), _BATCH):
                data = {
                    p.id: {"id": p.id, "hash": p.content_hash, "vector": v.tolist()}
                    for p, v in zip(rows[part], np.asarray(vectors[part], np.float32), strict=True)
                }
                # An upsert is a delete plus an insert: only rows that exist go that way (a
                # delete recorded for each new id made every later search on a server ~2× slower).
                new = [row for pid, row in data.items() if pid not in current]
                old = [row for pid, row in data.items() if pid in current]
                if new:
                    self.client.insert(self.collection, new)
                if old:
                    self.client.upsert(self.collection, old)
                current.update((pid, row["hash"]) for pid, row in data.items())

    def remove(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self._begin_write()
        current = self._row_hashes()
        with self._errors("delete"):
            for part in batches(len(ids), _BATCH):
                self.client.delete(self.collection, ids=list(ids[part]))
        for pid in ids:
            current.pop(pid, None)

    def commit(self, manifest: Manifest) -> Manifest:
        import time

        self._begin_write()
        manifest = replace(
            manifest, store=self.kind, location=self.location,
            index_type="flat-ip" if self.lite else "hnsw",
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )  # fmt: skip
        with self._errors("commit"):
            if not self.client.has_collection(self.collection):
                self._create(manifest.dim)
            self.client.flush(self.collection)
            if not self.lite:
                self._fit_index(manifest.passages)
            if not self._has(self.meta):
                self._create_meta()
            record = json.dumps(manifest.to_json(), ensure_ascii=False)
            self.client.upsert(self.meta, [{"key": _MANIFEST_KEY, "value": record,
                                            "vector": [0.0] * _MANIFEST_DIM}])  # fmt: skip
            self._flush_meta()
            self._barrier()
        self._dirty = False
        return manifest

    def lock(self) -> AbstractContextManager[None]:
        return self._file_lock() if self.lite else contextlib.nullcontext()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # ------------------------------------------------------------------ helpers

    def _has(self, name: str) -> bool:
        """Whether collection `name` exists; if so it is loaded (a reopened one is released), and
        a server's rows indexed first (a server loads no collection without an index)."""
        if name in self._loaded:
            return True
        if not self.client.has_collection(name):
            return False
        if name == self.collection and not self.lite and self._built_index() is None:
            rows = int(self.client.get_collection_stats(name).get("row_count", 0))
            self._fit_index(rows)  # loads it
            return True
        self.client.load_collection(name)
        self._loaded.add(name)
        return True

    def _built_index(self) -> tuple[int, int] | None:
        """(M, efConstruction) of the server's HNSW index on the rows, or None if it has none."""
        if "vector" not in self.client.list_indexes(self.collection):
            return None
        found = self.client.describe_index(self.collection, "vector")
        return int(found.get("M", 0)), int(found.get("efConstruction", 0))

    def _fit_index(self, rows: int) -> None:
        """Give a server's rows the HNSW index the rule wants for `rows` rows, and load them:
        built when there is none, rebuilt (released, dropped, built) when M / efConstruction
        differ from the rule's."""
        want: HnswParams = hnsw_params(rows)
        have = self._built_index()
        if have != (want.m, want.ef_construction):
            if have is not None:
                self.client.release_collection(self.collection)
                self._loaded.discard(self.collection)
                self.client.drop_index(self.collection, "vector")
            index = self.client.prepare_index_params()
            index.add_index(field_name="vector", index_name="vector", metric_type="IP",
                            index_type="HNSW",
                            params={"M": want.m, "efConstruction": want.ef_construction})  # fmt: skip
            self.client.create_index(self.collection, index)
        if self.collection not in self._loaded:
            self.client.load_collection(self.collection)
            self._loaded.add(self.collection)

    def _barrier(self) -> None:
        """One Strong read of the rows: the server answers it only once its query node has
        caught up with every write so far, and serves no older state afterwards, so the
        Eventually searches that follow see all of them."""
        if not self.lite:
            self.client.query(self.collection, filter='id != ""', limit=1, output_fields=["id"],
                              consistency_level="Strong")  # fmt: skip

    def _flush_meta(self) -> None:
        """Milvus Lite persists what is flushed; a server has logged every acknowledged write
        already (flushing there only seals a segment per commit)."""
        if self.lite:
            self.client.flush(self.meta)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        import fcntl

        path = Path(self.uri)
        with (path.parent / f".{path.name}.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _begin_write(self) -> None:
        """Before the first write: delete the manifest, so a crash from here on reads back as a
        half-written store."""
        if self._dirty:
            return
        with self._errors("delete the manifest"):
            if self._has(self.meta):
                self.client.delete(self.meta, ids=[_MANIFEST_KEY])
                self._flush_meta()
        self._dirty = True

    def _create(self, dim: int) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=_ID_CHARS)
        schema.add_field("hash", DataType.VARCHAR, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        if self.lite:
            index = self.client.prepare_index_params()
            index.add_index(field_name="vector", metric_type="IP", index_type="FLAT")
            self.client.create_collection(self.collection, schema=schema, index_params=index,
                                          consistency_level="Strong")  # fmt: skip
            self._loaded.add(self.collection)
        else:
            # No index yet: the rows' HNSW is built once their count is known (`_fit_index`),
            # not built small while they stream in and then rebuilt.
            self.client.create_collection(self.collection, schema=schema,
                                          consistency_level="Strong")  # fmt: skip
        self._dim = dim

    def _create_meta(self) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("value", DataType.VARCHAR, max_length=65535)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=_MANIFEST_DIM)
        index = self.client.prepare_index_params()
        index.add_index(field_name="vector", metric_type="L2", index_type="FLAT")
        self.client.create_collection(self.meta, schema=schema, index_params=index,
                                      consistency_level="Strong")  # fmt: skip
        self._loaded.add(self.meta)

    def _manifest_record(self) -> str | None:
        rows = self.client.query(self.meta, ids=[_MANIFEST_KEY], output_fields=["value"])
        return str(rows[0]["value"]) if rows else None

    def _collection_dim(self) -> int:
        for spec in self.client.describe_collection(self.collection).get("fields", []):
            if spec.get("name") == "vector":
                return int(spec.get("params", {}).get("dim", 0))
        return 0

    def _scan(self, fields: list[str]) -> Iterator[dict[str, Any]]:
        import logging

        # Milvus Lite has no server timestamp to give the iterator; pymilvus warns each time.
        quiet = logging.getLogger("pymilvus")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            iterator = self.client.query_iterator(self.collection, batch_size=10_000,
                                                  output_fields=fields)  # fmt: skip
            try:
                while batch := iterator.next():
                    yield from batch
            finally:
                iterator.close()
        finally:
            quiet.setLevel(level)

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except MilvusStoreError:
            raise
        except Exception as exc:
            if type(exc).__name__ != "MilvusException":
                raise
            raise MilvusStoreError(
                f"Milvus refused to {what} in {self.location} ({_first_line(exc)})"
            ) from exc


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _kept_logs(*names: str) -> Iterator[list[logging.LogRecord]]:
    """The records these loggers emit, kept rather than printed (Milvus Lite logs a 13-line
    traceback when it cannot start, then pymilvus raises an error of its own)."""
    kept = _Kept()
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger.handlers, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.handlers, logger.propagate = [kept], False
    try:
        yield kept.records
    finally:
        for logger, (handlers, propagate) in zip(loggers, saved, strict=True):
            logger.handlers, logger.propagate = handlers, propagate


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

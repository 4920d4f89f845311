"""The `VectorStore` contract, run against every store: FAISS, Milvus Lite (started and stopped
by the tests, in tmp_path), a real Milvus standalone server (one per session,
`tests/fixtures/milvus_server.py`) and a toy in-memory store registered by the tests. A new store
proves itself by adding one subclass of `StoreContract`."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus, load_corpus
from rag.indexing.index import open_index
from rag.passages import Passage, passages
from rag.stores.base import (
    FORMAT,
    Manifest,
    UnknownStoreError,
    VectorStore,
    hashes_digest,
    hnsw_params,
    open_store,
    register_store,
    store_kind,
)
from tests.fixtures.kg import paper_entry
from tests.fixtures.memory_store import SLOTS, MemoryStore
from tests.fixtures.milvus_server import MilvusServer
from tests.test_readme import _documented_shapes, _keys

register_store("memory", MemoryStore)  # the one registry line of the toy store

NEW_PAPER = paper_entry(
    "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
    date="2023.12",
    org="Carnegie Mellon University",
    influence="选择性状态空间模型,线性时间处理长序列",
    abstract="我们提出了一种选择性状态空间模型,在长序列上以线性时间运行。",
)


def _unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _rows(n: int, prefix: str = "p") -> list[Passage]:
    return [Passage(f"{prefix}{i}#0", f"{prefix}{i}", f"T{i}", f"text {prefix} {i}", 0)
            for i in range(n)]  # fmt: skip


def _manifest(store: VectorStore, dim: int = 16) -> Manifest:
    return Manifest(FORMAT, "c" * 64, "toy", dim, "0", "", "", store.count(),
                    rows_sha256=hashes_digest([h for _, h in store.rows()]))  # fmt: skip


class StoreContract:
    """What every store must do. Subclasses provide `uri` (a fresh location per test)."""

    @pytest.fixture
    def uri(self, tmp_path: Path) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def make(self, uri: str, tmp_path: Path) -> Iterator[Callable[[], VectorStore]]:
        opened: list[VectorStore] = []

        def make() -> VectorStore:
            store = open_store(uri, tmp_path / "faiss-default", hnsw_threshold=50_000, token="")
            opened.append(store)
            return store

        yield make
        for store in opened:
            store.close()

    def test_a_new_store_is_empty_and_not_an_index(self, make) -> None:  # type: ignore[no-untyped-def]
        store = make()
        assert store.load() == (None, "")
        assert store.count() == 0 and store.rows() == []
        assert store.search(_unit(1), 5) == [[]]

    def test_added_rows_are_found_by_inner_product(self, make) -> None:  # type: ignore[no-untyped-def]
        store, rows, vectors = make(), _rows(20), _unit(20)
        store.clear(16)
        store.add(rows, vectors)
        assert store.count() == 20
        assert sorted(store.rows()) == sorted((p.id, p.content_hash) for p in rows)
        results = store.search(vectors[[3, 7]], 4)
        assert [hits[0][0] for hits in results] == ["p3#0", "p7#0"]
        assert results[0][0][1] == pytest.approx(1.0, abs=1e-4)
        want = np.argsort(-(vectors @ vectors[3]))[:4]
        assert [pid for pid, _ in results[0]] == [rows[i].id for i in want]
        assert [s for _, s in results[0]] == sorted((s for _, s in results[0]), reverse=True)
        np.testing.assert_allclose(store.vectors(["p5#0", "p1#0"]), vectors[[5, 1]], atol=1e-6)

    def test_adding_an_existing_id_replaces_the_row(self, make) -> None:  # type: ignore[no-untyped-def]
        store, rows, vectors = make(), _rows(5), _unit(6)
        store.clear(16)
        store.add(rows, vectors[:5])
        changed = Passage("p2#0", "p2", "T2", "new text", 0)
        store.add([changed], vectors[5:])
        assert store.count() == 5
        assert dict(store.rows())["p2#0"] == changed.content_hash
        np.testing.assert_allclose(store.vectors(["p2#0"]), vectors[5:], atol=1e-6)

    def test_removed_rows_are_gone(self, make) -> None:  # type: ignore[no-untyped-def]
        store, rows, vectors = make(), _rows(10), _unit(10)
        store.clear(16)
        store.add(rows, vectors)
        store.remove(["p0#0", "p4#0", "not-there#0"])
        assert store.count() == 8
        found = {pid for hits in store.search(vectors, 10) for pid, _ in hits}
        assert found == {p.id for p in rows} - {"p0#0", "p4#0"}

    def test_a_commit_survives_reopening(self, make) -> None:  # type: ignore[no-untyped-def]
        store, rows, vectors = make(), _rows(12), _unit(12)
        store.clear(16)
        store.add(rows, vectors)
        committed = store.commit(_manifest(store))
        assert committed.store == store.kind and committed.passages == 12
        store.close()
        again = make()
        manifest, problem = again.load()
        assert problem == "" and manifest == committed
        assert sorted(again.rows()) == sorted((p.id, p.content_hash) for p in rows)
        assert again.search(vectors[[9]], 1)[0][0][0] == "p9#0"

    def test_uncommitted_writes_never_pass_for_a_committed_index(self, make) -> None:  # type: ignore[no-untyped-def]
        """After a commit, writes without one: reopened, the store is either the committed index
        exactly (the writes never landed) or unusable with a reason (half-written)."""
        store = make()
        store.clear(16)
        store.add(_rows(6), _unit(6))
        committed = store.commit(_manifest(store))
        store.remove(["p1#0"])
        store.add(_rows(3, prefix="q"), _unit(3, seed=1))
        store.close()
        again = make()
        manifest, problem = again.load()
        if manifest is None:
            assert problem, "a half-written store says why"
        else:
            assert manifest == committed
            assert hashes_digest([h for _, h in again.rows()]) == committed.rows_sha256

    def test_open_index_builds_reuses_updates_and_rebuilds(
        self, uri: str, corpus: Corpus, hashing_embedder, tmp_path: Path
    ) -> None:  # type: ignore[no-untyped-def]
        def run(c: Corpus, embedder=hashing_embedder):  # type: ignore[no-untyped-def]
            return open_index(c, embedder, tmp_path / "ix", progress=False, vector_uri=uri)

        built = run(corpus)
        assert built.state.action == "built" and built.state.embedded == len(passages(corpus))
        assert built.manifest.store == store_kind(uri)
        assert run(corpus).state.action == "reused"
        grown_path = tmp_path / "grown.txt"
        grown_path.write_text(SHIPPED_CORPUS.read_text("utf-8") + "\n\n" + NEW_PAPER, "utf-8")
        hashing_embedder.documents_encoded.clear()
        updated = run(load_corpus(grown_path))
        assert updated.state.action == "updated" and updated.state.embedded == 1
        assert hashing_embedder.documents_encoded[0].startswith("Mamba")
        shrunk = run(corpus)  # `kgrag remove mamba`: nothing embedded, the row dropped
        assert shrunk.state.action == "updated" and shrunk.state.embedded == 0
        assert shrunk.manifest.passages == len(passages(corpus))
        target = shrunk.passages[5]
        [[(best, _), *_]] = shrunk.search(hashing_embedder.encode_queries([target.text]), 3)
        assert best.id == target.id

        class Other:
            name, dim = "other-8", 8

            def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
                return _unit(len(texts), 8)

            encode_queries = encode_documents

        rebuilt = run(corpus, Other())
        assert rebuilt.state.action == "rebuilt" and "test-hashing-256" in rebuilt.state.reason
        assert rebuilt.vectors().shape == (len(passages(corpus)), 8)


class TestFaissStore(StoreContract):
    @pytest.fixture
    def uri(self, tmp_path: Path) -> str:
        return str(tmp_path / "faiss-index")


class TestMemoryStore(StoreContract):
    _names = itertools.count()

    @pytest.fixture
    def uri(self) -> Iterator[str]:
        name = f"memory://test-{next(self._names)}"
        yield name
        SLOTS.pop(name, None)


class MilvusContract(StoreContract):
    """What both Milvus stores add: rows left without a manifest say so."""

    def test_rows_without_a_manifest_are_a_half_written_store(self, make) -> None:  # type: ignore[no-untyped-def]
        store = make()
        store.clear(16)
        store.add(_rows(4), _unit(4))  # killed before commit
        store.close()
        manifest, problem = make().load()
        assert manifest is None and "interrupted" in problem


class TestMilvusLiteStore(MilvusContract):
    @pytest.fixture
    def uri(self, tmp_path: Path) -> str:
        pytest.importorskip("pymilvus")
        pytest.importorskip("milvus_lite")
        return str(tmp_path / "milvus" / "kg.db")


class TestMilvusServerStore(MilvusContract):
    """The contract on a real Milvus server (`http://127.0.0.1:PORT?collection=…`, a fresh
    collection per test), where the rows get an HNSW index."""

    _names = itertools.count()

    @pytest.fixture
    def uri(self, milvus_server: MilvusServer) -> str:
        return milvus_server.collection_uri(f"contract_{next(self._names)}")

    def test_the_rows_get_the_hnsw_index_the_rule_wants(self, make) -> None:  # type: ignore[no-untyped-def]
        """Built at the first commit for its row count, rebuilt when a commit crosses into the
        next step of `hnsw_params` (10⁴ rows), found again after reopening."""
        store, vectors = make(), _unit(10_050, seed=3)
        store.clear(16)
        store.add(_rows(50), vectors[:50])
        assert store.commit(_manifest(store)).index_type == "hnsw"
        assert _server_index(store) == _rule(50) == (16, 64)
        store.add(_rows(10_000, prefix="b"), vectors[50:])
        store.commit(_manifest(store))
        assert _server_index(store) == _rule(10_050) == (32, 128)
        store.close()
        again = make()
        manifest, problem = again.load()
        assert problem == "" and manifest is not None and manifest.passages == 10_050
        assert again.search(vectors[[60]], 1)[0][0][0] == "b10#0"

    def test_collections_read_their_own_writes(self, make) -> None:  # type: ignore[no-untyped-def]
        """Strong consistency: a server's default (Bounded) may answer from before a write."""
        store = make()
        store.clear(16)
        store.add(_rows(3), _unit(3))
        store.commit(_manifest(store))
        for name in (store.collection, store.meta):  # type: ignore[attr-defined]
            described = store.client.describe_collection(name)  # type: ignore[attr-defined]
            assert described["consistency_level_name"] == "Strong", name


def _server_index(store: VectorStore) -> tuple[int, int]:
    found = store.client.describe_index(store.collection, "vector")  # type: ignore[attr-defined]
    assert found["index_type"] == "HNSW" and found["metric_type"] == "IP"
    return int(found["M"]), int(found["efConstruction"])


def _rule(rows: int) -> tuple[int, int]:
    params = hnsw_params(rows)
    return params.m, params.ef_construction


def test_a_collection_name_milvus_would_refuse_is_named_in_the_error() -> None:
    pytest.importorskip("pymilvus")
    from rag.stores.milvus import MilvusStoreError

    with pytest.raises(MilvusStoreError, match="letters, digits and _"):
        open_store("http://127.0.0.1:1?collection=my-papers", Path("/tmp"), 50_000, token="")


# ---------------------------------------------------------------------- choosing the store


def test_the_uri_names_the_store() -> None:
    assert store_kind(None) == store_kind("") == "faiss"
    assert store_kind("/data/index") == store_kind("faiss:///data/index") == "faiss"
    assert store_kind("/tmp/x/kg.db") == store_kind("milvus-lite:///tmp/kg.db") == "milvus-lite"
    assert store_kind("http://milvus:19530") == store_kind("https://z.cloud") == "milvus"
    assert store_kind("memory://a") == "memory"
    with pytest.raises(UnknownStoreError, match="KGRAG_VECTOR_URI"):
        open_store("qdrant://host:6333", Path("/tmp"), 50_000)


def test_the_environment_picks_the_store(
    corpus: Corpus, hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Only `Settings` reads the environment; the composition root opens the store it names."""
    from rag.engine import build_index
    from rag.settings import Settings

    monkeypatch.setenv("KGRAG_VECTOR_URI", "memory://from-env")
    try:
        settings = Settings.from_env(index_dir=tmp_path / "ix")
        index = build_index(settings, corpus, hashing_embedder, progress=False)
        assert index.manifest.store == "memory" and not (tmp_path / "ix").exists()
    finally:
        SLOTS.pop("memory://from-env", None)


# ---------------------------------------------------------------------- the CLI on Milvus Lite


def test_kgrag_on_milvus_lite_finds_what_faiss_finds(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`KGRAG_VECTOR_URI=<tmp>/kg.db kgrag index && kgrag search …`: the same top hits as FAISS,
    and `kgrag eval retrieval` scores within 0.01 (use-multilingual embedder)."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    common = {"KGRAG_EMBEDDER": "use-multilingual", "KGRAG_INDEX_DIR": str(tmp_path / "faiss")}
    milvus = {**common, "KGRAG_VECTOR_URI": str(tmp_path / "kg.db")}
    built = run_kgrag("index", "--json", **milvus)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["store"] == "milvus-lite" and report["action"] == "built"
    assert report["manifest"]["store"] == "milvus-lite" and report["path"].endswith("kg.db")
    again = json.loads(run_kgrag("index", "--json", **milvus).stdout)
    assert again["action"] == "reused"
    faiss_built = run_kgrag("index", "--json", "--vector-uri", str(tmp_path / "faiss"), **common)
    assert json.loads(faiss_built.stdout)["store"] == "faiss"
    for query in ("code model based on Llama 2", "长上下文 注意力 加速"):
        hits = {}
        for name, env in (("milvus", milvus), ("faiss", common)):
            done = run_kgrag("search", query, "--json", "--no-expand", **env)
            assert done.returncode == 0, done.stderr
            hits[name] = [h["id"] for h in json.loads(done.stdout)["results"]]
        assert hits["milvus"][:3] == hits["faiss"][:3]
    scores = {}
    for name, env in (("milvus", milvus), ("faiss", common)):
        done = run_kgrag("eval", "retrieval", "--json", **env)
        assert done.returncode == 0, done.stderr
        scores[name] = json.loads(done.stdout)["systems"]
    for system in ("dense", "hybrid"):
        for metric, value in scores["faiss"][system].items():
            assert abs(scores["milvus"][system][metric] - value) <= 0.01, (system, metric)


def test_kgrag_on_a_milvus_server_finds_what_faiss_finds(
    run_kgrag, milvus_server: MilvusServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`KGRAG_VECTOR_URI=http://127.0.0.1:PORT kgrag index --json && kgrag search …` on a real
    server: built into the default collection with an HNSW index, then reused, and the same top
    hits as FAISS (use-multilingual embedder)."""
    common = {"KGRAG_EMBEDDER": "use-multilingual", "KGRAG_INDEX_DIR": str(tmp_path / "faiss")}
    server = {**common, "KGRAG_VECTOR_URI": milvus_server.uri}
    built = run_kgrag("index", "--json", **server)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert (report["store"], report["index_type"], report["action"]) == ("milvus", "hnsw", "built")
    assert report["manifest"]["location"] == report["path"] == milvus_server.uri
    assert report.keys() == _documented_shapes()["index"].keys()
    again = json.loads(run_kgrag("index", "--json", **server).stdout)
    assert again["action"] == "reused" and again["passages"] == report["passages"]
    for query in ("code model based on Llama 2", "长上下文 注意力 加速"):
        hits = {}
        for name, env in (("milvus", server), ("faiss", common)):
            done = run_kgrag("search", query, "--json", "--no-expand", **env)
            assert done.returncode == 0, done.stderr
            hits[name] = [h["id"] for h in json.loads(done.stdout)["results"]]
        assert hits["milvus"][:3] == hits["faiss"][:3], query


def test_the_vector_uri_option_wins_over_the_environment(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = run_kgrag(
        "index", "--json", "--vector-uri", str(tmp_path / "ix"),
        KGRAG_EMBEDDER="use-multilingual", KGRAG_VECTOR_URI="qdrant://nowhere",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["store"] == "faiss" and (tmp_path / "ix" / "manifest.json").is_file()
    assert report["index_type"] == report["manifest"]["index_type"] == "flat-ip"
    assert report["embedded"] > 0 and report["passages_per_second"] > 0
    assert _keys(report) == _keys(_documented_shapes()["index"]), "README's `index --json` shape"
    bad = run_kgrag("index", KGRAG_VECTOR_URI="qdrant://nowhere")
    assert bad.returncode != 0 and "no known store" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------------- embedding on Ray


@pytest.fixture
def local_ray() -> Iterator[None]:
    """Ray Data for a test that starts a local Ray (`make` installs the [ray] extra); whatever
    the test leaves running is shut down when it ends, passed or not."""
    pytest.importorskip("ray.data")
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


def test_ray_embeds_the_same_vectors_as_one_process(
    corpus: Corpus, use_embedder, tmp_path: Path, local_ray: None
) -> None:  # type: ignore[no-untyped-def]
    from rag.embedding.ray_encoder import RayEncoder

    small = load_corpus_subset(corpus, tmp_path, 6)
    plain = open_index(small, use_embedder, tmp_path / "a", progress=False)
    # Two CPUs and a generous start-up timeout: a loaded machine starts Ray slowly (RayEncoder
    # retries the local start until then).
    with RayEncoder(
        "use-multilingual", use_embedder.dim, num_cpus=2, workers=2, start_timeout_s=300
    ) as encode:
        spread = open_index(small, use_embedder, tmp_path / "b", progress=False, encode=encode)
        assert encode.last_throughput and encode.last_throughput > 0
    assert spread.state.embedded == len(spread.passages) == len(plain.passages)
    np.testing.assert_allclose(spread.vectors(), plain.vectors(), atol=1e-5)
    import ray

    assert not ray.is_initialized(), "the local Ray started for the build is stopped"


def load_corpus_subset(corpus: Corpus, tmp_path: Path, n: int) -> Corpus:
    """The first `n` papers of the shipped list, as a file."""
    text = SHIPPED_CORPUS.read_text("utf-8")
    titles = [p.title for p in corpus.papers]
    cut = text.index(titles[n]) if n < len(titles) else len(text)
    path = tmp_path / "small.txt"
    path.write_text(text[:cut], "utf-8")
    return load_corpus(path)


def test_heavy_store_packages_are_not_imported_by_kgrag_papers() -> None:
    code = (
        "import sys, runpy; sys.argv=['kgrag','papers']; "
        "from ui.cli import main\n"
        "try:\n main()\nexcept SystemExit: pass\n"
        "bad=[m for m in ('pymilvus','milvus_lite','ray','faiss') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parents[1],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

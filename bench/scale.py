"""Scale: FAISS flat, FAISS HNSW, Milvus Lite, a Milvus server and the graph at 10⁴ and 10⁵
passages (`make bench`; 10⁶ and more only when asked: `python -m bench.scale --size 1000000`).

Everything here is SYNTHETIC. Passages: `bench.graph_scale.synthetic_corpus` papers (seed paper
fields under invented names, Chinese and English mixed, organisations, dates and lineage phrases
"基于 X" / "与 X 相比"), one passage each, ids `p<i>#0`. Vectors: `bench.retrieval
.synthetic_vectors`, 768-dim unit vectors clustered around topics (EmbeddingGemma's size), so no
embedder runs: embedding throughput is measured separately (`bench/retrieval.py`, and per Ray
worker by `kgrag index --ray`).

For each size and store, in a fresh process (so peak memory is its own): the build through the
store's real write path (`clear` + `add` + `commit`, manifest included), search p50/p95 for single
queries and per query in batches of 32, recall@10 against exact search, on-disk size and peak
memory (Milvus Lite's and the Milvus server's processes counted too). HNSW indexes (FAISS HNSW, at
every size here, and the Milvus server) are as deep as `rag.stores.base.hnsw_params` says for the size:
the `index` column names M / efConstruction / efSearch. The Milvus server is a real standalone
one (the `milvus` package, started as the tests start it: `tests/fixtures/milvus_server.py`), its
start not counted in the build; its disk is its data folder (WAL, segments, index files). The
`graph` row: a synthetic paper list of as many papers as passages, written to a file, loaded and
built into the graph (time and peak memory), then `kgrag lineage` and `kgrag papers --org`
queries timed on it.

Each run is watched: killed (with its children, the Milvus servers included) above
`--max-rss-gb` of resident memory or after `--max-minutes`, and reported as BROKE with the stage
it had reached: that is the "what breaks first" column. `--store` picks stores (or `graph`).

    python -m bench.scale --size 1000000 --max-rss-gb 14 --max-minutes 45
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SIZES = (10_000, 100_000)
STORES = ("faiss-flat", "faiss-hnsw", "milvus-lite", "milvus-server")
PARTS = (*STORES, "graph")
ORGS = ("Meta", "Google", "OpenAI")
DIM = 768
QUERIES = 200
BATCH = 32
MAX_RSS_GB = 14.0
MAX_MINUTES = 30.0
POLL_S = 0.5


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    print(f"synthetic passages, {DIM}-dim vectors, {QUERIES} queries (batches of {BATCH}); "
          f"each store in a child process, killed above {args.max_rss_gb:g} GiB RSS "
          f"(children included) or after {args.max_minutes:g} min")  # fmt: skip
    print(f"{'passages':>9} {'store':<13} {'index':<18} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'batch ms/q':>10} {'recall@10':>9} {'disk MB':>8} {'peak MB':>8}")  # fmt: skip
    for size in args.size or SIZES:
        with tempfile.TemporaryDirectory(prefix="kgrag-scale-") as tmp:
            exact: np.ndarray | None = None
            for store in args.store or PARTS:
                row = _run_child(store, size, Path(tmp), args.max_rss_gb, args.max_minutes)
                if "error" in row:
                    print(f"{size:>9} {store:<13} BROKE: {row['error']}", flush=True)
                    continue
                if store == "graph":
                    print(f"{size:>9} {'graph':<13} {'':<18} {row['build_s']:>8.1f}  {row['mb']:.0f} MB list: load "
                          f"{row['load_s']:.1f} s + build {row['graph_s']:.1f} s; lineage "
                          f"{row['lineage_ms']:.0f} ms, papers --org {row['org_ms']:.1f} ms"
                          f"{'':>3} {row['peak_mb']:>8.0f}", flush=True)  # fmt: skip
                    continue
                found = np.load(Path(tmp) / f"{store}.npy")
                exact = found if store == "faiss-flat" else exact
                recall = _recall(exact, found) if exact is not None else float("nan")
                started = f"  (server up in {row['start_s']:.0f} s)" if "start_s" in row else ""
                print(f"{size:>9} {store:<13} {row['index']:<18} {row['build_s']:>8.1f} "
                      f"{row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} {row['batch_ms']:>10.3f} "
                      f"{recall:>9.3f} {row['disk_mb']:>8.0f} {row['peak_mb']:>8.0f}{started}",
                      flush=True)  # fmt: skip
    print(
        "build: rows written through the store (FAISS: index + passages.json + manifest, "
        "swapped in; Milvus: inserts, flush, the server's HNSW index built and loaded, "
        "manifest). index: hnsw M/efConstruction/efSearch. peak MB: the measuring process "
        "plus the Milvus server (Lite's or standalone). recall@10 against FAISS flat (exact). BROKE: the store "
        "failed, or the watchdog killed it (the stage it had reached, its RSS and time then). "
        "graph: as many synthetic papers as passages, written as a paper list, loaded and built "
        "into the graph (build s = load + build); lineage and papers --org: median ms of "
        f"kg.queries.lineage over 3 roots and papers_by over {', '.join(ORGS)}."
    )


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--size", type=int, action="append", help="passages (repeatable)")
    parser.add_argument("--store", choices=PARTS, action="append",
                        help="a store, or graph (repeatable; default all)")  # fmt: skip
    parser.add_argument("--max-rss-gb", type=float, default=MAX_RSS_GB,
                        help="kill a store's run above this resident memory, children included")  # fmt: skip
    parser.add_argument("--max-minutes", type=float, default=MAX_MINUTES,
                        help="kill a store's run after this long")  # fmt: skip
    # `python -m bench scale` hands this module the runner's own arguments: ignore those.
    return parser.parse_known_args(argv)[0]


def _recall(exact: np.ndarray, found: np.ndarray) -> float:
    return float(
        np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(exact, found, strict=True)])
    )


def _run_child(
    store: str, size: int, tmp: Path, max_rss_gb: float, max_minutes: float
) -> dict[str, float | str]:
    """Measure one store at one size in a child process (its own session, so that a kill takes
    Milvus Lite's server with it), watched: killed above `max_rss_gb` of resident memory summed
    over the child and its descendants, or after `max_minutes`."""
    command = [sys.executable, "-m", "bench.scale", "--worker", store, str(size), str(tmp)]
    log = tmp / f"{store}.log"
    start = time.monotonic()
    peak_gb, killed = 0.0, ""
    with log.open("w", encoding="utf-8") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True,
                                 start_new_session=True)  # fmt: skip
        while child.poll() is None:
            rss_gb = _tree_rss_mb(child.pid) / 1024
            peak_gb = max(peak_gb, rss_gb)
            minutes = (time.monotonic() - start) / 60
            if rss_gb > max_rss_gb:
                killed = (
                    f"killed at {rss_gb:.1f} GiB RSS (limit {max_rss_gb:g}) after {minutes:.1f} min"
                )
            elif minutes > max_minutes:
                killed = f"killed after {max_minutes:g} min at {rss_gb:.1f} GiB RSS"
            if killed:
                _kill_tree(child.pid)
                child.wait()
                break
            time.sleep(POLL_S)
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    stages = [json.loads(line) for line in lines if line.startswith('{"stage"')]
    reached = f"; reached {stages[-1]['stage']} at {stages[-1]['s']:.0f} s" if stages else ""
    if killed:
        return {"error": f"{killed}{reached}, peak {peak_gb:.1f} GiB"}
    if child.returncode != 0:
        last = (lines or [f"exit {child.returncode}"])[-1]
        return {"error": f"exit {child.returncode}: {last[:160]}{reached}"}
    return dict(json.loads(lines[-1]))


def _kill_tree(pid: int) -> None:
    """SIGKILL `pid`'s group and every descendant: the Milvus server runs in a group of its own."""
    doomed = [int(p) for p in _descendants(str(pid))]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    for each in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)


def _descendants(pid: str) -> list[str]:
    found, todo = [], [pid]
    while todo:
        for child in _child_pids(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _tree_rss_mb(pid: int) -> float:
    """Current resident memory of process `pid` and all its descendants."""
    return _tree_status_mb(str(pid), "VmRSS:", with_root=True)


def _tree_status_mb(pid: str, field: str, with_root: bool) -> float:
    """The sum of a /proc status memory `field` over `pid`'s descendants (and `pid`)."""
    total, todo, seen = 0.0, [pid], {pid}
    while todo:
        current = todo.pop()
        if with_root or current != pid:
            try:
                for line in Path(f"/proc/{current}/status").read_text().splitlines():
                    if line.startswith(field):
                        total += int(line.split()[1]) / 1024
            except OSError:
                continue
        for child in _child_pids(current):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return total


def _child_pids(pid: str) -> list[str]:
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += (task / "children").read_text().split()
        except OSError:
            continue
    return children


def synthetic_passages(size: int) -> list:  # type: ignore[type-arg]
    """`size` passages of synthetic papers (see the module docstring)."""
    from bench.graph_scale import synthetic_corpus
    from kg.corpus import parse_corpus
    from rag.passages import Passage, paper_header

    # Parsing 10⁶ papers costs minutes and gigabytes (bench/graph_scale.py); the store only needs
    # rows of realistic text, so the 1,000 parsed papers are reused under new ids.
    papers = parse_corpus(synthetic_corpus(min(size, 1000)), "synthetic").papers
    texts = [f"{paper_header(p)}\n\n{p.abstract}" for p in papers]
    return [Passage(f"p{i}#0", f"p{i}", papers[i % len(papers)].title,
                    f"{texts[i % len(texts)]}\n{i}", 0) for i in range(size)]  # fmt: skip


def _graph_worker(size: int, tmp: Path, stage: Callable[[str], None]) -> dict[str, float]:
    """Load a synthetic paper list of `size` papers from a file, build its graph, then time a
    lineage query (`kgrag lineage`) and a `kgrag papers --org` query on it."""
    from bench.graph_scale import invented_name, synthetic_corpus
    from bench.retrieval import _peak_mb
    from kg.corpus import load_corpus
    from kg.graph import build_graph
    from kg.queries import lineage, papers_by

    path = tmp / "synthetic-papers.txt"
    path.write_text(synthetic_corpus(size), encoding="utf-8")
    # This (child) process reads a list past the default size limit on purpose.
    os.environ["KGRAG_MAX_CORPUS_MB"] = str(path.stat().st_size / 1e6 + 1)
    stage("paper list written")
    start = time.perf_counter()
    corpus = load_corpus(path)
    loaded = time.perf_counter()
    stage("loaded")
    kg = build_graph(corpus)
    built = time.perf_counter()
    stage("graph built")
    lineage_ms, org_ms = [], []
    for i in (size // 100, size // 10, size // 2):
        t = time.perf_counter()
        family = lineage(kg, invented_name(i))
        lineage_ms.append(1000 * (time.perf_counter() - t))
        assert family.ancestors, f"synthetic paper {i} has no lineage"
    for org in ORGS:
        t = time.perf_counter()
        assert papers_by(kg, org=org)
        org_ms.append(1000 * (time.perf_counter() - t))
    return {"mb": path.stat().st_size / 1e6, "build_s": built - start, "load_s": loaded - start, "graph_s": built - loaded,
            "lineage_ms": statistics.median(lineage_ms), "org_ms": statistics.median(org_ms),
            "peak_mb": _peak_mb()}  # fmt: skip


def _worker(store_name: str, size: int, tmp: Path) -> None:
    from bench.retrieval import synthetic_vectors

    began = time.perf_counter()

    def stage(name: str) -> None:  # read by the watchdog when it has to kill this process
        print(json.dumps({"stage": name, "s": time.perf_counter() - began}), flush=True)

    if store_name == "graph":
        print(json.dumps(_graph_worker(size, tmp, stage)))
        return
    rows = synthetic_passages(size)
    vectors = synthetic_vectors(size, DIM)
    stage("data generated")
    rng = np.random.default_rng(2)
    picks = rng.integers(0, size, QUERIES)
    queries = vectors[picks] + rng.standard_normal((QUERIES, DIM), np.float32) * (0.6 / DIM**0.5)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    where = tmp / store_name
    with _store_uri(store_name, where) as (uri, started):
        stage("store ready")
        row = _measure(store_name, uri, where, rows, vectors, queries, stage, tmp)
        row["disk_mb"] = _disk_mb(where / "data" if started is not None else where)
    if started is not None:
        row["start_s"] = started
    print(json.dumps(row))


@contextmanager
def _store_uri(store_name: str, where: Path) -> Iterator[tuple[str, float | None]]:
    """The store's URI, and for the Milvus server how long it took to start (it is started
    here, in `where`, and stopped on leaving: a child of this process, so the watchdog sees it)."""
    if store_name != "milvus-server":
        yield (str(where / "kg.db") if store_name == "milvus-lite" else str(where)), None
        return
    from tests.fixtures.milvus_server import running_milvus_server

    where.mkdir(parents=True)
    with running_milvus_server(where) as server:
        yield server.collection_uri("scale"), server.start_s


def _measure(
    store_name: str,
    uri: str,
    where: Path,
    rows: list,  # type: ignore[type-arg]
    vectors: np.ndarray,
    queries: np.ndarray,
    stage: Callable[[str], None],
    tmp: Path,
) -> dict[str, float | str]:
    """Build the store through its write path, then time single and batched queries."""
    from bench.retrieval import _peak_mb, _percentile
    from rag.stores.base import FORMAT, Manifest, hashes_digest, hnsw_params, open_store

    size = len(rows)
    threshold = 0 if store_name == "faiss-hnsw" else size + 1
    start = time.perf_counter()
    store = open_store(uri, where, hnsw_threshold=threshold, token="")
    store.clear(DIM)
    for part in range(0, size, 50_000):
        store.add(rows[part : part + 50_000], vectors[part : part + 50_000])
    stage("rows added")
    manifest = store.commit(Manifest(FORMAT, "0" * 64, "synthetic", DIM, "0", "", "", store.count(),
                            rows_sha256=hashes_digest([h for _, h in store.rows()])))  # fmt: skip
    build_s = time.perf_counter() - start
    stage("built")
    params = hnsw_params(size)
    index = manifest.index_type
    if index == "hnsw":
        index = f"hnsw {params.m}/{params.ef_construction}/{params.ef_search}"
    single, found = [], []
    for q in queries:
        t = time.perf_counter()
        hits = store.search(q.reshape(1, -1), 10)[0]
        single.append(1000 * (time.perf_counter() - t))
        found.append([int(pid[1:].split("#")[0]) for pid, _ in hits] + [-1] * (10 - len(hits)))
    stage("single queries done")
    t = time.perf_counter()
    for b in range(0, QUERIES, BATCH):
        store.search(queries[b : b + BATCH], 10)
    batch_ms = 1000 * (time.perf_counter() - t) / QUERIES
    peak = _peak_mb() + _children_peak_mb()
    store.close()
    np.save(tmp / f"{store_name}.npy", np.array(found))
    return {"index": index, "build_s": build_s, "p50_ms": _percentile(single, 50),
            "p95_ms": _percentile(single, 95), "batch_ms": batch_ms, "peak_mb": peak}  # fmt: skip


def _disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def _children_peak_mb() -> float:
    """Peak resident memory of this process's descendants (Milvus Lite runs a server process)."""
    return _tree_status_mb(str(os.getpid()), "VmHWM:", with_root=False)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()

"""Retrieval benchmarks (printed figures, no assertions; ratios come from the same run):

1. index build time for the seed corpus with each embedder;
2. encode throughput through kgrag's `Embedder` against a bare `SentenceTransformer.encode`
   on the same texts;
3. warm hybrid query latency p50/p95 over the dev questions;
4. a 100,000-passage synthetic scale run, exact (`IndexFlatIP`) against HNSW FAISS: build time,
   p50 single-query time, peak memory (each in a fresh subprocess), HNSW recall@10 against exact.

`python -m bench.retrieval [--passages N]`; `BENCH_SCALE_PASSAGES` also sets the scale size.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SCALE_PASSAGES = 100_000
SCALE_DIM = 768
SCALE_QUERIES = 200
THROUGHPUT_TEXTS = 8
THROUGHPUT_REPEATS = 3
LATENCY_QUERIES = 20


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    passages = int(os.environ.get("BENCH_SCALE_PASSAGES", SCALE_PASSAGES))
    if "--passages" in argv:
        passages = int(argv[argv.index("--passages") + 1])
    print(f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="kgrag-bench-") as tmp:
        retrievers = bench_index_build(Path(tmp))
        bench_encode_throughput(retrievers["embeddinggemma-300m"].embedder)
        bench_query_latency(retrievers)
    bench_scale(passages)


# ------------------------------------------------------------------ seed corpus


def bench_index_build(tmp: Path) -> dict:  # type: ignore[type-arg]
    from kg.corpus import SHIPPED_CORPUS, load_corpus
    from kg.graph import build_graph
    from rag.embedding.embedders import load_embedder
    from rag.indexing.index import open_index
    from rag.retrieval.retrieve import Retriever

    corpus = load_corpus(SHIPPED_CORPUS)
    kg = build_graph(corpus)
    print(f"\n[index build] seed corpus: {len(corpus.papers)} papers")
    retrievers = {}
    for spec in ("embeddinggemma-300m", "use-multilingual"):
        start = time.perf_counter()
        embedder = load_embedder(spec)
        loaded = time.perf_counter()
        index = open_index(corpus, embedder, tmp / spec, progress=False)
        built = time.perf_counter()
        reopened = open_index(corpus, embedder, tmp / spec, progress=False)
        reused = time.perf_counter()
        print(
            f"  {spec:<20} load {loaded - start:6.1f} s   build {built - loaded:6.1f} s "
            f"({len(index.passages)} passages, {len(index.passages) / (built - loaded):.1f}/s)   "
            f"reopen ({reopened.state.action}) {1000 * (reused - built):6.1f} ms"
        )
        retrievers[spec] = Retriever(kg, index, embedder)
    return retrievers


def bench_encode_throughput(embedder) -> None:  # type: ignore[no-untyped-def]
    from kg.corpus import SHIPPED_CORPUS, load_corpus
    from rag.passages import passages

    texts = [p.text for p in passages(load_corpus(SHIPPED_CORPUS))][:THROUGHPUT_TEXTS]
    model = embedder.model
    model.encode_document(texts[:2])  # warm-up
    ours, bare = [], []
    # Alternate the two and keep each one's best run: the machine is shared, so single runs are noisy.
    for _ in range(THROUGHPUT_REPEATS):
        start = time.perf_counter()
        embedder.encode_documents(texts)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.encode_document(texts, batch_size=16, normalize_embeddings=True)
        bare.append(time.perf_counter() - start)
    ours_s, bare_s = min(ours), min(bare)
    print(f"\n[encode throughput] {len(texts)} passages, EmbeddingGemma-300M, best of "
          f"{THROUGHPUT_REPEATS}")  # fmt: skip
    print(f"  kgrag Embedder.encode_documents  {len(texts) / ours_s:6.2f} passages/s")
    print(f"  bare SentenceTransformer.encode  {len(texts) / bare_s:6.2f} passages/s")
    print(f"  ratio kgrag/bare time            {ours_s / bare_s:6.2f}")


def bench_query_latency(retrievers: dict) -> None:  # type: ignore[type-arg]
    from kg.corpus import SHIPPED_CORPUS, load_corpus
    from rag.evaluation.retrieval import DEV_QUESTIONS, load_questions

    questions = load_questions(DEV_QUESTIONS, load_corpus(SHIPPED_CORPUS))[:LATENCY_QUERIES]
    print(f"\n[hybrid query latency] warm, {len(questions)} dev questions, k=5 + graph expansion")
    for spec, retriever in retrievers.items():
        retriever.search(questions[0].question)  # warm-up
        times = []
        for q in questions:
            start = time.perf_counter()
            retriever.search(q.question, 5)
            times.append(time.perf_counter() - start)
        p50, p95 = _percentile(times, 50), _percentile(times, 95)
        print(f"  {spec:<20} p50 {1000 * p50:7.1f} ms   p95 {1000 * p95:7.1f} ms")


# ------------------------------------------------------------------ scale


def bench_scale(passages: int) -> None:
    print(f"\n[scale] {passages:,} synthetic passages, {SCALE_DIM}-dim, {SCALE_QUERIES} queries")
    with tempfile.TemporaryDirectory(prefix="kgrag-scale-") as tmp:
        results = {kind: _scale_worker_run(kind, passages, Path(tmp)) for kind in ("flat", "hnsw")}
        exact = np.load(Path(tmp) / "flat.npy")
        approx = np.load(Path(tmp) / "hnsw.npy")
    recall = float(
        np.mean([len(set(a) & set(b)) / a.size for a, b in zip(exact, approx, strict=True)])
    )
    for kind, r in results.items():
        print(
            f"  {kind:<5} build {r['build_s']:7.2f} s   p50 query {1000 * r['p50_s']:7.3f} ms   "
            f"peak RSS {r['peak_mb']:6.0f} MB (+{r['peak_mb'] - r['base_mb']:.0f} MB over the "
            f"{r['base_mb']:.0f} MB before building)   "
            f"file {r['file_mb']:.0f} MB, metadata JSON {r['meta_mb']:.0f} MB"
        )
    flat, hnsw = results["flat"], results["hnsw"]
    print(f"  HNSW recall@10 vs exact          {recall:.3f}")
    print(f"  ratio build time hnsw/flat       {hnsw['build_s'] / flat['build_s']:.1f}")
    print(f"  ratio p50 query flat/hnsw        {flat['p50_s'] / hnsw['p50_s']:.1f}")
    print(f"  ratio peak memory hnsw/flat      {hnsw['peak_mb'] / flat['peak_mb']:.2f}")


def _scale_worker_run(kind: str, passages: int, tmp: Path) -> dict:  # type: ignore[type-arg]
    """Measure one index type in a fresh process, so peak memory is its own."""
    command = [sys.executable, "-m", "bench.retrieval", "--scale-worker", kind, str(passages),
               str(tmp)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def synthetic_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Unit vectors clustered around topics, like embeddings of papers on a few hundred subjects.
    Filled in blocks so that generating them does not inflate the process's peak memory."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(n // 100, 1), dim), dtype=np.float32)
    vectors = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 10_000):
        block = vectors[start : start + 10_000]
        block[:] = rng.standard_normal(block.shape, dtype=np.float32)
        block *= 1.2
        block += centres[rng.integers(0, len(centres), len(block))]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def _synthetic_metadata(n: int, tmp: Path) -> float:
    """Write passage metadata of realistic lengths (like the seed's ~300–700 chars) as JSON."""
    rng = np.random.default_rng(1)
    lengths = np.clip(rng.lognormal(6.1, 0.3, n).astype(int), 80, 2000)
    filler = "检索增强生成 retrieval augmented generation " * 60
    records = [
        {"id": f"p{i}#0", "paper_id": f"p{i}", "title": f"Paper {i}", "ordinal": 0,
         "text": filler[: int(length)]}
        for i, length in enumerate(lengths)
    ]  # fmt: skip
    path = tmp / "passages.json"
    path.write_text(json.dumps({"passages": records}, ensure_ascii=False), "utf-8")
    return path.stat().st_size / 2**20


def _scale_worker(kind: str, passages: int, tmp: Path) -> None:
    import faiss

    from rag.stores.faiss import build_faiss

    vectors = synthetic_vectors(passages, SCALE_DIM)
    rng = np.random.default_rng(2)
    picks = rng.integers(0, passages, SCALE_QUERIES)
    noise = rng.standard_normal((SCALE_QUERIES, SCALE_DIM), np.float32) * (0.6 / SCALE_DIM**0.5)
    queries = vectors[picks] + noise  # a query sits near, not on, a passage
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    base_mb = _peak_mb()
    start = time.perf_counter()
    index, _ = build_faiss(vectors, hnsw_threshold=passages if kind == "flat" else 0)
    build_s = time.perf_counter() - start
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), 10)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    peak_mb = _peak_mb()
    np.save(tmp / f"{kind}.npy", np.array(found))
    faiss.write_index(index, str(tmp / f"{kind}.faiss"))
    file_mb = (tmp / f"{kind}.faiss").stat().st_size / 2**20
    meta_mb = _synthetic_metadata(passages, tmp) if kind == "flat" else 0.0
    print(json.dumps({"build_s": build_s, "p50_s": _percentile(times, 50),
                      "peak_mb": peak_mb, "base_mb": base_mb, "file_mb": file_mb,
                      "meta_mb": meta_mb}))  # fmt: skip


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, unlike ru_maxrss, is not inherited across exec
    from the (model-holding) parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--scale-worker":
        _scale_worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()

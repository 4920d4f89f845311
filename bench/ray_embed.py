"""`kgrag index --ray` on local workers: passages/s with 1 and 2 workers against the embedder in
the calling process, and the fixed cost of one Ray embedding call, from one run.

Texts: the passages of both shipped corpora, repeated `COPIES` times (each call embeds them all).
Rows, each the best of `REPEATS` calls:
- in process: the default embedder (EmbeddingGemma int8) loaded once, no Ray, on every core and
  on one thread;
- Ray: `rag.embedding.ray_encoder.RayEncoder` on a local Ray of C CPUs with N workers (each
  given C / N CPUs and as many threads); every call starts its actors, which load the embedder,
  so a call includes that cost. Scaling with workers is 2 workers of 1 CPU against 1 of 1 CPU
  (on a 2-core box more workers cannot add cores);
- overhead: a Ray call on 2 texts (what a call costs beyond embedding: the dataset, the actors,
  the model load), per worker count.
Prints figures; asserts nothing. Needs `kgrag models --install` and the `ray` extra.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kg.corpus import load_corpus
from rag import passages as passage_module
from rag.embedding.embedders import load_embedder
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPORA = (ROOT / "data" / "ai_papers_2023.txt", ROOT / "data" / "eval" / "papers_2024.txt")
COPIES = 4
REPEATS = 2


def main() -> None:
    try:
        from rag.embedding.ray_encoder import RayEncoder
    except ImportError:
        print("Ray is not installed (pip install 'kgrag[ray]')")
        return
    settings = Settings.from_env()
    spec, backend = settings.embedder, settings.embedder_backend
    texts = [p.text for path in CORPORA for p in passage_module.passages(load_corpus(path))]
    texts = [f"{t} ({copy})" for copy in range(COPIES) for t in texts]  # no two alike
    print("== Ray embedding on local workers ==")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (shared machine); "
          f"{len(texts)} passages, embedder {spec} {backend or 'default'}")  # fmt: skip
    rows = []
    for threads in (None, 1):
        embedder = load_embedder(spec, backend, threads)
        embedder.encode_documents(texts[:4])  # warm-up
        rows.append((f"in process, {threads or 'all'} thread(s)",
                     _best(lambda e=embedder: e.encode_documents(texts)), None))  # fmt: skip
    for cpus, workers in ((1, 1), (2, 1), (2, 2)):
        with RayEncoder(spec, embedder.dim, workers=workers, num_cpus=cpus,
                        backend=backend) as encoder:  # fmt: skip
            encoder(texts[:2])  # Ray's own first-call costs (the dataset machinery)
            seconds = _best(lambda: encoder(texts))
            overhead = _best(lambda: encoder(texts[:2]))
        rows.append((f"Ray, {cpus} CPU, {workers} worker(s)", seconds, overhead))
    base = rows[0][1]
    print(f"{'run':<28} {'passages/s':>10} {'ratio':>6} {'call on 2 texts s':>18}")
    for label, seconds, overhead in rows:
        tail = f"{overhead:>18.2f}" if overhead is not None else ""
        print(f"{label:<28} {len(texts) / seconds:>10.2f} {base / seconds:>5.2f}× {tail}")
    one, two = rows[2][1], rows[4][1]
    print(f"2 workers of 1 CPU against 1 worker of 1 CPU: {one / two:.2f}× the passages/s")


def _best(call: Callable[[], Sequence[object] | object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()

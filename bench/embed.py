"""Embedding throughput and fidelity of EmbeddingGemma's ONNX flavours, from one run.

On the passages of the seed corpus and the 2024 eval corpus (both languages), document side:
- the float export in batches of up to 16 (its batch size before the int8 flavour), the float export as it
  runs now (batches of 4 of similar lengths: `rag.embedding.onnx_embedder._batches`), the int8
  flavour as it runs now, and the int8 flavour one text at a time;
- passages per second (best of `REPEATS`), each ratio to the first run;
- cosine of each flavour's vectors to the float export's: minimum, 5th percentile, mean.
Prints figures; asserts nothing. Timings on a shared machine are noisy: compare the ratios.
Needs `kgrag models --install` (the model, its export and the int8 flavour).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kg.corpus import load_corpus
from rag import passages as passage_module
from rag.embedding import onnx_embedder
from rag.embedding.onnx_embedder import INT8_MODEL, OnnxEmbedder, export_dir, int8_is_current
from rag.models.catalogue import EMBEDDINGGEMMA, embeddinggemma_path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = (ROOT / "data" / "ai_papers_2023.txt", ROOT / "data" / "eval" / "papers_2024.txt")
REPEATS = 2


def main() -> None:
    print("== embedding: EmbeddingGemma float export vs int8 flavour ==")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (shared machine)")
    model_dir = embeddinggemma_path()
    if not int8_is_current(model_dir, EMBEDDINGGEMMA.sha256):
        print("no checked int8 flavour: run `kgrag models --install` first")
        return
    texts = [p.text for path in CORPORA for p in passage_module.passages(load_corpus(path))]
    folder = export_dir(model_dir)
    float_model = OnnxEmbedder.load(model_dir, folder, name="float")
    int8_model = OnnxEmbedder.load(model_dir, folder, name="int8", model_file=INT8_MODEL)
    runs = (("float, ≤16 a batch", float_model, 16), ("float, now", float_model, None),
            ("int8, now", int8_model, None), ("int8, one at a time", int8_model, 1))  # fmt: skip
    print(f"{len(texts)} passages, {sum(map(len, texts))} characters")
    print(f"{'run':<22} {'passages/s':>10} {'ratio':>6} {'cos min':>8} {'cos p5':>7} {'mean':>7}")
    reference: np.ndarray | None = None
    baseline = 0.0
    for label, model, batch in runs:
        rate, vectors = _throughput(model, texts, batch)
        reference = vectors if reference is None else reference
        baseline = baseline or rate
        cosines = np.sum(vectors * reference, axis=1)
        print(f"{label:<22} {rate:>10.2f} {rate / baseline:>5.2f}× {cosines.min():>8.4f} "
              f"{np.percentile(cosines, 5):>7.4f} {cosines.mean():>7.4f}")  # fmt: skip


def _throughput(
    model: OnnxEmbedder, texts: Sequence[str], batch: int | None
) -> tuple[float, np.ndarray]:
    """Best passages per second of `REPEATS` runs, and the vectors."""
    with _batch_size(batch):
        model.encode_documents(texts[:4])  # warm-up: ONNX Runtime plans on the first run
        best = float("inf")
        for _ in range(REPEATS):
            start = time.perf_counter()
            vectors = model.encode_documents(texts)
            best = min(best, time.perf_counter() - start)
    return len(texts) / best, vectors


@contextmanager
def _batch_size(batch: int | None) -> Iterator[None]:
    """Batches of `batch` texts for a while (None: as the embedder runs now)."""
    saved = onnx_embedder._BATCH
    onnx_embedder._BATCH = batch or saved
    try:
        yield
    finally:
        onnx_embedder._BATCH = saved


if __name__ == "__main__":
    main()

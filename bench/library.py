"""`kgrag add` / `kgrag remove` at scale: 1, 100 and 10,000 generated BibTeX entries.

For each size: the time to add them to an empty library (read, merge, one atomic write), to
load the corpus the library stands for, to bring an index up to date after the add (with a
tiny deterministic embedder, so the figure is kgrag's bookkeeping, not a model's speed) and
how many passages it embedded and reused, then the same after removing them all.

    python -m bench.library [--sizes 1,100,10000]   (`python -m bench library`: default sizes)
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = (1, 100, 10_000)


class HashEmbedder:
    """Deterministic 32-dim vectors from a text's sha256: the `Embedder` protocol, no model."""

    name = "bench-hash-32"
    dim = 32

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), dtype=np.uint8) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_documents(texts)


def generate_bibtex(n: int) -> str:
    """`n` distinct entries in Google Scholar's style, with abstracts and 3 authors each."""
    entries = []
    for i in range(n):
        entries.append(
            f"@article{{gen{i},\n  title={{Generated Study Number {i} of Sparse Attention}},\n"
            f"  author={{Author{i % 97}, Alice and Writer{i % 89}, Bob and Coauthor{i}, Carol}},\n"
            f"  journal={{arXiv preprint arXiv:2401.{i:05d}}},\n  year={{2024}}, month={{{i % 12 + 1}}},\n"
            f"  abstract={{We study sparse attention variant {i}. It keeps {i % 50} percent of the "
            f"keys and matches dense attention on long documents.}}\n}}\n"
        )
    return "\n".join(entries)


def _timed(action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def run(size: int, tmp: Path) -> None:
    from kg.corpus import load_corpus
    from kg.library import add_files, remove_papers
    from rag.indexing.index import open_index

    os.environ["KGRAG_DATA_DIR"] = str(tmp / f"data-{size}")
    bib = tmp / f"gen-{size}.bib"
    bib.write_text(generate_bibtex(size), encoding="utf-8")
    embedder = HashEmbedder()
    index_dir = tmp / f"index-{size}"
    library = Path(os.environ["KGRAG_DATA_DIR"]) / "library.jsonl"
    base = load_corpus()
    open_index(base, embedder, index_dir, progress=False)  # the seed list's index, as before an add

    report, add_s = _timed(lambda: add_files([bib]))
    corpus, load_s = _timed(lambda: load_corpus(library))
    index, index_s = _timed(lambda: open_index(corpus, embedder, index_dir, progress=False))
    total = len(index.passages)
    print(f"  {size:>6} entries  add {add_s:7.2f} s ({len(report.of('added'))} added)   "
          f"load {load_s:6.2f} s   index {index_s:6.2f} s: {index.state.embedded} embedded, "
          f"{total - index.state.embedded} reused of {total} passages")  # fmt: skip
    ids = [o.id for o in report.of("added")]
    removed, remove_s = _timed(lambda: remove_papers(ids))
    corpus = load_corpus(library)
    index, index_s = _timed(lambda: open_index(corpus, embedder, index_dir, progress=False))
    total = len(index.passages)
    print(f"  {'':>6}          remove {remove_s:7.2f} s ({len(removed.removed)} removed)   "
          f"index {index_s:6.2f} s: {index.state.embedded} embedded, {total} kept "
          f"({index.state.action})")  # fmt: skip
    report, again_s = _timed(lambda: add_files([bib]))
    print(f"  {'':>6}          add again {again_s:7.2f} s ({len(report.of('added'))} added)")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    sizes = SIZES
    if "--sizes" in argv:
        sizes = tuple(int(s) for s in argv[argv.index("--sizes") + 1].split(","))
    print(
        f"cores: {os.cpu_count()}; generated BibTeX, one `kgrag add` then one `kgrag remove` each"
    )
    saved = os.environ.get("KGRAG_DATA_DIR")
    try:
        with tempfile.TemporaryDirectory(prefix="kgrag-bench-library-") as tmp:
            for size in sizes:
                run(size, Path(tmp))
    finally:
        if saved is None:
            os.environ.pop("KGRAG_DATA_DIR", None)
        else:
            os.environ["KGRAG_DATA_DIR"] = saved


if __name__ == "__main__":
    main()

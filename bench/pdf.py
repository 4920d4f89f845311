"""PDF papers from file to searchable, on 2 cores: extraction speed (pages/s, no cache) and the
seconds a 10-page paper costs from `kgrag add paper.pdf` to being found, split into extraction
(reading the PDFs and writing the library), embedding (the index embeds the new passages with
the default embedder) and graph (building the knowledge graph of the corpus with them).

The five fixture papers (tests/fixtures/pdf/, 19 pages) are added to an empty data folder over
the shipped list, whose index is built first and not counted.

    python -m bench.pdf [--embedder embeddinggemma-300m]   (`python -m bench pdf`)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PDFS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pdf"
PAPERS = ("quillwort", "halyard", "tamarack", "brindle", "qingwu")
CORES = 2
RUNS = 5


def _two_cores() -> None:
    """Hold this process (and torch) to `CORES` cores, as the figures are stated."""
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[:CORES]
        os.sched_setaffinity(0, set(cores))
    try:
        import torch

        torch.set_num_threads(CORES)
    except ImportError:
        pass


def extraction(paths: list[Path]) -> tuple[float, float]:
    """Median pages/s of extraction over `RUNS` runs (no cache), and the pages read."""
    from kg.pdf import extraction_speed

    runs = [extraction_speed(paths) for _ in range(RUNS)]
    return statistics.median(r["pages_per_second"] for r in runs), runs[0]["pages"]


def to_searchable(paths: list[Path], embedder_name: str) -> dict[str, float]:
    """Seconds of each stage for adding `paths` to a fresh library and making them searchable."""
    from kg.corpus import default_corpus_path, load_corpus
    from kg.graph import build_graph
    from kg.library import add_files
    from rag.embedding.embedders import load_embedder
    from rag.indexing.index import open_index

    embedder = load_embedder(embedder_name)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["KGRAG_DATA_DIR"] = folder
        os.environ.pop("KGRAG_CORPUS", None)
        index_dir = Path(folder) / "index"
        open_index(
            load_corpus(), embedder, index_dir, progress=False
        )  # the shipped list: not counted
        start = time.perf_counter()
        add_files(paths)
        corpus = load_corpus(default_corpus_path())
        extracted = time.perf_counter()
        index = open_index(corpus, embedder, index_dir, progress=False)
        embedded = time.perf_counter()
        build_graph(corpus)
        graphed = time.perf_counter()
    return {
        "extraction": extracted - start,
        "embedding": embedded - extracted,
        "graph": graphed - embedded,
        "passages": float(index.state.embedded),
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    embedder = args[args.index("--embedder") + 1] if "--embedder" in args else "embeddinggemma-300m"
    _two_cores()
    paths = [PDFS / f"{name}.pdf" for name in PAPERS]
    speed, pages = extraction(paths)
    print(f"extraction: {speed:.0f} pages/s (median of {RUNS}; {pages:.0f} pages, {CORES} cores)")
    stages = to_searchable(paths, embedder)
    per_ten = 10 / pages
    total = sum(stages[s] for s in ("extraction", "embedding", "graph"))
    print(f"\nfrom PDF to searchable, {len(paths)} papers, {pages:.0f} pages, "
          f"{stages['passages']:.0f} passages embedded ({embedder}):")  # fmt: skip
    print("| stage | seconds, all | seconds per 10-page paper |")
    print("|---|---|---|")
    for stage in ("extraction", "embedding", "graph"):
        print(f"| {stage} | {stages[stage]:.2f} | {stages[stage] * per_ten:.2f} |")
    print(f"| total | {total:.2f} | {total * per_ten:.2f} |")


if __name__ == "__main__":
    main()

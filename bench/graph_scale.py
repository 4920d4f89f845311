"""Graph scale: parse + graph build time and peak memory for synthetic lists of 1k, 10k and 100k
papers in the seed format, and the time per paper, which stays flat when both are linear.

Each synthetic paper copies a seed paper's fields and abstract under a new invented name, and its
abstract also names two earlier synthetic papers with lineage and comparison cues ("基于 X",
"与 X 相比"), so name matching, lineage rules and technique edges all do their usual work. Each
size runs in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own.

`python -m bench.graph_scale [--size N ...]` (default 1000 10000 100000); `make bench` runs it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

SIZES = (1_000, 10_000, 100_000)
_SYLLABLES = ("ka", "ro", "mi", "tel", "van", "qu", "sor", "pen", "lu", "dax", "ni", "bre",
              "zo", "fen", "gal", "hu")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    sizes = [int(v) for i, v in enumerate(argv) if i > 0 and argv[i - 1] == "--size"] or SIZES
    print(f"cores: {os.cpu_count()}")
    print(f"{'papers':>8} {'MB':>6} {'parse s':>8} {'build s':>8} {'ms/paper':>9} "
          f"{'ratio':>6} {'peak MB':>8} {'graph MB':>8}")  # fmt: skip
    first = None
    for size in sizes:
        row = _run_child(size)
        per_paper = 1000 * (row["parse"] + row["build"]) / size
        first = first or per_paper
        print(f"{size:>8} {row['mb']:>6.1f} {row['parse']:>8.2f} {row['build']:>8.2f} "
              f"{per_paper:>9.3f} {per_paper / first:>6.2f} {row['peak_mb']:>8.0f} "
              f"{row['peak_mb'] - row['base_mb']:>8.0f}", flush=True)  # fmt: skip
    print("ratio: time per paper relative to the first size (about 1 = linear). "
          "peak MB: the process's peak RSS; graph MB: above the process before parsing.")  # fmt: skip


def _run_child(size: int) -> dict[str, float]:
    code = f"import json, bench.graph_scale as b; print(json.dumps(b.measure({size})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def measure(size: int) -> dict[str, float]:
    """Parse and build the graph of a synthetic list of `size` papers, in this process."""
    from kg.corpus import parse_corpus
    from kg.graph import build_graph
    from kg.lexicon import load_lexicon
    from kg.tables import load_category_table, load_org_table

    text = synthetic_corpus(size)
    tables = (load_org_table(), load_category_table(), load_lexicon())
    base = _peak_mb()
    start = time.perf_counter()
    corpus = parse_corpus(text, f"<synthetic {size}>", tables[0], tables[1])
    parsed = time.perf_counter()
    kg = build_graph(corpus, tables[2], tables[0], tables[1])
    built = time.perf_counter()
    assert len(kg.corpus.papers) == size
    return {
        "mb": len(text.encode("utf-8")) / 1e6,
        "parse": parsed - start,
        "build": built - parsed,
        "base_mb": base,
        "peak_mb": _peak_mb(),
    }


def synthetic_corpus(size: int) -> str:
    """`size` papers in the seed format, each a seed paper under a new name citing earlier ones."""
    from kg.corpus import SHIPPED_CORPUS, load_corpus

    seeds = [p for p in load_corpus(SHIPPED_CORPUS).papers if p.abstract]
    by_heading: dict[str, list[str]] = {}
    for i in range(size):
        seed = seeds[i % len(seeds)]
        name = invented_name(i)
        cites = [invented_name(j) for j in (i // 2, i // 3) if j < i]
        abstract = seed.abstract.replace(seed.short_name, name)
        if cites:
            abstract += f"我们基于 {cites[0]} 进行了扩展。与 {cites[-1]} 相比,{name} 更快。"
        rest = seed.title.partition(":")[2].strip() or seed.title
        entry = (f"{name}: {rest}\n\n发布时间:{seed.date.replace('-', '.')}\n\n"
                 f"发表单位:{seed.organizations_raw}\n\n影响力:{seed.influence}\n\n"
                 f"摘要:{abstract}\n")  # fmt: skip
        by_heading.setdefault(seed.category_label, []).append(entry)
    return "\n".join(f"{heading}\n\n" + "\n".join(entries) for heading, entries in
                     by_heading.items())  # fmt: skip


def invented_name(i: int) -> str:
    """A unique made-up model name for index `i` ("Karomi", "Telvanqu", …)."""
    parts = []
    n = i + len(_SYLLABLES)  # at least two syllables
    while n:
        n, digit = divmod(n, len(_SYLLABLES))
        parts.append(_SYLLABLES[digit])
    return "".join(parts).capitalize()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()

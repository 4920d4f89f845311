"""The graph build is linear on real text: copies of the shipped list under renamed titles.

Renaming a title ("Llama 2 Copy5: Open Foundation …") keeps every abstract's real wording, so
each copy mentions LLaMA, Llama 2 and FlashAttention as the original does. Before, a lead name
such as "Llama 2" became a name of every copy, each mention of it named them all, and the
build grew with the square of the list.
"""

from __future__ import annotations

import time

import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus, load_corpus
from kg.graph import build_graph


def _renamed_copies(tmp_path, copies: int) -> Corpus:  # type: ignore[no-untyped-def]
    text = SHIPPED_CORPUS.read_text(encoding="utf-8")
    titles = {p.title for p in load_corpus(SHIPPED_CORPUS).papers}
    lines = text.splitlines()
    out = []
    for k in range(copies):
        for line in lines:
            if k and line in titles:
                head, sep, rest = line.partition(":")
                line = f"{head} Copy{k}{sep}{rest}"
            out.append(line)
        out.append("")
    path = tmp_path / f"copies-{copies}.txt"
    path.write_text("\n".join(out), encoding="utf-8")
    return load_corpus(path)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("scale")
    return {n: _renamed_copies(tmp, n) for n in (40, 320)}  # ~1,000 and ~8,000 papers


def test_a_lead_name_shared_by_several_papers_names_none_of_them(copies) -> None:  # type: ignore[no-untyped-def]
    kg = build_graph(copies[40])
    parents = {v for _, v, k in kg.graph.out_edges("paper:code-llama", keys=True)
               if k == "builds_on"}  # fmt: skip
    assert parents == {"paper:llama-2"}  # not "Llama 2 Copy5", … which open with Llama 2


def test_graph_build_time_and_edges_grow_linearly_with_the_list(copies) -> None:  # type: ignore[no-untyped-def]
    small, large = copies[40], copies[320]
    assert len(large.papers) == 8 * len(small.papers)
    timings, edges = {}, {}
    for name, corpus in (("small", small), ("large", large)):
        start = time.perf_counter()
        kg = build_graph(corpus)
        timings[name] = time.perf_counter() - start
        edges[name] = kg.graph.number_of_edges()
    # Linear: 8x the papers, about 8x the edges and the time (quadratic was 20x+ at this size).
    assert edges["large"] <= 8.5 * edges["small"]
    assert timings["large"] / timings["small"] < 12, timings


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The bench's synthetic lists (invented names, lineage phrases) at two sizes, as graphs."""
    from bench.graph_scale import synthetic_corpus

    tmp = tmp_path_factory.mktemp("synthetic")
    graphs = {}
    for n in (300, 2400):
        path = tmp / f"synthetic-{n}.txt"
        path.write_text(synthetic_corpus(n), encoding="utf-8")
        graphs[n] = build_graph(load_corpus(path))
    return graphs


def test_a_lineage_query_reads_its_family_not_the_library(synthetic, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Before, `lineage` listed every lineage edge of the library first (4.2 s at 10⁵ papers)."""
    from bench.graph_scale import invented_name
    from kg.queries import ancestry

    read: list[str] = []
    real = ancestry._lineage_edge
    monkeypatch.setattr(
        ancestry, "_lineage_edge", lambda kg, u, v, d: read.append(u) or real(kg, u, v, d)
    )
    for n, kg in synthetic.items():
        read.clear()
        family = ancestry.lineage(kg, invented_name(n // 2))
        assert family.ancestors, n
        assert len(read) == len(family.edges)  # one record per edge of the family, none else
        read.clear()
        top = family.ancestors[-1]
        path = ancestry.path_between(kg, invented_name(n // 2), top.label)
        assert path and len(read) == len(path)


def test_group_queries_from_the_index_give_what_a_scan_gave(synthetic) -> None:  # type: ignore[no-untyped-def]
    from kg.queries import papers_by
    from kg.queries.nodes import by_date

    kg = synthetic[2400]
    orgs = sorted({o for p in kg.corpus.papers for o in p.organizations})
    for org in orgs:
        parts = {org, *(u.removeprefix("org:") for u, _, k in kg.graph.in_edges(f"org:{org}", keys=True)
                        if k == "part_of")}  # fmt: skip
        scanned = by_date(p for p in kg.corpus.papers if parts & set(p.organizations))
        assert papers_by(kg, org=org) == scanned, org
        alone = by_date(p for p in kg.corpus.papers if org in p.organizations)
        assert papers_by(kg, org=org, include_parts=False) == alone, org
    for category in sorted({p.category for p in kg.corpus.papers}):
        scanned = by_date(p for p in kg.corpus.papers if p.category == category)
        assert papers_by(kg, category=category) == scanned, category

"""The shipped list names no authors: `data/seed_authors.json` gives them for the papers whose
whole author list was checked against arXiv, and the graph uses them for author questions and
filters; a paper with unknown authors is said to be one."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from kg.authors import load_seed_authors
from kg.corpus import Corpus
from kg.errors import UnknownAuthorError
from kg.graph import KnowledgeGraph, build_graph
from kg.queries import (
    author_summaries,
    authors_of,
    paper_authors,
    papers_by,
    papers_without_authors,
    resolve_author,
)
from kg.readers.common import normalize_arxiv_id
from kg.tables import DATA_DIR

RAW = json.loads((DATA_DIR / "seed_authors.json").read_text(encoding="utf-8"))


def test_the_file_says_what_it_is_and_where_each_list_comes_from(corpus: Corpus) -> None:
    assert RAW["format"] == "kgrag-seed-authors v1" and RAW["about"]
    titles = {p.title for p in corpus.papers}
    for entry in RAW["papers"]:
        assert entry["title"] in titles, entry["title"]  # the exact title in the list
        assert entry["source"] == f"https://arxiv.org/abs/{entry['arxiv']}"
        assert normalize_arxiv_id(entry["arxiv"]) == entry["arxiv"]
        assert len(set(entry["authors"])) == len(entry["authors"])
    listed = [e["title"] for e in RAW["papers"]] + [e["title"] for e in RAW["left_out"]]
    assert sorted(listed) == sorted(titles)  # every paper: listed, or left out with a reason
    assert all(e["why"] for e in RAW["left_out"])


def test_every_listed_paper_has_its_authors_in_order(kg: KnowledgeGraph) -> None:
    for entry in load_seed_authors().entries:
        paper = next(p for p in kg.corpus.papers if p.title == entry.title)
        assert [a.label for a in authors_of(kg, f"paper:{paper.id}")] == list(entry.authors)
        edge = kg.graph.edges[f"author:{_slug(entry.authors[0])}", f"paper:{paper.id}", "authored"]
        assert (edge["method"], edge["evidence"], edge["position"]) == ("curated", entry.source, 1)


def _slug(name: str) -> str:
    from kg.authors import author_node_id

    return author_node_id(name).removeprefix("author:")


def test_which_papers_did_t_dao_write(kg: KnowledgeGraph) -> None:
    assert [p.id for p in papers_by(kg, author="T. Dao")] == ["flashattention-2", "medusa"]
    assert resolve_author(kg, "Dao, Tri").label == "Tri Dao"
    summary = author_summaries(kg, "Hugo Touvron")[0]
    assert [p.id for p in summary.papers] == ["llama", "llama-2", "code-llama"]


def test_papers_whose_authors_are_unknown_are_named(kg: KnowledgeGraph) -> None:
    assert [p.id for p in papers_without_authors(kg)] == ["gemini", "cogagent"]
    credit = paper_authors(kg, "Gemini")
    assert not credit.known and credit.authors == () and credit.source == ""
    with pytest.raises(UnknownAuthorError) as caught:
        resolve_author(kg, "Oriol Vinyals")
    assert caught.value.unlisted == ("gemini", "cogagent")
    assert "authors of 2 paper(s) are unknown (gemini, cogagent)" in str(caught.value)


def test_a_library_entry_s_own_authors_win(kg: KnowledgeGraph) -> None:
    from dataclasses import replace

    mine = replace(kg.paper("medusa"), authors=("Somebody Else",))
    other = build_graph(Corpus(kg.corpus.path, "", (mine,)))
    credit = paper_authors(other, "Medusa")
    assert [a.label for a in credit.authors] == ["Somebody Else"] and credit.source == ""


def test_the_bibtex_export_carries_the_curated_authors(kg: KnowledgeGraph, tmp_path) -> None:
    from kg.export import credited_papers, export_bibtex

    text = export_bibtex(credited_papers(kg), tmp_path / "all.bib").read_text(encoding="utf-8")
    assert "author = {Tri Dao}" in text and "eprint = {2307.08691}" in text
    gemini = text[text.index("@misc{gemini,") :].split("\n}\n", 1)[0]
    assert "author" not in gemini  # unknown: nothing invented


def test_kgrag_authors_says_whose_authors_are_unknown(run_kgrag: Callable[..., object]) -> None:
    found = run_kgrag("authors", "T. Dao")
    assert found.returncode == 0 and "Tri Dao" in found.stdout  # type: ignore[attr-defined]
    assert "the authors of 2 paper(s) are unknown (gemini, cogagent)" in found.stderr  # type: ignore[attr-defined]
    missing = run_kgrag("authors", "Oriol Vinyals")
    assert missing.returncode == 2  # type: ignore[attr-defined]
    assert "no author 'Oriol Vinyals'" in missing.stderr and "gemini" in missing.stderr  # type: ignore[attr-defined]

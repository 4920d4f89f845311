"""The citation graph on the PDF fixtures: every reference entry resolved to the fixture paper it
names (by arXiv id, DOI or title, as data/eval/pdf_references_dev.json says) or kept as a
reference, `cites` edges with the entry and the citing sentences (with their pages) as
evidence, lineage read from body sentences, and the shipped corpus's graph unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from kg.citations import PaperIndex, document_citations, load_title_threshold, resolve_reference
from kg.citations.calibrate import calibrate, pairs, score_at
from kg.graph import KnowledgeGraph, build_graph, load_graph
from kg.queries import paper_citations
from kg.tables import load_json
from tests.citation_corpus import fixture_corpus
from tests.fixtures.pdf import PAPERS, gold, paper

DEV = gold("pdf_references_dev.json")


@cache
def fixture_graph() -> KnowledgeGraph:
    return build_graph(fixture_corpus())


def paper_id(name: str) -> str:
    """The corpus id of a fixture PDF (the record made from its title page)."""
    corpus = fixture_corpus()
    return next(pid for pid, doc in corpus.documents if doc.path.endswith(name))


def gold_cites() -> set[tuple[str, str]]:
    return {(paper_id(f), paper_id(e["cites"])) for f, entries in DEV["references"].items()
            for e in entries if e["cites"]}  # fmt: skip


# --- resolution ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAPERS)
def test_every_reference_resolves_to_the_fixture_it_names_and_no_other(name: str) -> None:
    cited = {d.paper_id: d for d in document_citations(fixture_corpus())}[paper_id(name)]
    expected = DEV["references"][name]
    assert len(cited.citations) == len(expected)
    for citation, want in zip(cited.citations, expected, strict=True):
        found = citation.resolution
        assert found.paper_id == (paper_id(want["cites"]) if want["cites"] else None), found
        assert found.how == want["how"], found.reference.text


def test_a_title_close_enough_resolves_and_one_too_far_stays_a_reference() -> None:
    corpus = fixture_corpus()
    index = PaperIndex.build(corpus.papers)
    entry = paper("halyard.pdf").references[3]  # Tamarack, by title only
    typo = replace(
        entry, title_guess="Tamarack: a benchmark for multihop reasoning over science tables"
    )
    found = resolve_reference(index, 3, typo, citing=paper_id("halyard.pdf"))
    assert (found.paper_id, found.how) == (paper_id("tamarack.pdf"), "title")
    assert load_title_threshold() <= found.score < 1.0
    other = replace(entry, title_guess="Tamarack trees of the northern bogs")
    assert resolve_reference(index, 3, other).paper_id is None


def test_a_paper_never_resolves_its_own_entry() -> None:
    corpus = fixture_corpus()
    index = PaperIndex.build(corpus.papers)
    own = replace(paper("halyard.pdf").references[1])  # Quillwort, by arXiv id and title
    assert resolve_reference(index, 1, own, citing=paper_id("quillwort.pdf")).paper_id is None


def test_the_stored_threshold_comes_from_tune_and_report_scores_clean() -> None:
    settings = load_json("citation_resolution.json")
    found = pairs(DEV, frozenset(settings["report_files"]))
    assert calibrate(found) == settings["title_threshold"] == load_title_threshold()
    report = score_at(found, settings["title_threshold"], "report")
    assert report["fp"] == report["fn"] == 0 and report["tp"] > 0


# --- the graph --------------------------------------------------------------------------------


def test_cites_edges_are_the_gold_citations_with_entry_and_sentences_as_evidence() -> None:
    kg = fixture_graph()
    edges = {(u, v): d for u, v, k, d in kg.graph.edges(keys=True, data=True) if k == "cites"}
    assert {(u.removeprefix("paper:"), v.removeprefix("paper:")) for u, v in edges} == gold_cites()
    for (source, _), data in edges.items():
        document = fixture_corpus().document(source.removeprefix("paper:"))
        assert document is not None
        entry = document.references[data["reference"] - 1]
        assert data["evidence"] == entry.text and data["page"] == entry.page
        assert data["method"] in ("arxiv", "doi", "title")
        contexts = json.loads(data["contexts"])
        assert contexts, data
        for page, sentence in contexts:  # each citing sentence is on the page it names
            assert " ".join(sentence.split()[:4]) in document.page(page).text


def test_unresolved_references_stay_on_the_citing_paper_node() -> None:
    kg = fixture_graph()
    for name in PAPERS:
        node = kg.graph.nodes[f"paper:{paper_id(name)}"]
        entries = json.loads(node["references"])
        want = DEV["references"][name]
        assert [e["paper_id"] is None for e in entries] == [w["cites"] is None for w in want]
        assert node["references_unresolved"] == sum(w["cites"] is None for w in want)


def test_the_graph_is_built_the_same_twice() -> None:
    def dump(kg: KnowledgeGraph) -> list[str]:
        return [json.dumps([u, v, k, d], sort_keys=True, ensure_ascii=False)
                for u, v, k, d in kg.graph.edges(keys=True, data=True)]  # fmt: skip

    assert dump(build_graph(fixture_corpus())) == dump(fixture_graph())


def test_the_shipped_corpus_has_no_full_texts_so_no_citations() -> None:
    kg = load_graph()
    assert not kg.corpus.documents
    assert not any(k == "cites" for _, _, k in kg.graph.edges(keys=True))
    assert not any("references" in d for _, d in kg.graph.nodes(data=True))
    assert not any("page" in d for _, _, d in kg.graph.edges(data=True))


@pytest.mark.parametrize("case", DEV["body_lineage"], ids=lambda c: f"{c['pdf']}-{c['relation']}")
def test_body_sentences_give_lineage_and_comparisons_stay_comparisons(case: dict) -> None:
    kg = fixture_graph()
    child, parent = f"paper:{paper_id(case['pdf'])}", f"paper:{paper_id(case['cites'])}"
    lineage = kg.graph.get_edge_data(child, parent, "builds_on")
    compared = kg.graph.get_edge_data(child, parent, "compared_against")
    if case["relation"] is None:
        assert lineage is None and compared is None
        return
    data = lineage if case["relation"] != "compared_against" else compared
    other = compared if case["relation"] != "compared_against" else lineage
    assert data is not None and other is None
    assert case["sentence"] in data["evidence"] and data["page"] == case["page"]
    assert data["method"] == "body" and data.get("relation", "") in ("", case["relation"])


# --- the query and the command ----------------------------------------------------------------


def test_paper_citations_reads_the_reference_list_and_the_citing_papers() -> None:
    kg = fixture_graph()
    found = paper_citations(kg, "Quillwort").to_json()
    assert list(found) == ["paper", "references", "cited_by"]
    assert found["paper"] == {"id": "quillwort", "title": fixture_corpus().papers[0].title}
    assert [list(r) for r in found["references"]] == [["text", "paper_id", "title", "how"]] * 7
    assert {c["id"] for c in found["cited_by"]} == {s for s, t in gold_cites() if t == "quillwort"}
    tamarack = found["references"][5]
    assert (tamarack["paper_id"], tamarack["how"]) == (paper_id("tamarack.pdf"), "doi")
    assert tamarack["title"] == kg.paper(paper_id("tamarack.pdf")).title


def test_the_command_prints_the_documented_json(monkeypatch, capsys) -> None:
    import argparse

    import ui.commands.citations as command

    monkeypatch.setattr(command, "corpus_from", lambda args: fixture_corpus())
    assert command.run_citations(argparse.Namespace(name="brindle", json=True, corpus=None)) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == paper_citations(fixture_graph(), "brindle").to_json()
    assert [c["id"] for c in printed["cited_by"]] == [paper_id("qingwu.pdf")]
    assert command.run_citations(argparse.Namespace(name="brindle", json=False, corpus=None)) == 0
    assert "cited by (1):" in capsys.readouterr().out


def test_the_command_on_the_shipped_list_and_an_unknown_name(run_kgrag) -> None:
    result = run_kgrag("citations", "llama2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "paper": {"id": "llama-2", "title": load_graph().paper("llama-2").title},
        "references": [],
        "cited_by": [],
    }
    missing = run_kgrag("citations", "no-such-paper-xyz")
    assert missing.returncode != 0 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "no-such-paper-xyz" in missing.stderr
    assert "Traceback" not in missing.stderr


# --- exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json", "neo4j"])
def test_every_export_holds_the_cites_edges(fmt: str, tmp_path) -> None:
    import networkx as nx

    from kg.export import export

    kg = fixture_graph()
    path = export(kg, fmt, tmp_path / f"graph.{fmt}")
    if fmt == "neo4j":
        rows = (path / "relationships-cites.csv").read_text(encoding="utf-8").splitlines()
        assert len(rows) == 1 + len(gold_cites()) and "contexts" in rows[0]
        return
    if fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        found = {(e["source"], e["target"]) for e in data["edges"] if e["kind"] == "cites"}
    else:
        graph = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
        found = {(u, v) for u, v, d in graph.edges(data=True) if d.get("kind") == "cites"}
    assert {(u.removeprefix("paper:"), v.removeprefix("paper:")) for u, v in found} == gold_cites()


# --- the lineage explorer's toggle ------------------------------------------------------------


def test_the_lineage_tab_lists_citation_edges_when_the_toggle_is_on() -> None:
    from ui.app_lineage import lineage_html

    class Services:  # what the tab reads of AppServices
        def kg(self) -> KnowledgeGraph:
            return fixture_graph()

    services: Any = Services()
    off = lineage_html(services, "Halyard", "", 2, False, False)
    on = lineage_html(services, "Halyard", "", 2, False, False, True)
    assert "kg-citations" not in off and "kg-citations" in on
    table = on[on.index("kg-citations") :]
    assert table.count("<tr class=") == len([1 for s, t in gold_cites() if "halyard" in (s, t)])
    assert "p. 1: Halyard builds on the block router of Quillwort" in table
    assert "Traceback" not in on

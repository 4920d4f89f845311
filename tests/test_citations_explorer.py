"""The lineage explorer's citations, on the PDF fixtures' corpus (tests/citation_corpus.py):
with the toggle on, the papers citing the work shown or cited by it join the chart within its
node cap and every `cites` edge among the works drawn is drawn (dashed, its own class, its
citing sentences and pages as the evidence a click shows); with it off, nothing changes. And
`kgrag lineage` names a body lineage edge's page (text and `--json`)."""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from typing import Any

import pytest

import kg.queries.explorer as explorer
from kg.graph import KnowledgeGraph, build_graph, load_graph
from kg.queries import neighbourhood
from tests.citation_corpus import fixture_corpus
from tests.fixtures.pdf import PAPERS, gold
from ui.app_graph import layout, render_svg

DEV = gold("pdf_references_dev.json")
SVG = "{http://www.w3.org/2000/svg}"


@cache
def fixture_graph() -> KnowledgeGraph:
    return build_graph(fixture_corpus())


def node_of(name: str) -> str:
    """The graph node of a fixture PDF (its paper record is made from its title page)."""
    return next(
        f"paper:{pid}" for pid, doc in fixture_corpus().documents if doc.path.endswith(name)
    )


def gold_cites() -> set[tuple[str, str]]:
    """(citing, cited) node pairs, as the reference gold says."""
    return {(node_of(f), node_of(e["cites"])) for f, entries in DEV["references"].items()
            for e in entries if e["cites"]}  # fmt: skip


def date_of(node: str) -> str:
    return str(fixture_graph().graph.nodes[node].get("date") or "")


class Services:  # what the Lineage tab reads of AppServices
    def __init__(self, kg: KnowledgeGraph) -> None:
        self._kg = kg

    def kg(self) -> KnowledgeGraph:
        return self._kg


# --- the neighbourhood ------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAPERS)
def test_citations_add_the_root_s_citing_and_cited_papers_and_every_cites_edge_among_them(
    name: str,
) -> None:
    kg, root = fixture_graph(), node_of(name)
    off = neighbourhood(kg, root, depth=3)
    on = neighbourhood(kg, root, depth=3, citations=True)
    works = [n.id for n in on.works]
    linked = {b for a, b in gold_cites() if a == root} | {a for a, b in gold_cites() if b == root}
    # The lineage works first, as without citations; then the new ones, oldest first.
    assert works[: len(off.works)] == [n.id for n in off.works]
    added = works[len(off.works) :]
    assert set(added) == linked - {n.id for n in off.works}
    assert added == sorted(added, key=lambda n: (date_of(n), n))
    assert on.hidden_citations == 0
    # Lineage among the works drawn: the same edges, and those touching a paper citations added.
    more = set(on.lineage_edges()) - set(off.lineage_edges())
    assert set(off.lineage_edges()) <= set(on.lineage_edges())
    assert all({e.parent, e.child} & set(added) for e in more)
    # Every gold citation between two works drawn is an edge, cited → citing, and no other.
    drawn = {(e.child, e.parent) for e in on.citation_edges()}
    assert drawn == {(a, b) for a, b in gold_cites() if a in works and b in works}
    assert len(drawn) == len(on.citation_edges())


def test_a_cites_edge_carries_its_entry_its_page_and_the_citing_sentences() -> None:
    kg = fixture_graph()
    near = neighbourhood(kg, node_of("halyard.pdf"), citations=True)
    assert near.citation_edges()
    for edge in near.citation_edges():
        citing = fixture_corpus().document(edge.child.removeprefix("paper:"))
        assert citing is not None
        entries = [r for r in citing.references if r.text == edge.evidence]
        assert entries and edge.page == entries[0].page
        assert edge.method in ("arxiv", "doi", "title") and edge.contexts
        for page, sentence in edge.contexts:  # each sentence is on the page it names
            assert " ".join(sentence.split()[:4]) in citing.page(page).text


def test_the_node_cap_holds_and_says_how_many_citing_or_cited_papers_it_left_out(
    monkeypatch: Any,
) -> None:
    kg, root = fixture_graph(), node_of("halyard.pdf")
    lineage_only = len(neighbourhood(kg, root).works)
    linked = {b for a, b in gold_cites() if a == root} | {a for a, b in gold_cites() if b == root}
    new = sorted(linked - {n.id for n in neighbourhood(kg, root).works},
                 key=lambda n: (date_of(n), n))  # fmt: skip
    assert len(new) >= 2, "the fixture should give Halyard two papers beyond its lineage"
    monkeypatch.setattr(explorer, "NEIGHBOURHOOD_MAX_NODES", lineage_only + 1)
    near = neighbourhood(kg, root, citations=True)
    assert [n.id for n in near.works][lineage_only:] == new[:1]  # the oldest one fits
    assert near.hidden_citations == len(new) - 1
    shown = {n.id for n in near.works}
    assert all(e.parent in shown and e.child in shown for e in near.edges)


def test_a_body_lineage_edge_in_the_neighbourhood_has_its_page() -> None:
    kg = fixture_graph()
    for case in (c for c in DEV["body_lineage"] if c["relation"] not in (None, "compared_against")):
        child, parent = node_of(case["pdf"]), node_of(case["cites"])
        edges = [e for e in neighbourhood(kg, child, depth=1).lineage_edges()
                 if (e.parent, e.child) == (parent, child)]  # fmt: skip
        assert [(e.method, e.page) for e in edges] == [("body", case["page"])]


# --- the chart --------------------------------------------------------------------------------


def svg_edges(svg: str, kind: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if f"kind-{kind}" in g.get("class", "").split()]


def test_the_svg_draws_each_cites_edge_with_its_class_arrow_and_evidence() -> None:
    kg = fixture_graph()
    near = neighbourhood(kg, node_of("halyard.pdf"), citations=True)
    view = layout(near)
    svg = render_svg(view)
    drawn = svg_edges(svg, "cites")
    assert {(g.get("data-parent"), g.get("data-child")) for g in drawn} == {
        (e.parent, e.child) for e in near.citation_edges()
    }
    assert len(drawn) == len(near.citation_edges())
    by_ends = {(e.parent, e.child): e for e in near.citation_edges()}
    labels = {n.id: n.label for n in near.works}
    for g in drawn:
        edge = by_ends[(g.get("data-parent"), g.get("data-child"))]
        line = g.find(f"{SVG}path[@class='kg-line']")
        assert line is not None and line.get("d", "").startswith("M")  # dot routed it
        assert line.get("marker-start") == "url(#kg-arrow-cite)" and line.get("marker-end") is None
        evidence = g.get("data-evidence", "")
        assert evidence.startswith(f"{labels[edge.child]} cites {labels[edge.parent]}")
        for page, sentence in edge.contexts:
            assert f"p. {page}: “{sentence}”" in evidence
        assert edge.evidence in evidence and f"p. {edge.page}" in evidence
        assert g.find(f"{SVG}text") is None  # no relation label: a citation is not lineage
    assert ET.fromstring(svg).find(f".//{SVG}marker[@id='kg-arrow-cite']") is not None
    # Lineage is drawn as before, next to the citations.
    assert len(svg_edges(svg, "builds_on")) == len(near.lineage_edges())


def test_the_tab_draws_citations_in_the_chart_with_a_legend_entry_and_keeps_the_table() -> None:
    from ui.app_lineage import lineage_html

    services: Any = Services(fixture_graph())
    on = lineage_html(services, "Halyard", "", 3, False, False, True)
    chart = on[on.index("<svg") : on.index("</svg>") + 6]
    cites = len(svg_edges(chart, "cites"))
    assert cites == len(neighbourhood(fixture_graph(), node_of("halyard.pdf"), citations=True)
                        .citation_edges())  # fmt: skip
    legend = re.search(r'<div class="kg-legend">.*?</div>', on)
    assert legend is not None and "kg-key-cite" in legend.group()
    assert f"{cites} citation edges" in on
    assert "kg-citations" in on  # the accessible list of the work's own citations, under it


def test_folding_hides_the_cites_edges_of_the_works_it_hides() -> None:
    from ui.app_graph import fold

    kg = fixture_graph()
    near = neighbourhood(kg, node_of("quillwort.pdf"), depth=3, citations=True)
    halyard = node_of("halyard.pdf")
    smaller, counts = fold(near, [halyard])
    shown = {n.id for n in smaller.works}
    assert counts.get(halyard, 0) >= 1 and node_of("brindle.pdf") not in shown
    assert smaller.citation_edges()
    assert all(e.parent in shown and e.child in shown for e in smaller.citation_edges())
    assert "kind-cites" in render_svg(layout(near, [halyard]))


def test_with_the_toggle_off_nothing_changes() -> None:
    kg, root = fixture_graph(), node_of("halyard.pdf")
    off = neighbourhood(kg, root, depth=3)
    assert neighbourhood(kg, root, depth=3, citations=False) == off
    assert not off.citation_edges() and off.hidden_citations == 0
    svg = render_svg(layout(off))
    assert "kind-cites" not in svg and "kg-arrow-cite" not in svg
    assert svg == render_svg(layout(neighbourhood(kg, root, 3, False, False, (), False)))
    # A corpus without full texts (the shipped list) draws the very same chart either way.
    shipped = load_graph()
    for work in ("paper:llama", "paper:llama-2"):
        plain = neighbourhood(shipped, work, depth=3, organizations=True, techniques=True)
        cited = neighbourhood(shipped, work, 3, True, True, citations=True)
        assert cited == plain
        assert render_svg(layout(cited)) == render_svg(layout(plain))


# --- kgrag lineage ----------------------------------------------------------------------------


def body_cases() -> list[dict[str, Any]]:
    return [c for c in DEV["body_lineage"] if c["relation"] not in (None, "compared_against")]


def test_kgrag_lineage_prints_a_body_edge_s_page(monkeypatch: Any, capsys: Any) -> None:
    import ui.commands.graph as command

    monkeypatch.setattr(command, "corpus_from", lambda args: fixture_corpus())
    for case in body_cases():
        name = case["pdf"].removesuffix(".pdf")
        args = argparse.Namespace(name=node_of(case["pdf"]).removeprefix("paper:"), corpus=None)
        assert command.run_lineage(argparse.Namespace(**vars(args), json=True)) == 0
        printed = json.loads(capsys.readouterr().out)
        child, parent = node_of(case["pdf"]), node_of(case["cites"])
        edges = [e for e in printed["edges"] if (e["source"], e["target"]) == (child, parent)]
        assert [(e["method"], e["page"], e["line"]) for e in edges] == [("body", case["page"], 0)]
        assert case["sentence"] in edges[0]["evidence"]
        assert command.run_lineage(argparse.Namespace(**vars(args), json=False)) == 0
        text = capsys.readouterr().out.splitlines()
        at = next(i for i, t in enumerate(text) if t.strip().startswith("“") and
                  case["sentence"] in t)  # fmt: skip
        assert text[at - 1].rstrip().endswith(f"[body, p. {case['page']}]"), (name, text[at - 1])
        assert "data/lineage.json" not in text[at - 1]


def test_kgrag_lineage_on_the_shipped_list_has_no_pages(run_kgrag) -> None:
    result = run_kgrag("lineage", "Code Llama", "--json")
    assert result.returncode == 0, result.stderr
    edges = json.loads(result.stdout)["edges"]
    assert edges and all(e["page"] is None for e in edges)
    text = run_kgrag("lineage", "Code Llama").stdout
    assert "p. " not in text and re.search(r"\[\w+, line \d+\]", text)


# --- in a browser: a click shows a citation's evidence ----------------------------------------


@pytest.mark.browser
def test_a_click_on_a_cites_edge_shows_its_citing_sentences() -> None:
    """The Lineage tab's HTML and its scripts in headless Chromium, without a server (the
    scripts run as gr.HTML runs them: a function of `element`, `trigger`, `props`)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.live import CHROMIUM, CHROMIUM_ARGS
    from ui.app_lineage import lineage_html
    from ui.app_static import static_text

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps`")
    html = lineage_html(Services(fixture_graph()), "Halyard", "", 3, False, False, True)
    page_html = f"<html><head><style>{static_text('lineage.css')}</style></head><body>"
    page_html += f"<div id='tab'>{html}</div></body></html>"
    scripts = static_text("interact.js") + "\n" + static_text("lineage.js")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_content(page_html)
        page.evaluate("(js) => new Function('element', 'trigger', 'props', js)"
                      "(document.getElementById('tab'), () => {}, {})", scripts)  # fmt: skip
        edge = page.locator(".kg-edge.kind-cites").first
        parent, child = edge.get_attribute("data-parent"), edge.get_attribute("data-child")
        edge.locator(".kg-hit").dispatch_event("click")  # on the line, wherever it runs
        box = page.locator(".kg-evidence-box")
        shown = box.inner_text()
        cited = next(e for e in neighbourhood(fixture_graph(), node_of("halyard.pdf"),
                     citations=True).citation_edges() if (e.parent, e.child) == (parent, child))  # fmt: skip
        lines = shown.splitlines()  # the title, one citing sentence a line, then the entry
        assert lines[1:-1] == [f"p. {number}: “{sentence}”" for number, sentence in cited.contexts]
        assert lines[-1].startswith(f"reference entry (p. {cited.page}")
        assert "is-citation" in (box.get_attribute("class") or "")
        dashes = edge.locator(".kg-line").evaluate("e => getComputedStyle(e).strokeDasharray")
        plain = page.locator(".kg-edge.kind-builds_on .kg-line").first.evaluate(
            "e => getComputedStyle(e).strokeDasharray"
        )
        assert dashes not in ("", "none") and plain in ("", "none")  # dashed, unlike lineage
        lineage = page.locator(".kg-edge.kind-builds_on").first
        lineage.locator(".kg-hit").dispatch_event("click")
        assert box.inner_text() == lineage.get_attribute("data-evidence")
        assert "is-citation" not in (box.get_attribute("class") or "")
        browser.close()

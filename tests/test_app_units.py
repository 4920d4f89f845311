"""The app's pieces without a browser: graph view, formatting, errors, `kgrag serve` options."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from kg.corpus import SHIPPED_CORPUS
from ui.app_graph import MAX_NODES, neighbourhood, render_svg
from ui.app_services import AppServices, ServeOptions


@pytest.fixture(scope="module")
def services() -> AppServices:
    return AppServices(ServeOptions(corpus=SHIPPED_CORPUS))


@dataclass(frozen=True)
class Cited:
    id: str
    title: str


def synthetic_lineage(n: int) -> nx.MultiDiGraph:
    """A wide lineage tree of `n` works: work i builds on work (i - 1) // 3, dated by depth."""
    graph = nx.MultiDiGraph()
    for i in range(n):
        depth = len(format(i + 1, "b"))
        graph.add_node(f"paper:w{i}", kind="paper", label=f"W{i}", date=f"20{10 + depth:02d}-01")
        if i:
            parent = f"paper:w{(i - 1) // 3}"
            graph.add_edge(f"paper:w{i}", parent, key="builds_on", kind="builds_on",
                           relation="successor", evidence=f"W{i} builds on its parent.",
                           method="rule", line=i)  # fmt: skip
    return graph


def test_a_huge_graph_shows_only_a_capped_neighbourhood() -> None:
    graph = synthetic_lineage(5000)
    view = neighbourhood(graph, "paper:w0", depth=6)
    assert len(view.nodes) == MAX_NODES
    assert view.hidden > 0
    assert len(render_svg(view)) < 200_000


def test_the_timeline_puts_every_parent_left_of_its_child(services: AppServices) -> None:
    graph = services.kg().graph
    for node in ("paper:code-llama", "paper:llama"):
        view = neighbourhood(graph, node, depth=6, organizations=True, techniques=True)
        x = {n.id: n.x for n in view.nodes}
        dates = {n.id: n.date for n in view.nodes}
        for edge in view.lineage_edges():
            if dates[edge.parent] and dates[edge.child] and dates[edge.parent] < dates[edge.child]:
                assert x[edge.parent] < x[edge.child], edge


def test_each_lineage_edge_in_the_svg_carries_its_evidence(services: AppServices) -> None:
    view = neighbourhood(services.kg().graph, "paper:code-llama", depth=3)
    svg = render_svg(view)
    assert view.lineage_edges()
    for edge in view.lineage_edges():
        assert edge.evidence
        assert edge.evidence[:20].replace("&", "&amp;") in svg
    assert 'data-node="paper:llama-2"' in svg


def test_chat_citations_are_renumbered_like_the_chips_and_open_their_paper() -> None:
    from ui.app_format import chat_answer, citing_sentences, settled_answer

    sources = [Cited("a", "A"), Cited("b", "B"), Cited("c", "C")]
    citations = [Cited("c", "C"), Cited("a", "A")]
    text = "First claim [P3]. Second claim [P1, P3]. Bogus [P9]."
    html = chat_answer(text, citations, sources)
    assert re.sub(r"<[^>]+>", "", html) == "First claim [1]. Second claim [2][1]. Bogus."
    assert re.findall(r'<span class="kg-cite"[^>]*>(\[\d\])</span>', html) == ["[1]", "[2]", "[1]"]
    assert settled_answer(html) == "First claim [1]. Second claim [2][1]. Bogus."
    assert citing_sentences(text, sources, "a") == ["Second claim."]


def test_the_answer_around_the_markers_is_escaped() -> None:
    from ui.app_format import chat_answer, settled_answer

    sources = [Cited("x", "X")]
    html = chat_answer("<img src=x onerror=alert(1)> is fast [P1].", sources, sources)
    assert html.startswith('&lt;img src=x onerror=alert(1)&gt; is fast <span class="kg-cite"')
    assert settled_answer(html) == "&lt;img src=x onerror=alert(1)&gt; is fast [1]."


def test_a_card_for_an_unknown_id_is_a_message_not_a_traceback(services: AppServices) -> None:
    from ui.app_cards import card_html

    html = card_html(services, "paper:no-such-paper")
    assert "kg-error" in html and "no-such-paper" in html and "Traceback" not in html


def test_a_paper_card_shows_its_fields_and_marks_the_supporting_sentence(
    services: AppServices,
) -> None:
    from ui.app_cards import card_html

    paper = services.paper("code-llama")
    html = card_html(services, "paper:code-llama", [paper.abstract.split("。")[1]])
    assert paper.title in html and paper.date in html and "Meta" in html
    assert len(re.findall("<mark>", html)) == 1
    assert 'data-open="paper:llama-2"' in html  # "builds on" link


def test_an_unknown_work_in_the_lineage_tab_gets_suggestions(services: AppServices) -> None:
    from ui.app_lineage import lineage_html

    html = lineage_html(services, "Llama 9", "", 3, False, False)
    assert "kg-error" in html and "unknown name" in html


def test_the_path_between_two_works_is_highlighted(services: AppServices) -> None:
    from ui.app_lineage import lineage_html

    html = lineage_html(services, "LLaMA", "Code Llama", 3, False, False)
    assert "Path: LLaMA → Llama 2 → Code Llama" in html
    assert html.count("kg-edge kind-builds_on on-path") == 2


def test_papers_filters_accept_aliases_in_either_language(services: AppServices) -> None:
    from ui.app_papers import select_papers

    google_zh = select_papers(services, "谷歌", "All", "All", "")
    google_en = select_papers(services, "Google", "All", "All", "")
    assert google_zh == google_en and google_zh
    multimodal = select_papers(services, "All", "多模态 · multimodal", "All", "")
    assert multimodal and all(p.category == "multimodal" for p in multimodal)


def test_lineage_api_gives_exactly_the_cli_json(services: AppServices) -> None:
    import json
    import subprocess
    import sys

    from kg.queries import lineage
    from ui.commands.graph import lineage_json

    api = lineage_json(services.kg(), lineage(services.kg(), "code llama"))
    cli = subprocess.run(
        [sys.executable, "-m", "ui.cli", "lineage", "code llama", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert json.loads(cli.stdout) == json.loads(json.dumps(api))
    assert {"paper:llama-2", "paper:llama"} <= {a["id"] for a in api["ancestors"]}


def serve_args(*argv: str) -> argparse.Namespace:
    from ui.cli import build_parser

    return build_parser().parse_args(["serve", *argv])


def test_serve_binds_loopback_by_default_and_warns_for_other_hosts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import ui.app
    from ui.commands.serve import run_serve

    launched: list[dict[str, Any]] = []
    monkeypatch.setattr(ui.app, "launch", lambda services, host, port, **kw: launched.append(
        {"host": host, "port": port, **kw}))  # fmt: skip
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path))
    assert run_serve(serve_args("--port", "8123", "--no-warm-up")) == 0
    assert launched[-1]["host"] == "127.0.0.1" and launched[-1]["port"] == 8123
    assert "warning" not in capsys.readouterr().err
    assert run_serve(serve_args("--host", "0.0.0.0", "--no-warm-up")) == 0
    assert launched[-1]["host"] == "0.0.0.0"
    assert "warning: serving on 0.0.0.0" in capsys.readouterr().err


def test_serve_with_a_broken_corpus_fails_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.txt"
    bad.write_text(
        "基座\n\nTitle\n\n发布时间:2023.13\n\n发表单位:X\n\n影响力:y\n", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", "serve", "--corpus", str(bad), "--no-warm-up"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "bad.txt:5" in done.stderr


class MissingModelServices:
    """Stands in for AppServices when the LLM file is missing (as the library reports it)."""

    def llm_queue(self) -> int | None:
        return None  # the LLM never started

    def models_state(self) -> str:
        return "cold"  # no warm-up: the question loads the models (and finds one missing)

    def ask_stream(self, question: str, history: tuple[str, ...] = ()) -> Any:
        from rag.llm.generator import ModelMissingError

        raise ModelMissingError("the LLM file is missing: run `kgrag models --install`.")


def test_a_missing_model_is_a_message_in_the_chat_and_the_chat_keeps_working() -> None:
    from ui.app_ask import _respond

    updates = list(_respond(MissingModelServices(), "How does Medusa work?", [], [], None))  # type: ignore[arg-type]
    _, chat, meta, _, asked, _ = updates[-1]
    assert "kgrag models --install" in chat[-1]["content"]
    assert "kg-error" in meta and "Traceback" not in meta
    assert asked == []  # the failed question is not a follow-up subject
    again = list(_respond(MissingModelServices(), "And Medusa?", chat, asked, None))  # type: ignore[arg-type]
    assert len(again[-1][1]) == len(chat) + 2


def test_an_overlong_question_is_a_limit_in_the_chat_not_a_refusal() -> None:
    from kg.limits import MAX_QUESTION_CHARS
    from ui.app_ask import _respond

    question = "What is Medusa? " * (MAX_QUESTION_CHARS // 10)
    updates = list(_respond(MissingModelServices(), question, [], [], None))  # type: ignore[arg-type]
    _, chat, meta, _, asked, _ = updates[-1]
    assert "limit" in chat[-1]["content"] and f"{MAX_QUESTION_CHARS:,}" in chat[-1]["content"]
    assert "kg-error" in meta
    assert asked == []

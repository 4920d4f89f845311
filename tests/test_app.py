"""The app as a person uses it: a live `kgrag serve`, driven in headless Chromium, and its API.

One server (real corpus, real embedder, real LLM, index built in a temp dir) and one browser page
serve the whole module. Every request the page makes is intercepted: anything that would leave
loopback is blocked and counted, and the last test asserts there was none. Screenshots of each
tab go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.corpus import SHIPPED_CORPUS, load_corpus
from kg.graph import build_graph
from kg.queries import lineage
from tests.browser.live import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    LiveServer,
    RequestLog,
    live_server,
    wait_until_index_ready,
)

pytestmark = [pytest.mark.browser, pytest.mark.llm]

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
TWO_ENTRIES_BIB = REPO / "tests" / "fixtures" / "library" / "two_entries.bib"
ANSWER_TIMEOUT_MS = 240_000
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("app")) as live:
        wait_until_index_ready(live)
        yield live
        SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS.parent / "app-server.log").write_text(live.log(), encoding="utf-8")


@pytest.fixture(scope="module")
def requests_seen() -> RequestLog:
    return RequestLog()


@pytest.fixture(scope="module")
def page(server: LiveServer, requests_seen: RequestLog) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: run `make browser-deps` (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        context.route("**/*", requests_seen.route)
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#kg-header")
        yield page
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def kg() -> Any:
    return build_graph(load_corpus(SHIPPED_CORPUS))


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def ask(page: Any, question: str) -> str:
    """Ask in the chat; wait for the checked answer's panel; return the last bot message."""
    open_tab(page, "Ask")
    page.locator("#kg-clear").click()
    page.wait_for_function(
        "!document.querySelector('#kg-answer-meta .kg-badge') && "
        "!document.querySelector('#kg-chat [data-testid=\"bot\"]')"
    )
    page.locator("#kg-question textarea").fill(question)
    page.locator("#kg-ask").click()
    page.wait_for_selector(
        "#kg-answer-meta .kg-badge, #kg-answer-meta .kg-error", timeout=ANSWER_TIMEOUT_MS
    )
    error = page.locator("#kg-answer-meta .kg-error")
    if error.count():
        shoot(page, "ask-error")
        pytest.fail(f"the app showed an error for {question!r}: {error.inner_text()}")
    return str(page.locator('#kg-chat [data-testid="bot"]').last.inner_text())


def shoot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_code_llama_answer_cites_llama_2_and_the_chip_opens_its_card(page: Any, kg: Any) -> None:
    llama2 = kg.paper("llama-2")
    ask(page, "What is Code Llama based on?")
    chip = page.locator(f'#kg-answer-meta .kg-chip[data-open="paper:{llama2.id}"]')
    assert chip.count() == 1, page.locator("#kg-answer-meta").inner_text()
    chip.click()
    page.wait_for_selector(f'#kg-ask-card .kg-card[data-card="{llama2.id}"]')
    card = page.locator("#kg-ask-card").inner_text()
    assert llama2.title in card
    assert llama2.date in card
    assert all(org in card for org in llama2.organizations)
    assert page.locator("#kg-ask-card mark").count() == 1  # the supporting sentence
    shoot(page, "ask")


def test_the_answers_citation_marker_opens_its_card_with_the_supporting_sentence(
    page: Any, kg: Any
) -> None:
    ask(page, "How does Medusa speed up LLM inference?")
    marker = page.locator('#kg-chat [data-testid="bot"]').last.locator(".kg-cite").first
    assert marker.inner_text() == "[1]"
    paper_id = str(page.locator("#kg-answer-meta .kg-chip").first.get_attribute("data-open"))
    paper_id = paper_id.removeprefix("paper:")
    marker.click()
    page.wait_for_selector(f'#kg-ask-card .kg-card[data-card="{paper_id}"]')
    marked = page.locator("#kg-ask-card mark")
    assert marked.count() == 1  # the sentence the answer cites it for, no other

    def squeezed(text: str) -> str:
        return re.sub(r"\s+", "", text)

    assert squeezed(marked.inner_text()) in squeezed(kg.paper(paper_id).abstract)


def test_a_chinese_question_gets_a_chinese_answer(page: Any) -> None:
    text = ask(page, "DoReMi 是如何调整预训练数据的混合比例的?")
    assert len(CJK.findall(text)) > len(LATIN.findall(text)), text
    assert page.locator("#kg-answer-meta .kg-badge").get_attribute("data-route") != "none"
    shoot(page, "ask-chinese")


def test_an_out_of_corpus_question_is_refused_with_no_citation(page: Any) -> None:
    ask(page, "Who won the 2022 FIFA World Cup?")
    meta = page.locator("#kg-answer-meta")
    assert meta.locator(".kg-badge").get_attribute("data-route") == "none"
    assert meta.locator(".kg-chip").count() == 0
    assert "does not cover" in meta.inner_text()
    shoot(page, "ask-refusal")


def test_a_claim_is_checked_against_the_paper_a_search_finds(page: Any, kg: Any) -> None:
    """The Ask tab's "Check a claim" runs `kgrag verify` on the library: the verdict, the
    paper (opening its card) and the sentence it rests on."""
    open_tab(page, "Ask")
    page.locator("#kg-claim-box").get_by_text("Check a claim").click()
    claim = page.locator("#kg-claim textarea")

    def check(text: str) -> Any:
        claim.fill(text)
        page.locator("#kg-check").click()
        page.wait_for_function(  # this claim's verdict (the box keeps the last one until then)
            "t => [...document.querySelectorAll('#kg-claim-result .kg-claim-text, "
            "#kg-claim-result .kg-error')].some(e => e.classList.contains('kg-error') "
            "|| e.textContent.includes(t))",
            arg=text,
            timeout=ANSWER_TIMEOUT_MS,
        )
        error = page.locator("#kg-claim-result .kg-error")
        assert not error.count(), error.inner_text()
        return page.locator("#kg-claim-result .kg-verdict")

    mixtral = kg.paper("mixtral-of-experts")
    kept = check("In Mixtral each token has access to 47B parameters but uses only 13B active "
                 "parameters during inference.")  # fmt: skip
    assert kept.get_attribute("data-verdict") == "supported", kept.inner_text()
    assert "13B" in kept.locator(".kg-evidence").inner_text()
    kept.locator(f'[data-open="paper:{mixtral.id}"]').click()
    page.wait_for_selector(f'#kg-ask-card .kg-card[data-card="{mixtral.id}"]')
    shoot(page, "ask-claim")
    wrong = check("Code Llama 不支持填充功能。")
    assert wrong.get_attribute("data-verdict") == "contradicted", wrong.inner_text()
    assert "Code Llama" in wrong.inner_text()


def test_lineage_of_code_llama_draws_its_ancestors_with_evidence(page: Any, kg: Any) -> None:
    family = lineage(kg, "Code Llama")
    open_tab(page, "Lineage")
    root = page.locator("#kg-lineage-root input")
    root.fill("code llama")
    root.press("Enter")
    page.locator("#kg-lineage-show").click()
    graph = page.locator("#kg-lineage-graph")
    # Wait for the redrawn graph itself: an earlier drawing may already show LLaMA.
    graph.locator('.kg-node.is-root[data-node="paper:code-llama"]').wait_for()
    for node_id in ("paper:llama", "paper:llama-2"):
        assert graph.locator(f'.kg-node[data-node="{node_id}"]').count() == 1
    evidence = next(e.evidence for e in family.edges if e.source.id == "paper:code-llama")
    assert evidence in graph.locator(".kg-evidence-table").inner_text()
    graph.locator(".kg-edge.kind-builds_on .kg-hit").first.click(force=True)
    assert graph.locator(".kg-evidence-box.is-set").count() == 1
    graph.locator('.kg-node[data-node="paper:llama"]').click()
    page.wait_for_selector('#kg-lineage-card .kg-card[data-card="llama"]')
    shoot(page, "lineage")


def test_papers_filter_by_an_organisation_alias_and_open_a_card(page: Any, kg: Any) -> None:
    from kg.queries import papers_by

    google = papers_by(kg, org="Google", include_parts=True)
    open_tab(page, "Papers")
    org = page.locator("#kg-filter-org input")
    org.fill("谷歌")
    org.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#kg-papers-table .kg-paper-row').length === n",
        arg=len(google),
    )
    page.locator("#kg-papers-table .kg-paper-row").first.click()
    page.wait_for_selector(f'#kg-papers-card .kg-card[data-card="{google[0].id}"]')
    shoot(page, "papers")


def test_export_downloads_graphml_that_networkx_reads_back(
    page: Any, kg: Any, tmp_path: Path
) -> None:
    import networkx as nx

    open_tab(page, "Export")
    page.locator("#kg-export-format").get_by_label("graphml").check()
    page.locator("#kg-export-button").click()
    link = page.locator("#kg-export-file a").first
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "graph.graphml"
    download.value.save_as(target)
    graph = nx.read_graphml(target)
    papers = {f"paper:{p.id}" for p in kg.corpus.papers}
    assert papers <= set(graph.nodes)
    assert graph.number_of_nodes() > len(papers)
    assert all("kind" in data and "label" in data for _, data in graph.nodes(data=True))
    shoot(page, "export")


def test_a_malformed_upload_shows_the_line_and_changes_nothing(
    page: Any, server: LiveServer, tmp_path: Path
) -> None:
    shipped_before = hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest()
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "基座\n\nSome New Model: A Paper\n\n发布时间:2023.13\n\n发表单位:Meta\n\n影响力:x\n\n摘要:y\n",
        encoding="utf-8",
    )  # the date is on line 5 and month 13 does not exist
    open_tab(page, "Index")
    page.locator("#kg-upload input[type=file]").set_input_files(str(bad))
    page.locator("#kg-upload-add").click()
    error = page.locator("#kg-upload-result .kg-error")
    error.wait_for(timeout=60_000)
    assert "line 5" in error.inner_text()
    assert not (server.data_dir / "corpus.txt").exists()
    assert not (server.data_dir / "library.jsonl").exists()
    assert hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest() == shipped_before
    assert "26" in page.locator("#kg-index-overview").inner_text()
    shoot(page, "index")


def test_the_api_answers_traces_lineage_and_exports(server: LiveServer, kg: Any) -> None:
    import networkx as nx
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    answer = client.predict("What is Code Llama based on?", api_name="/ask")
    assert "llama-2" in [c["id"] for c in answer["citations"]]
    assert answer["route"] in ("graph", "hybrid", "rag")
    family = client.predict("llama2", api_name="/lineage")
    assert family["root"]["id"] == "paper:llama-2"
    assert "paper:code-llama" in [d["id"] for d in family["descendants"]]
    assert all(e["evidence"] for e in family["edges"])
    path = client.predict("graphml", "Code Llama", api_name="/export_graph")
    subgraph = nx.read_graphml(path)
    assert {"paper:code-llama", "paper:llama-2", "paper:llama"} <= set(subgraph.nodes)
    assert subgraph.number_of_nodes() < kg.graph.number_of_nodes()


def ask_and_wait(page: Any, question: str) -> None:
    """Ask on the Ask tab and wait for the checked answer's route badge."""
    open_tab(page, "Ask")
    page.locator("#kg-clear").click()
    page.wait_for_function("!document.querySelector('#kg-answer-meta .kg-badge')")
    page.locator("#kg-question textarea").fill(question)
    page.locator("#kg-ask").click()
    page.wait_for_selector("#kg-answer-meta .kg-badge", timeout=30_000)


def test_graph_questions_are_not_queued_behind_a_generating_answer(page: Any) -> None:
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector("#kg-header")
    other.locator("#kg-question textarea").fill("How does Medusa speed up LLM inference?")
    other.locator("#kg-ask").click()
    # Wait until the LLM is really generating: its streamed draft has replaced the placeholder,
    # shown as a draft (greyed, labelled "checking…") until the checked answer replaces it.
    other.wait_for_function(
        "() => { const m = document.querySelectorAll('#kg-chat [data-testid=\"bot\"]');"
        " const last = m[m.length - 1];"
        " return last && last.querySelector('.kg-draft .kg-checking')"
        " && last.innerText.trim().length > 12; }",
        timeout=ANSWER_TIMEOUT_MS,
    )
    draft = other.locator('#kg-chat [data-testid="bot"] .kg-draft').last
    assert draft.inner_text().startswith("checking…")
    assert draft.evaluate("e => getComputedStyle(e).fontStyle") == "italic"
    page.bring_to_front()
    questions = ["What did Meta publish?", "谷歌发表了几篇论文?", "What is Code Llama based on?",
                 "有哪些多模态论文?", "Which papers came out in July 2023?", "Code Llama 基于哪个模型?"]  # fmt: skip
    # A graph answer queued behind the LLM would arrive only once the other answer is checked:
    # ask while it generates, and count the graph answers that arrived before it ended.
    answered_while_generating = []
    for question in questions:
        if other.locator("#kg-answer-meta .kg-badge").count():
            break
        ask_and_wait(page, question)
        if not other.locator("#kg-answer-meta .kg-badge").count():
            answered_while_generating.append(question)
    other.wait_for_selector("#kg-answer-meta .kg-badge, #kg-answer-meta .kg-error",
                            timeout=ANSWER_TIMEOUT_MS)  # fmt: skip
    assert other.locator("#kg-chat .kg-draft").count() == 0  # the checked answer replaced it
    other.close()
    assert len(answered_while_generating) >= 2, answered_while_generating


def test_a_valid_upload_is_merged_into_the_user_copy_and_indexed(
    page: Any, server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(server.data_dir))  # the library over the server's list
    shipped = load_corpus(SHIPPED_CORPUS)
    new = tmp_path / "new.txt"
    new.write_text(
        "多模态\n\nExample-VL: A Made-Up Vision Language Model\n\n发布时间:2024.02\n\n"
        "发表单位:Meta\n\n影响力:only used in tests\n\n摘要:我们提出了 Example-VL,一个视觉语言模型。\n",
        encoding="utf-8",
    )
    open_tab(page, "Index")
    page.locator("#kg-upload input[type=file]").set_input_files(str(new))
    page.locator("#kg-upload-add").click()
    notice = page.locator("#kg-upload-result .kg-notice")
    notice.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Added 1 paper" in notice.inner_text()
    assert "index is up to date" in notice.inner_text()
    merged = load_corpus(server.data_dir / "library.jsonl")  # the user's copy: the library
    assert len(merged.papers) == len(shipped.papers) + 1
    assert "up to date" in page.locator("#kg-index-overview").inner_text()


def test_a_bibtex_upload_shows_the_report_and_the_papers_tab_filters_its_authors(
    page: Any, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(server.data_dir))
    library = server.data_dir / "library.jsonl"
    before = len(load_corpus(library if library.exists() else SHIPPED_CORPUS).papers)
    open_tab(page, "Index")
    page.locator("#kg-upload input[type=file]").set_input_files(str(TWO_ENTRIES_BIB))
    page.locator("#kg-upload-add").click()
    # An earlier upload's notice may still show: wait for this file's.
    notice = page.locator("#kg-upload-result .kg-notice", has_text="two_entries.bib")
    notice.wait_for(timeout=ANSWER_TIMEOUT_MS)
    report = notice.inner_text()
    assert "Added 1 paper(s), merged 1, 0 unchanged, 0 rejected" in report
    assert "two_entries.bib (bibtex, 2 entries)" in report
    merged = page.locator('#kg-upload-result li[data-action="merged"]').inner_text()
    assert "flashattention-2" in merged and "filled: venue, arxiv_id, authors" in merged
    added = page.locator('#kg-upload-result li[data-action="added"]').inner_text()
    assert "flashattention" in added and "@dao2022flashattention" in added
    assert "index is up to date" in report
    corpus = load_corpus(library)
    assert len(corpus.papers) == before + 1
    assert corpus.by_id()["flashattention-2"].authors == ("Tri Dao",)
    # No reload: the header and the Papers tab already know the new paper and its authors.
    page.wait_for_function(
        "n => document.querySelector('#kg-header').innerText.includes(n + ' AI papers')",
        arg=before + 1,
    )
    shoot(page, "index-bibtex-report")
    open_tab(page, "Papers")
    for box, value in (("#kg-filter-org", "All"), ("#kg-filter-author", "T. Dao")):
        field = page.locator(f"{box} input")
        field.fill(value)
        field.press("Enter")
    rows = page.locator("#kg-papers-table .kg-paper-row")
    page.wait_for_function(
        "() => document.querySelectorAll('#kg-papers-table .kg-paper-row').length === 3"
    )  # Medusa too: a paper of the list, its authors from data/seed_authors.json
    assert {rows.nth(i).get_attribute("data-open") for i in range(3)} == {
        "paper:flashattention",
        "paper:flashattention-2",
        "paper:medusa",
    }
    page.locator('#kg-papers-table .kg-paper-row[data-open="paper:flashattention"]').click()
    card = page.locator('#kg-papers-card .kg-card[data-card="flashattention"]')
    card.wait_for()
    authors = card.locator(".kg-card-authors").inner_text()
    assert authors.index("Tri Dao") < authors.index("Christopher Ré")
    shoot(page, "papers-author")


def test_a_page_loaded_after_the_uploads_shows_them_and_the_index_up_to_date(
    page: Any, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gradio sends a new page the values built at start: the app redraws them on load."""
    monkeypatch.setenv("KGRAG_DATA_DIR", str(server.data_dir))
    corpus = load_corpus(server.data_dir / "library.jsonl")
    fresh = page.context.new_page()
    fresh.goto(server.url)
    fresh.wait_for_function(
        "n => (document.querySelector('#kg-header')?.innerText || '').includes(n + ' AI papers')",
        arg=len(corpus.papers),
    )
    open_tab(fresh, "Papers")
    fresh.locator('#kg-papers-table .kg-paper-row[data-open="paper:flashattention"]').wait_for()
    open_tab(fresh, "Index")
    overview = fresh.locator("#kg-index-overview").inner_text()
    assert "up to date" in overview and "stale" not in overview
    assert corpus.sha256 in overview
    fresh.close()


def test_every_tab_has_a_screenshot(page: Any) -> None:
    for tab in ("Ask", "Lineage", "Papers", "Export", "Index"):
        open_tab(page, tab)
        time.sleep(0.5)
        assert shoot(page, f"tab-{tab.lower()}").stat().st_size > 10_000


def test_the_page_names_no_external_host_in_its_metadata(server: LiveServer) -> None:
    import urllib.request

    with urllib.request.urlopen(server.url, timeout=10) as response:
        html = response.read().decode("utf-8")
    metas = re.findall(r"<meta\b[^>]*>", html, flags=re.DOTALL)
    assert metas
    external = [m for m in metas if re.search(r'content="https?://(?!127\.0\.0\.1)', m)]
    assert external == []


def test_no_request_left_loopback_during_the_session(page: Any, requests_seen: RequestLog) -> None:
    page.reload()
    page.wait_for_selector("#kg-header")
    assert requests_seen.outside == []

"""Hostile paper titles are text in every tab: never a tag, a request, a live link or a script.

A library of papers whose titles (and abstracts) are HTML, Markdown and script payloads, all
published by Anthropic (no shipped paper is), is served by a real `kgrag serve --no-warm-up`
(graph answers need no model). A tiny HTTP server on loopback counts every request for its
tracking pixel, Chromium blocks and logs anything that leaves loopback (`RequestLog`), and each
payload would set `window.__pwned` or create an element whose id starts with `kgpwn`.
The unit tests at the top check the same on the HTML the app sends.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    LiveServer,
    RequestLog,
    live_server,
)

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
ORG_QUESTION = "Which papers did Anthropic publish?"
OUTSIDE_PIXEL = "http://kgrag-track.invalid/track.png"


def hostile_titles(port: int) -> list[str]:
    """One title per way markup could get in; `port` is the tracking server's."""
    pixel = f"http://127.0.0.1:{port}/track.png"
    return [
        f'<img id="kgpwn-img" src="{pixel}?img" onerror="window.__pwned=1"> Pixel Tracking Study',
        f'<a id="kgpwn-a" href="{pixel}?a">Click Here</a> Anchor Paper',
        '<script id="kgpwn-script">window.__pwned=2</script> Script Injection Models',
        '<img id="kgpwn-onerror" src="x" onerror="window.__pwned=3"> Error Handler Learning',
        '<svg id="kgpwn-svg" onload="window.__pwned=4"><circle r="5"></circle></svg> Vector Nets',
        f"![kgpwn-md]({pixel}?md) Markdown Image Benchmark",
        "[kgpwn-js](javascript:window.__pwned=5) Script Link Corpus",
        f"Bare URL {pixel}?bare Autolink Survey",
        f'<img id="kgpwn-out" src="{OUTSIDE_PIXEL}"> Outside Host Pixel',
    ]


def write_library_file(path: Path, titles: list[str]) -> Path:
    """A JSONL file `kgrag add` reads: the titles as Anthropic papers whose abstracts repeat
    them after a lineage cue (so they are drawn as Llama 2's descendants too)."""
    rows = [
        {"title": title, "date": f"2023-{i + 1:02d}", "organizations": "Anthropic",
         "authors": ["Eve Hostile"], "abstract": f"This model is fine-tuned from Llama 2. {title}"}
        for i, title in enumerate(titles)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# ---- the HTML the app sends ------------------------------------------------------------------


def test_every_ui_module_escapes_through_app_format() -> None:
    """One escaping path: no other module of the app calls `html.escape` itself."""
    offenders = []
    for path in sorted((REPO / "ui").glob("app*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "html":
                offenders.append(path.name)
            if isinstance(node, ast.Import) and any(a.name == "html" for a in node.names):
                offenders.append(path.name)
    assert offenders == ["app_format.py"]


def test_a_chat_message_is_text_with_its_citations_and_line_breaks() -> None:
    from ui.app_format import chat_message

    titles = hostile_titles(8000)
    text = "Two papers:\n- " + " [1]\n- ".join(titles) + " [2]"
    shown = chat_message(text)
    assert "<" not in shown and "&lt;img id=" in shown and "&lt;/script&gt;" in shown
    assert "[1]\n- " in shown and shown.endswith("[2]")  # markers and lines as written
    assert "Here</a> Anchor" not in shown
    assert "don't" in chat_message("don't")  # quotes stay as typed: the copy button copies it


def test_the_chatbot_renders_no_markdown_or_latex() -> None:
    """Markdown would turn `![x](url)` into an image and a bare URL into a link; the chat's
    messages are escaped text, so it renders none (and no LaTeX)."""
    import gradio as gr

    from ui.app_ask import build_ask_tab
    from ui.app_services import AppServices, ServeOptions

    with gr.Blocks() as app:
        build_ask_tab(AppServices(ServeOptions()), "")
    chat = next(b for b in app.blocks.values() if isinstance(b, gr.Chatbot))
    assert chat.render_markdown is False and chat.latex_delimiters == []
    assert chat.sanitize_html is True


@dataclass
class Reply:
    """What `_respond` yields, each step."""

    steps: list[tuple[Any, ...]] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [m["content"] for step in self.steps for m in step[1]]


@pytest.fixture
def hostile_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from kg.library import add_files
    from ui.app_services import AppServices, ServeOptions

    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    add_files([write_library_file(tmp_path / "hostile.jsonl", hostile_titles(8000))])
    return AppServices(ServeOptions())


def test_the_streamed_draft_and_the_answer_are_escaped(hostile_services: Any) -> None:
    from ui.app_ask import _respond
    from ui.app_format import settled_answer

    question = '<img id="kgpwn-q" src="x"> ' + ORG_QUESTION
    reply = Reply(list(_respond(hostile_services, question, [], [], None)))
    assert len(reply.steps) >= 3  # the placeholder, the streamed draft, the checked answer
    draft, final = reply.steps[-2][1][-1]["content"], reply.steps[-1][1][-1]["content"]
    assert "&lt;script id=" in draft and "&lt;script id=" in final
    # the only tags are the answer's own [n] markers, which `settled_answer` makes plain again
    assert all("<" not in settled_answer(message) for message in reply.messages())
    assert "&lt;img id=&quot;kgpwn-q&quot;" not in reply.messages()[0]  # quotes as typed
    assert reply.messages()[0].startswith('&lt;img id="kgpwn-q"')


def test_the_answer_panel_cards_lineage_and_papers_escape_titles(hostile_services: Any) -> None:
    from ui.app_cards import card_html
    from ui.app_format import answer_panel
    from ui.app_lineage import lineage_html
    from ui.app_papers import ALL, filtered
    from ui.app_services import AppServices

    services: AppServices = hostile_services
    answer = [i for i in services.ask_stream(ORG_QUESTION) if not isinstance(i, str)][0]
    table, _ = filtered(services, "Anthropic", ALL, ALL, "")
    pages = {
        "panel": answer_panel(answer),
        "papers": table,
        "cards": "".join(card_html(services, f"paper:{s.id}") for s in answer.sources),
        "lineage": lineage_html(services, "llama2", "", 3, True, False),
    }
    for name, html in pages.items():
        assert "kgpwn" in html, name  # the titles are there …
        for tag in ("<img", "<script", "<svg id", "<a id", "<circle"):
            assert tag not in html, (name, tag)  # … as text only


# ---- the live app in Chromium ----------------------------------------------------------------

INERT_JS = """() => {
  const bad = [];
  const urls = ['src', 'href', 'xlink:href', 'srcset', 'action', 'formaction', 'poster', 'data'];
  for (const el of document.querySelectorAll('*')) {
    if (el.id && el.id.startsWith('kgpwn')) bad.push('element: ' + el.outerHTML.slice(0, 160));
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      if (urls.includes(name) && /track\\.png|javascript:|kgrag-track/i.test(a.value))
        bad.push(name + '=' + a.value);
      if (name.startsWith('on') && /pwned/.test(a.value)) bad.push(name + '=' + a.value);
    }
  }
  if (window.__pwned !== undefined) bad.push('a script ran: __pwned=' + window.__pwned);
  return bad;
}"""


@dataclass
class Tracker:
    """A loopback HTTP server that counts the requests for its tracking pixel."""

    port: int = 0
    hits: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def tracker() -> Iterator[Tracker]:
    seen = Tracker()

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server hook's name)
            seen.hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    seen.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def titles(tracker: Tracker) -> list[str]:
    return hostile_titles(tracker.port)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, titles: list[str]
) -> Iterator[tuple[LiveServer, Path]]:
    from kg.library import add_files

    root = tmp_path_factory.mktemp("hostile-app")
    library_file = write_library_file(root / "hostile.jsonl", titles)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KGRAG_DATA_DIR", str(root / "data"))  # where `live_server` puts its data
        env.delenv("KGRAG_CORPUS", raising=False)
        report = add_files([library_file])
    assert len(report.of("added")) == len(titles)
    with live_server(root, extra_args=["--no-warm-up"]) as live:
        yield live, library_file


@dataclass
class Browser:
    page: Any
    outside: RequestLog
    requested: list[str]


@pytest.fixture(scope="module")
def browser(server: tuple[LiveServer, Path]) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside, requested = RequestLog(), []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", outside.route)
        context.on("request", lambda request: requested.append(request.url))
        page = context.new_page()
        page.goto(server[0].url)
        page.wait_for_selector("#kg-header")
        yield Browser(page, outside, requested)
        context.close()
        chromium.close()


def assert_inert(browser: Browser, where: str) -> None:
    """Nothing built from a title anywhere in the page, no script run, no pixel fetched."""
    page = browser.page
    page.wait_for_timeout(300)  # an image request would start as the element is added
    page.screenshot(path=str(SCREENSHOTS / f"hostile-{where}.png"), full_page=True)
    assert page.evaluate(INERT_JS) == [], where
    assert [u for u in browser.requested if "track.png" in u] == [], where


def assert_shown(text: str, titles: list[str], where: str) -> None:
    missing = [t for t in titles if t not in text]
    assert missing == [], f"{where} does not show these titles literally"


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


@pytest.mark.browser
def test_the_ask_chat_lists_hostile_titles_as_text(browser: Browser, titles: list[str]) -> None:
    page = browser.page
    open_tab(page, "Ask")
    page.locator("#kg-question textarea").fill(ORG_QUESTION)
    page.locator("#kg-ask").click()
    page.wait_for_selector("#kg-answer-meta .kg-badge", timeout=60_000)
    assert_inert(browser, "ask")
    answer = page.locator('#kg-chat [data-testid="bot"]').last.inner_text()
    assert_shown(answer, titles, "the chat")
    assert "[1]" in answer and "\n" in answer.strip()  # citation markers, one line a paper
    assert_shown(page.locator("#kg-answer-meta").inner_text(), titles, "the sources")
    # A second answer in the same chat: the first comes back from the page and is shown as it
    # was, not escaped twice.
    page.locator("#kg-question textarea").fill(ORG_QUESTION)
    page.locator("#kg-ask").click()
    bubbles = page.locator('#kg-chat [data-testid="bot"]')
    page.wait_for_function(
        "() => document.querySelectorAll('#kg-chat [data-testid=\"bot\"]')"
        ".length === 2 && document.querySelector('#kg-answer-meta .kg-badge')"
    )
    assert_shown(bubbles.first.inner_text(), titles, "the first answer")
    assert "&lt;" not in bubbles.first.inner_text()
    page.locator("#kg-answer-meta .kg-chip").first.click()
    page.wait_for_selector("#kg-ask-card .kg-card[data-card]")
    assert_shown(page.locator("#kg-ask-card").inner_text(), titles[:1], "the card")
    assert_inert(browser, "ask-card")


@pytest.mark.browser
def test_the_papers_tab_and_its_cards_show_hostile_titles_as_text(
    browser: Browser, titles: list[str]
) -> None:
    page = browser.page
    open_tab(page, "Papers")
    org = page.locator("#kg-filter-org input")
    org.fill("Anthropic")
    org.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#kg-papers-table .kg-paper-row').length === n",
        arg=len(titles),
    )
    assert_shown(page.locator("#kg-papers-table").inner_text(), titles, "the Papers tab")
    rows = page.locator("#kg-papers-table .kg-paper-row")
    for i in range(rows.count()):
        rows.nth(i).click()
        page.locator("#kg-papers-card .kg-card-title", has_text=titles[i]).wait_for()
    assert_inert(browser, "papers")


@pytest.mark.browser
def test_the_lineage_tab_draws_hostile_titles_as_text(browser: Browser, titles: list[str]) -> None:
    page = browser.page
    open_tab(page, "Lineage")
    root = page.locator("#kg-lineage-root input")
    root.fill("llama2")
    root.press("Enter")
    page.locator("#kg-lineage-show").click()
    graph = page.locator("#kg-lineage-graph")
    graph.locator('.kg-node.is-root[data-node="paper:llama-2"]').wait_for()
    evidence = graph.locator(".kg-evidence-table").inner_text()
    assert evidence.count("fine-tuned") >= len(titles)
    assert "Script Injection Models" in evidence and "<script" in evidence  # as text
    labels = graph.locator(".kg-node title").all_text_contents()
    assert titles[2] in labels  # a whole title, shown on hover
    graph.locator(".kg-node", has_text="Vector Nets").first.click()
    page.locator("#kg-lineage-card .kg-card-title", has_text=titles[4]).wait_for()
    assert_inert(browser, "lineage")


@pytest.mark.browser
def test_the_export_tab_names_a_hostile_scope_as_text(browser: Browser, titles: list[str]) -> None:
    page = browser.page
    open_tab(page, "Export")
    scope = page.locator("#kg-export-root input")
    scope.fill(titles[2])  # a title without a colon is its own work name
    scope.press("Enter")
    page.locator("#kg-export-button").click()
    notice = page.locator("#kg-export-status .kg-notice")
    notice.wait_for(timeout=60_000)
    assert_shown(notice.inner_text(), titles[2:3], "the export notice")
    scope.fill("kgpwn")  # the dropdown lists the matching works
    page.wait_for_timeout(300)
    assert_inert(browser, "export")


@pytest.mark.browser
def test_the_upload_report_names_hostile_titles_as_text(
    browser: Browser, server: tuple[LiveServer, Path], titles: list[str]
) -> None:
    page = browser.page
    open_tab(page, "Index")
    page.locator("#kg-upload input[type=file]").set_input_files(str(server[1]))
    page.locator("#kg-upload-add").click()
    notice = page.locator("#kg-upload-result .kg-notice")
    notice.wait_for(timeout=60_000)
    report = notice.inner_text()
    assert f"Skipped {len(titles)} already in the corpus" in report  # the same file again
    assert_shown(report, titles, "the upload report")
    assert_inert(browser, "upload")


@pytest.mark.browser
def test_no_title_reached_the_network(browser: Browser, tracker: Tracker) -> None:
    browser.page.reload()
    browser.page.wait_for_selector("#kg-header")
    assert_inert(browser, "reloaded")
    assert tracker.hits == []
    assert browser.outside.outside == []

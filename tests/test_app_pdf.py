"""A PDF in the app as a person uses it: `kgrag add paper.pdf`, then a live `kgrag serve` in
headless Chromium; a question about the paper's body is answered, its citation chip opens the
paper's card (clicked as the answer's `[n]`), and the card shows the cited page as an image with the
supporting passage marked.

The question is a `tune` item of data/eval/pdf_body_dev.jsonl; its page is the dev set's."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from kg.pdf.render import highlighted_page
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

PDF = REPO / "tests" / "fixtures" / "pdf" / "quillwort.pdf"
DEV = [json.loads(line) for line in (REPO / "data/eval/pdf_body_dev.jsonl")
       .read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
QUESTION = next(q for q in DEV if q["id"] == "quillwort-01" and q["part"] == "tune")
ANSWER_TIMEOUT_MS = 240_000
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("app-pdf")
    env = dict(os.environ, KGRAG_DATA_DIR=str(root / "data"), HF_HUB_OFFLINE="1")
    env.pop("KGRAG_CORPUS", None)
    added = subprocess.run([sys.executable, "-m", "ui.cli", "add", str(PDF)], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert added.returncode == 0, added.stderr
    with live_server(root) as live:
        wait_until_index_ready(live)
        yield live


@pytest.fixture(scope="module")
def page(server: LiveServer) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    requests = RequestLog()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", requests.route)
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#kg-header")
        yield page
        context.close()
        browser.close()
    assert requests.outside == [], requests.outside


def _png(page: Any, selector: str) -> Any:
    from PIL import Image

    src = page.locator(selector).get_attribute("src")
    assert src and src.startswith("data:image/png;base64,"), src
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")


def test_a_body_answer_cites_its_page_and_the_card_shows_the_page_marked(
    page: Any, server: LiveServer
) -> None:
    page.get_by_role("tab", name="Ask").click()
    page.locator("#kg-question textarea").fill(QUESTION["question"])
    page.locator("#kg-ask").click()
    page.wait_for_selector("#kg-answer-meta .kg-badge", timeout=ANSWER_TIMEOUT_MS)
    answer = page.locator('#kg-chat [data-testid="bot"]').last.inner_text()
    assert any(fact in answer for fact in QUESTION["expect_any"]), answer

    library = [json.loads(line) for line in (server.data_dir / "library.jsonl")
               .read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    paper_id = next(e["paper"]["id"] for e in library if e.get("paper", {}).get("pdf_sha256"))
    chip = page.locator(f'#kg-answer-meta .kg-chip[data-open="paper:{paper_id}"]')
    number = chip.locator("b").inner_text()
    marker = page.locator('#kg-chat [data-testid="bot"]').last.locator(".kg-cite")
    marker.filter(has_text=f"[{number}]").first.click()  # the answer's [n] opens its card
    figure = page.locator("#kg-ask-card .kg-page")
    figure.wait_for()
    assert figure.locator("figcaption").inner_text() == f"p. {QUESTION['page']}"
    marked_sentence = page.locator("#kg-ask-card .kg-page mark").inner_text()
    assert any(fact in marked_sentence for fact in QUESTION["expect_any"]), marked_sentence
    assert page.locator("#kg-ask-card mark").count() == 1  # no abstract sentence marked too

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#kg-ask-card").screenshot(path=str(SCREENSHOTS / "ask-pdf-card.png"))
    shown = _png(page, "#kg-ask-card .kg-page img")
    from PIL import Image, ImageChops

    plain = Image.open(io.BytesIO(highlighted_page(PDF, QUESTION["page"], ""))).convert("RGB")
    assert shown.size == plain.size
    changed = ImageChops.difference(shown, plain).convert("L").point(lambda v: 255 if v else 0)
    assert changed.getbbox() is not None  # the passage is marked on the page
    assert sum(changed.histogram()[255:]) > 1_000, "too few pixels marked for a sentence"

"""The app survives an LLM worker that really crashes: the chat shows what to do, graph answers
keep working, and the next LLM question starts a fresh worker (which crashes again here, proving
the server itself is still up)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.live import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    live_server,
    wait_until_index_ready,
)

pytestmark = [pytest.mark.browser, pytest.mark.llm]

RAG_QUESTION = "How does speculative decoding speed up inference?"


@pytest.fixture(scope="module")
def crashing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("crash-app")
    with live_server(root, extra_env={"KGRAG_WORKER_FAULT": "segv"}) as live:
        wait_until_index_ready(live)
        yield live


@pytest.fixture(scope="module")
def page(crashing_server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "run `make browser-deps` (Debian's chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(crashing_server.url)
        page.wait_for_selector("#kg-header")
        yield page
        browser.close()


def ask(page: Any, question: str) -> Any:
    page.locator("#kg-clear").click()
    page.wait_for_function("!document.querySelector('#kg-answer-meta .kg-badge, .kg-error')")
    page.locator("#kg-question textarea").fill(question)
    page.locator("#kg-ask").click()
    page.wait_for_selector("#kg-answer-meta .kg-badge, #kg-answer-meta .kg-error", timeout=240_000)
    return page.locator("#kg-answer-meta")


def test_a_crash_is_shown_in_the_chat_and_the_app_keeps_answering(
    page: Any, crashing_server: LiveServer
) -> None:
    meta = ask(page, RAG_QUESTION)
    error = meta.locator(".kg-error").inner_text()
    assert "SIGSEGV" in error and "kgrag doctor" in error
    chat = page.locator('#kg-chat [data-testid="bot"]').last.inner_text()
    assert "LLM worker stopped" in chat
    assert crashing_server.process.poll() is None

    meta = ask(page, "What did Meta publish?")
    assert meta.locator(".kg-badge").get_attribute("data-route") == "graph"
    assert meta.locator(".kg-chip").count() >= 1

    meta = ask(page, RAG_QUESTION)  # a fresh worker is started for it (and crashes again)
    assert "SIGSEGV" in meta.locator(".kg-error").inner_text()
    assert crashing_server.process.poll() is None
    assert crashing_server.log().count("Traceback") == 0

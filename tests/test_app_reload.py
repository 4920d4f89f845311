"""The app serves the library as it is now: `kgrag add` / `kgrag remove` in another process, or
an index rebuilt by one, show at the next answer, listing and page load.

The unit tests change the files through `kg.library` in this process, exactly as the CLI would
in another; the browser tests run the real `kgrag add` / `kgrag remove` beside a live
`kgrag serve --no-warm-up` (graph answers and listings only: no model is loaded).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kg.corpus import SHIPPED_CORPUS, load_corpus
from kg.library import add_files, remove_papers
from tests.browser.live import CHROMIUM, CHROMIUM_ARGS, REPO, LiveServer, live_server
from ui.app_services import AppServices, ServeOptions

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
ORG_QUESTION = "Which papers did Anthropic publish?"  # no shipped paper is Anthropic's
SHIPPED_PAPERS = 26
NEW = {
    "a-made-up-study-of-helpful-assistants": "A Made-Up Study of Helpful Assistants",
    "a-made-up-survey-of-honest-models": "A Made-Up Survey of Honest Models",
}
GONE, KEPT = NEW  # the paper `kgrag remove` takes out, and the one left


def new_papers_file(folder: Path) -> Path:
    path = folder / "anthropic.jsonl"
    rows = [{"title": title, "date": f"2023-1{i}", "organizations": "Anthropic"}
            for i, title in enumerate(NEW.values())]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def answered(services: AppServices, question: str = ORG_QUESTION) -> set[str]:
    """The ids of the papers a (graph) answer cites."""
    answer = [item for item in services.ask_stream(question) if not isinstance(item, str)][-1]
    assert answer.route == "graph", answer.text
    return {c.id for c in answer.citations}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KGRAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


# ---- AppServices ------------------------------------------------------------------------------


def test_an_add_and_a_remove_by_another_process_are_served_at_the_next_use(
    data_dir: Path, tmp_path: Path
) -> None:
    services = AppServices(ServeOptions())
    assert len(services.papers()) == SHIPPED_PAPERS
    add_files([new_papers_file(tmp_path)])  # what `kgrag add` writes, from another process
    assert services.corpus_path() == data_dir / "library.jsonl"
    assert len(services.papers()) == SHIPPED_PAPERS + 2
    assert answered(services) == set(NEW)
    remove_papers([GONE])  # `kgrag remove`
    assert GONE not in services.corpus().by_id() and KEPT in services.corpus().by_id()
    assert answered(services) == {KEPT}
    remove_papers(["llama"])  # a paper of the shipped list goes too
    assert "llama" not in {c.id for c in services.kg().corpus.papers}


def test_nothing_is_reloaded_while_the_files_stay_the_same(data_dir: Path, tmp_path: Path) -> None:
    services = AppServices(ServeOptions())
    add_files([new_papers_file(tmp_path)])
    graph = services.kg()
    (data_dir / "notes.txt").write_text("not the library", encoding="utf-8")
    assert not services.refresh() and services.kg() is graph


def test_the_llm_worker_is_kept_across_a_reload(data_dir: Path, tmp_path: Path) -> None:
    services = AppServices(ServeOptions())
    engine = services.engine()
    worker = object()
    engine._generator = worker  # type: ignore[assignment]  # a started LLM worker
    add_files([new_papers_file(tmp_path)])
    fresh = services.engine()
    assert fresh is not engine and fresh.kg is services.kg()
    assert fresh._generator is worker  # the new papers need no new llama.cpp process


def test_an_app_given_a_list_ignores_the_library(data_dir: Path, tmp_path: Path) -> None:
    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    add_files([new_papers_file(tmp_path)])
    assert len(services.papers()) == SHIPPED_PAPERS and not services.refresh()


def _manifest(corpus_sha256: str, built_at: str) -> Any:
    from rag.stores.base import Manifest

    return Manifest(format="kgrag-index v2", corpus_sha256=corpus_sha256, embedder="toy", dim=4,
                    kgrag_version="0", built_at=built_at, index_type="flat", passages=28,
                    rows_sha256="rows")  # fmt: skip


def _write_manifest(folder: Path, manifest: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest.to_json()), encoding="utf-8")


def test_the_index_tab_reads_an_index_another_process_updated(
    data_dir: Path, tmp_path: Path
) -> None:
    from ui.app_index import index_overview

    services = AppServices(ServeOptions())
    assert "no index yet" in index_overview(services)
    old = _manifest(services.corpus().sha256, "2026-01-01T00:00:00Z")
    services._shared.index = SimpleNamespace(manifest=old)  # type: ignore[assignment]  # opened
    add_files([new_papers_file(tmp_path)])
    corpus = load_corpus(data_dir / "library.jsonl")
    # `kgrag index` (another process) brings the index up to date with the new library:
    _write_manifest(tmp_path / "index", _manifest(corpus.sha256, "2026-01-02T00:00:00Z"))
    overview = index_overview(services)
    assert "up to date with the corpus" in overview and "stale" not in overview
    assert corpus.sha256 in overview and f"<b>{SHIPPED_PAPERS + 2}</b>" in overview
    assert services.manifest() is not None and services.manifest().built_at.endswith("02T00:00:00Z")


def test_the_app_keeps_an_index_it_updated_itself(data_dir: Path, tmp_path: Path) -> None:
    services = AppServices(ServeOptions())
    mine = _manifest(services.corpus().sha256, "2026-01-01T00:00:00Z")
    services._shared.index = SimpleNamespace(manifest=mine)  # type: ignore[assignment]
    engine = services.engine()
    _write_manifest(tmp_path / "index", mine)  # what its own update wrote
    assert not services.refresh() and services.engine() is engine


# ---- a live app beside the CLI ----------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("reload-app"), extra_args=["--no-warm-up"]) as live:
        yield live


@pytest.fixture(scope="module")
def context(server: LiveServer) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def early_page(context: Any, server: LiveServer) -> Any:
    """A page opened before any CLI change, never reloaded."""
    return open_page(context, server, SHIPPED_PAPERS)


def open_page(context: Any, server: LiveServer, papers: int) -> Any:
    """A new page, once its load events have shown `papers` in the header."""
    from playwright.sync_api import TimeoutError as PageTimeout

    page = context.new_page()
    page.goto(server.url)
    try:
        page.wait_for_function(
            "n => (document.querySelector('#kg-header')?.innerText || '').includes(n + ' AI papers')",
            arg=papers,
            timeout=30_000,
        )
    except PageTimeout:
        pytest.fail(f"a new page still says {page.locator('#kg-header').inner_text()!r}, "
                    f"not {papers} papers")  # fmt: skip
    return page


def ask_ids(page: Any, question: str = ORG_QUESTION) -> set[str]:
    """Ask in the chat; the paper ids of the checked answer's citation chips."""
    page.get_by_role("tab", name="Ask").click()
    page.locator("#kg-clear").click()
    page.wait_for_function("!document.querySelector('#kg-answer-meta .kg-badge')")
    page.locator("#kg-question textarea").fill(question)
    page.locator("#kg-ask").click()
    page.wait_for_selector("#kg-answer-meta .kg-badge", timeout=60_000)
    chips = page.locator("#kg-answer-meta .kg-chip")
    return set(chips.evaluate_all("cs => cs.map(c => String(c.dataset.open))"))  # in one read


def listed_ids(page: Any, count: int, org: str = "Anthropic") -> set[str]:
    """The paper ids of the Papers tab's rows for `org`, once there are `count` of them."""
    page.get_by_role("tab", name="Papers").click()
    box = page.locator("#kg-filter-org input")
    box.fill(org)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#kg-papers-table .kg-paper-row').length === n",
        arg=count,
    )
    rows = page.locator("#kg-papers-table .kg-paper-row")
    return set(rows.evaluate_all("rs => rs.map(r => String(r.dataset.open))"))  # in one read


Run = Callable[..., Any]


@pytest.mark.browser
def test_a_page_loaded_after_kgrag_add_shows_the_new_library(
    server: LiveServer, context: Any, early_page: Any, run_kgrag: Run, tmp_path: Path
) -> None:
    assert listed_ids(early_page, 0) == set()  # nothing of Anthropic's yet
    added = run_kgrag("add", str(new_papers_file(tmp_path)), KGRAG_DATA_DIR=str(server.data_dir))
    assert added.returncode == 0, added.stderr
    page = open_page(context, server, SHIPPED_PAPERS + 2)
    assert listed_ids(page, 2) == {f"paper:{i}" for i in NEW}
    page.get_by_role("tab", name="Index").click()
    overview = page.locator("#kg-index-overview").inner_text()
    assert "library.jsonl" in overview and "stale" not in overview
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KGRAG_DATA_DIR", str(server.data_dir))
        assert load_corpus(server.data_dir / "library.jsonl").sha256 in overview
    page.screenshot(path=str(SCREENSHOTS / "reload-after-add.png"), full_page=True)
    page.close()
    # the page opened before the add answers from the new library
    assert ask_ids(early_page) == {f"paper:{i}" for i in NEW}


@pytest.mark.browser
def test_after_kgrag_remove_the_app_neither_lists_nor_answers_from_the_paper(
    server: LiveServer, context: Any, early_page: Any, run_kgrag: Run
) -> None:
    from gradio_client import Client

    removed = run_kgrag("remove", GONE, KGRAG_DATA_DIR=str(server.data_dir))
    assert removed.returncode == 0, removed.stderr
    assert ask_ids(early_page) == {f"paper:{KEPT}"}
    page = open_page(context, server, SHIPPED_PAPERS + 1)
    assert listed_ids(page, 1) == {f"paper:{KEPT}"}
    page.close()
    api = Client(server.url, verbose=False).predict("Anthropic", False, api_name="/papers")
    assert [p["id"] for p in api] == [KEPT]

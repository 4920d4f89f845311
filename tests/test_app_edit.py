"""Issue 23 in the app: the organisation and category boxes filter their choices by any alias
as one types; cards link arXiv ids and DOIs safely and say when authors are unknown; a paper's
card edits its organisation, category and date (saved like `kgrag edit`); the Ask tab's chat
has no label or icon over its messages and its waiting note knows whether the models loaded;
the Export tab writes BibTeX.

The unit tests build the pieces without a browser; the browser tests drive a live
`kgrag serve --no-warm-up` (no model is loaded) in headless Chromium."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kg.corpus import SHIPPED_CORPUS, load_corpus
from tests.browser.live import CHROMIUM, CHROMIUM_ARGS, REPO, LiveServer, live_server
from ui.app_services import AppServices, ServeOptions

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
SHIPPED_SHA = hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KGRAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


def gradio_filter(choices: list[tuple[str, str]], typed: str) -> list[str]:
    """What Gradio's dropdown shows for typed text: the choices whose label contains it,
    ignoring case (its frontend's filter)."""
    return [value for label, value in choices if typed.lower() in label.lower()]


# ---- the boxes' choices --------------------------------------------------------------------


def test_the_organisation_box_finds_a_choice_by_any_alias() -> None:
    from ui.app_papers import filter_choices

    orgs, categories, _ = filter_choices(load_corpus(SHIPPED_CORPUS).papers)
    assert ("Google · 谷歌 · Google Research · Google AI · Google Brain · 谷歌大脑 · 谷歌研究院",
            "Google") in orgs  # fmt: skip
    assert gradio_filter(orgs, "谷歌") == ["Google", "Google DeepMind"]
    assert gradio_filter(orgs, "普林斯顿") == ["Princeton University"]
    assert gradio_filter(orgs, "msra") == ["Microsoft Research"]
    assert gradio_filter(categories, "多模态") == ["multimodal"]
    assert gradio_filter(categories, "智能体") == ["agent"]
    assert gradio_filter(categories, "On-device") == ["on-device"]


def test_a_choice_s_value_is_what_the_filters_take() -> None:
    from ui.app_papers import ALL, select_papers

    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    by_value = select_papers(services, "Google", "multimodal", ALL, "")
    by_alias = select_papers(services, "谷歌", "多模态", ALL, "")
    assert by_value == by_alias


# ---- cards ---------------------------------------------------------------------------------


def test_a_card_links_the_arxiv_id_and_the_doi_in_a_new_tab() -> None:
    from ui.app_format import paper_card

    paper = replace(load_corpus(SHIPPED_CORPUS).by_id()["specinfer"], arxiv_id="2305.09781",
                    doi="10.1145/3620666.3651335")  # fmt: skip
    html = paper_card(paper)
    assert ('<a class="kg-ext" href="https://arxiv.org/abs/2305.09781" target="_blank" '
            'rel="noopener noreferrer">arXiv:2305.09781</a>') in html  # fmt: skip
    assert 'href="https://doi.org/10.1145/3620666.3651335" target="_blank"' in html


@pytest.mark.parametrize(
    ("arxiv_id", "doi"),
    [("javascript:alert(1)", "javascript:alert(1)"),
     ('2305.09781" onmouseover="alert(1)', "JaVaScRiPt:alert(document.cookie)"),
     ("data:text/html,<script>alert(1)</script>", " vbscript:msgbox(1)"),
     ("2305.09781\njavascript:alert(1)", "10.1000/x\njavascript:alert(1)")],
)  # fmt: skip
def test_hostile_ids_never_make_a_link(arxiv_id: str, doi: str) -> None:
    from ui.app_format import paper_card

    paper = replace(load_corpus(SHIPPED_CORPUS).by_id()["specinfer"], arxiv_id=arxiv_id, doi=doi)
    html = paper_card(paper)
    assert "kg-ext" not in html and "javascript:" not in html.lower()
    assert "<script" not in html and 'onmouseover="' not in html


def test_a_doi_with_markup_is_linked_percent_encoded_and_shown_escaped() -> None:
    from ui.app_format import doi_link

    html = doi_link('10.1234/a"><script>alert(1)</script>')
    [href] = re.findall(r'href="([^"]*)"', html)
    assert href == "https://doi.org/10.1234/a%22%3E%3Cscript%3Ealert%281%29%3C/script%3E"
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_cards_name_where_curated_authors_come_from_and_when_they_are_unknown() -> None:
    from ui.app_cards import card_html

    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    flash = card_html(services, "paper:flashattention-2")
    assert 'data-open="author:tri-dao">Tri Dao</a>' in flash
    assert (
        'href="https://arxiv.org/abs/2307.08691" target="_blank" rel="noopener noreferrer"' in flash
    )
    gemini = card_html(services, "paper:gemini")
    assert "kg-unknown" in gemini and "Authors</span> unknown" in gemini


# ---- editing -------------------------------------------------------------------------------


def test_the_card_form_saves_like_kgrag_edit_and_the_filters_follow(data_dir: Path) -> None:
    import gradio as gr

    from ui.app_papers import ALL, _PaperEditor, filter_choices, select_papers

    services = AppServices(ServeOptions())
    with gr.Blocks():
        editor = _PaperEditor(services)
    shown = editor.show("paper:kosmos-2")
    assert shown[1:5] == ("kosmos-2", "Salesforce", "multimodal", "2023-06")
    assert editor.show("author:tri-dao")[1] == ""  # another card: the form is hidden
    status = editor.save("kosmos-2", "微软", "multimodal", "2023-06")
    assert "organizations Salesforce → Microsoft" in status and "kg-notice" in status
    assert "kosmos-2" in [p.id for p in select_papers(services, "Microsoft", ALL, ALL, "")]
    orgs, _, _ = filter_choices(services.papers())
    assert "Salesforce" in [v for _, v in orgs]  # BLIP-2 still is Salesforce's
    assert "nothing to save" in editor.save("kosmos-2", "Microsoft", "", "").lower()
    assert "kg-error" in editor.save("kosmos-2", "", "", "2023-13")
    assert hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest() == SHIPPED_SHA


def test_an_app_serving_a_given_list_refuses_edits() -> None:
    from kg.errors import KgragError
    from kg.library import PaperEdit

    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    with pytest.raises(KgragError, match="kgrag edit"):
        services.edit_paper("kosmos-2", PaperEdit(date="2023-07"))


# ---- the Ask tab's waiting note -------------------------------------------------------------


def test_the_waiting_note_knows_whether_the_warm_up_finished(data_dir: Path) -> None:
    from ui.app_ask import _waiting_note

    services = AppServices(ServeOptions())
    assert "first question loads the models" in _waiting_note(services)  # --no-warm-up
    release = threading.Event()
    services.warm = release.wait  # type: ignore[method-assign]  # the models "loading"
    thread = services.warm_up()
    try:
        assert "still loading" in _waiting_note(services)
    finally:
        release.set()
        thread.join(10)
    assert _waiting_note(services) == "Thinking…"  # the issue: it still said "first question"


def test_a_failed_warm_up_says_the_question_loads_them_again(data_dir: Path) -> None:
    from kg.errors import KgragError
    from ui.app_ask import _waiting_note

    def fail() -> None:
        raise KgragError("the model is missing")

    services = AppServices(ServeOptions())
    services.warm = fail  # type: ignore[method-assign]
    services.warm_up().join(10)
    assert "did not load at start" in _waiting_note(services)


# ---- export ---------------------------------------------------------------------------------


def test_the_export_tab_writes_every_paper_as_bibtex() -> None:
    from ui.app_export import export_graph_file

    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    path = export_graph_file(services, "bibtex", "Code Llama")  # the scope: graph formats only
    text = path.read_text(encoding="utf-8")
    assert path.suffix == ".bib" and text.count("\n@") + 1 == 26
    assert "author = {Tri Dao}" in text


# ---- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("edit-app"), extra_args=["--no-warm-up"]) as live:
        yield live


@pytest.fixture(scope="module")
def page(server: LiveServer) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url)
        page.wait_for_selector("#kg-header")
        yield page
        browser.close()


def type_into(page: Any, box: str, text: str) -> list[str]:
    """Type `text` into a dropdown as a person does (an input method commits 谷歌 without a key
    press per character) and return the choices it then shows."""
    field = page.locator(f"{box} input")
    field.click()
    field.press("Control+a")
    field.press("Backspace")
    field.press_sequentially(text, delay=40)
    # The choices are read in the same script that sees them settle: the list is redrawn as
    # the typing lands, so counting first and reading each later can ask for a gone option.
    shown = page.wait_for_function(
        """t => {
            const texts = [...document.querySelectorAll('[data-testid=dropdown-option]')]
                .map(o => o.innerText);
            const settled = texts.length > 0
                && texts.every(x => x.toLowerCase().includes(t.toLowerCase()));
            return settled ? texts : null;
        }""",
        arg=text,
    )
    return list(shown.json_value())


def rows(page: Any) -> set[str]:
    """The rows' paper ids, read in one go (the table may be redrawn meanwhile)."""
    found = page.locator("#kg-papers-table .kg-paper-row")
    return set(found.evaluate_all("rs => rs.map(r => r.dataset.open)"))


@pytest.mark.browser
def test_the_organisation_box_filters_by_a_chinese_alias_as_one_types(page: Any) -> None:
    page.get_by_role("tab", name="Papers").click()
    shown = type_into(page, "#kg-filter-org", "谷歌")
    assert [s.split(" · ")[0] for s in shown] == ["Google", "Google DeepMind"]
    page.locator("[data-testid=dropdown-option]", has_text="Google · 谷歌").click()
    page.wait_for_function("() => document.querySelectorAll('#kg-papers-table .kg-paper-row')"
                           ".length === 5")  # fmt: skip
    assert "paper:gemini" in rows(page)
    shown = type_into(page, "#kg-filter-category", "多模态")
    assert [s.split(" · ")[0] for s in shown] == ["多模态"]
    page.screenshot(path=str(SCREENSHOTS / "papers-alias-filter.png"), full_page=True)
    type_into(page, "#kg-filter-category", "All")
    page.locator("[data-testid=dropdown-option]", has_text="All").first.click()


@pytest.mark.browser
def test_a_card_edit_of_the_organisation_shows_in_the_papers_filter(
    page: Any, server: LiveServer
) -> None:
    page.get_by_role("tab", name="Papers").click()
    type_into(page, "#kg-filter-org", "All")
    page.locator("[data-testid=dropdown-option]", has_text="All").first.click()
    page.locator('#kg-papers-table .kg-paper-row[data-open="paper:kosmos-2"]').click()
    page.wait_for_selector('#kg-papers-card .kg-card[data-card="kosmos-2"]')
    editor = page.locator("#kg-edit").first
    editor.wait_for(state="visible")
    assert page.locator("#kg-edit-org input").input_value().startswith("Salesforce")
    type_into(page, "#kg-edit-org", "微软")
    page.locator("[data-testid=dropdown-option]", has_text="Microsoft · 微软").click()
    page.locator("#kg-edit-save").click()
    status = page.locator("#kg-edit-status .kg-notice")
    status.wait_for()
    assert "organizations Salesforce → Microsoft" in status.inner_text()
    card = page.locator('#kg-papers-card .kg-card[data-card="kosmos-2"] .kg-card-orgs')
    page.wait_for_function("() => document.querySelector('#kg-papers-card .kg-card-orgs')"
                           "?.innerText.includes('Microsoft')")  # fmt: skip
    assert "Salesforce" not in card.inner_text()
    type_into(page, "#kg-filter-org", "微软")
    page.locator("[data-testid=dropdown-option]", has_text="Microsoft · 微软").click()
    microsoft = [
        "paper:gorilla",
        "paper:improved-baselines-with-visual-instruction-tuning",
        "paper:kosmos-2",
    ]  # Microsoft's with its lab's (Microsoft Research), now Kosmos-2
    page.wait_for_function(
        "want => [...document.querySelectorAll('#kg-papers-table .kg-paper-row')]"
        ".map(r => r.dataset.open).sort().join() === want.join()",
        arg=microsoft,
    )  # the table filtered by Microsoft, not the earlier one of every paper
    assert rows(page) == set(microsoft)
    page.screenshot(path=str(SCREENSHOTS / "papers-card-edit.png"), full_page=True)
    lines = (server.data_dir / "library.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])["paper"]
    assert record["organizations"] == ["Microsoft"]
    assert record["provenance"] == [["organizations", "edited"]]
    assert hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest() == SHIPPED_SHA


@pytest.mark.browser
def test_nothing_sits_over_the_chat_s_messages(page: Any) -> None:
    page.get_by_role("tab", name="Ask").click()
    bot = page.locator('#kg-chat [data-testid="bot"]')
    for question in ("Which papers did Google publish?", "What did Meta publish?",
                     "有哪些多模态论文?", "Which papers did T. Dao write?"):  # fmt: skip
        before = bot.count()
        page.locator("#kg-question textarea").fill(question)
        page.locator("#kg-ask").click()
        page.wait_for_function(
            "n => document.querySelectorAll('#kg-chat [data-testid=\"bot\"]').length === n + 1"
            " && document.querySelector('#kg-answer-meta .kg-badge')",
            arg=before,
        )
    assert "FlashAttention-2" in bot.last.inner_text()  # the curated authors answer it
    assert page.locator("#kg-chat label[data-testid=block-label]:visible").count() == 0
    # the chat's own clear icon floated over the messages; "New chat" starts over instead
    assert page.locator('#kg-chat button[aria-label="Clear"]:visible').count() == 0
    page.locator("#kg-chat [role=log]").evaluate("e => e.scrollTop = 0")
    boxes = page.locator("#kg-chat button").evaluate_all(
        "bs => bs.filter(b => b.offsetParent !== null).map(b => {"
        "const r = b.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"
    )
    overlaps = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]  # fmt: skip
    assert boxes and not overlaps
    page.locator("#kg-chat").first.screenshot(path=str(SCREENSHOTS / "ask-chat-no-overlap.png"))

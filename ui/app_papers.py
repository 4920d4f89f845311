"""The Papers tab: every paper, filterable by organisation, category, month and author, with
counts. Its `Redraw` (choices and table) runs on each page load and after an upload."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import gradio as gr

from kg.corpus import Paper
from ui.app_cards import card_html
from ui.app_errors import message_for
from ui.app_format import counts_line, empty_card, error_box, escape
from ui.app_redraw import Redraw
from ui.app_services import AppServices

ALL = "All"
HEADERS = ["Title", "Date", "Organisations", "Category", "Influence"]
MAX_ROWS = 500  # a page stays quick; filters reach the rest
CARD_HINT = "Click a row to see the paper's card."
MAX_AUTHOR_CHOICES = 2000  # the most prolific; any other name can be typed
ROW_AUTHORS = 3  # authors named in a table row before "et al."


def build_papers_tab(services: AppServices, interact_js: str) -> Redraw:
    def open_node(evt: gr.SelectData) -> str:
        return card_html(services, str(evt.value or ""))

    orgs, categories, months = filter_choices(services.papers())
    authors = author_choices(services)
    with gr.Row():
        org = gr.Dropdown([ALL, *orgs], value=ALL, label="Organisation (any alias: 谷歌, Google…)",
                          allow_custom_value=True, filterable=True, elem_id="kg-filter-org")  # fmt: skip
        category = gr.Dropdown([ALL, *categories], value=ALL, label="Category · 类别",
                               allow_custom_value=True, filterable=True,
                               elem_id="kg-filter-category")  # fmt: skip
        month = gr.Dropdown([ALL, *months], value=ALL, label="Month", elem_id="kg-filter-month")
        text = gr.Textbox(
            label="Title contains", placeholder="e.g. llama", elem_id="kg-filter-text"
        )
        exact = gr.Checkbox(value=False, label="Only the organisation itself, not its labs",
                            elem_id="kg-filter-exact-org")  # fmt: skip
        author = gr.Dropdown([ALL, *authors], value=ALL, label="Author (any spelling: T. Dao…)",
                             allow_custom_value=True, filterable=True,
                             elem_id="kg-filter-author")  # fmt: skip
    listing, summary = filtered(services, ALL, ALL, ALL, "")
    counts = gr.HTML(summary, elem_id="kg-paper-counts")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=480):
            table = gr.HTML(listing, js_on_load=interact_js, elem_id="kg-papers-table")
        with gr.Column(scale=2, min_width=300):
            card = gr.HTML(empty_card(CARD_HINT), js_on_load=interact_js, elem_id="kg-papers-card")

    def refresh(o: str, c: str, m: str, t: str, e: bool, a: str) -> tuple[str, str]:
        return filtered(services, o, c, m, t, e, a)

    def redraw(o: str, c: str, m: str, t: str, e: bool, a: str) -> tuple[Any, ...]:
        """New filter choices (the corpus changed) and the table under the current filters."""
        orgs, categories, months = filter_choices(services.papers())
        choices = (orgs, categories, months, author_choices(services))
        dropdowns = tuple(gr.Dropdown(choices=[ALL, *names]) for names in choices)
        return (*dropdowns, *filtered(services, o, c, m, t, e, a))

    inputs = [org, category, month, text, exact, author]
    triggers = (org.change, category.change, month.change, text.change, exact.change,
                author.change)  # fmt: skip
    for trigger in triggers:
        trigger(refresh, inputs, [table, counts], api_visibility="private")
    table.select(open_node, None, [card], api_visibility="private")
    card.select(open_node, None, [card], api_visibility="private")
    return Redraw(redraw, [org, category, month, author, table, counts], inputs)


def filter_choices(papers: Iterable[Paper]) -> tuple[list[str], list[str], list[str]]:
    papers = list(papers)
    orgs = Counter(o for p in papers for o in p.organizations)
    categories = Counter(_category_label(p) for p in papers if p.category)
    months = sorted({p.date for p in papers})
    return (
        sorted(orgs, key=lambda o: (-orgs[o], o.casefold())),
        sorted(categories),
        months,
    )


def author_choices(services: AppServices) -> list[str]:
    """Author names for the filter, most papers first (empty when no paper lists authors)."""
    from kg.queries import author_counts

    try:
        return [node.label for node, _ in author_counts(services.kg())[:MAX_AUTHOR_CHOICES]]
    except Exception:
        return []  # the table below shows the error


def filtered(
    services: AppServices, org: str, category: str, month: str, text: str,
    exact_org: bool = False, author: str = "",
) -> tuple[str, str]:  # fmt: skip
    """The papers table (each row opens the paper's card) and the counts above it."""
    try:
        papers = select_papers(services, org, category, month, text, exact_org, author)
    except Exception as exc:
        return "", error_box(message_for(exc))
    labs = _labs_line(services, papers, org) if _given(org) else ""
    return papers_table(papers), _counts_html(papers, labs)


def papers_table(papers: list[Paper]) -> str:
    shown = papers[:MAX_ROWS]
    more = (
        f'<div class="kg-muted">Showing the first {MAX_ROWS} of {len(papers)}: narrow the filters '
        "to see the rest.</div>"
        if len(papers) > MAX_ROWS
        else ""
    )
    rows = "".join(
        f'<tr class="kg-paper-row" data-open="paper:{escape(p.id)}" tabindex="0">'
        f'<td><span class="kg-link">{escape(p.title)}</span>{_authors_html(p)}</td>'
        f"<td>{escape(p.date)}</td>"
        f"<td>{escape(', '.join(p.organizations))}</td><td>{escape(_category_label(p))}</td>"
        f'<td class="kg-muted">{escape(p.influence)}</td></tr>'
        for p in shown
    )
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    return (
        f'<table class="kg-table kg-papers"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>'
        f"</table>{more}"
    )


def _authors_html(paper: Paper) -> str:
    if not paper.authors:
        return ""
    names = ", ".join(paper.authors[:ROW_AUTHORS])
    more = " et al." if len(paper.authors) > ROW_AUTHORS else ""
    return f'<div class="kg-muted kg-row-authors">{escape(names + more)}</div>'


def select_papers(
    services: AppServices, org: str, category: str, month: str, text: str,
    exact_org: bool = False, author: str = "",
) -> list[Paper]:  # fmt: skip
    """Papers matching every filter; organisation and category accept any alias (中文/English),
    the author any spelling (`T. Dao`, `Dao, Tri`). An organisation's papers include its labs'
    unless `exact_org` (as `kgrag papers`)."""
    from kg.queries import papers_by

    papers = papers_by(
        services.kg(),
        org=org.strip() if _given(org) else None,
        category=category.split("·")[0].strip() if _given(category) else None,
        month=month.strip() if _given(month) else None,
        include_parts=not exact_org,
        author=author.strip() if _given(author) else None,
    )
    if (text or "").strip():
        needle = text.strip().casefold()
        papers = [p for p in papers if needle in p.title.casefold()]
    return papers


def _given(value: str | None) -> bool:
    return bool(value and value.strip() and value.strip() != ALL)


def _category_label(paper: Paper) -> str:
    return f"{paper.category_label} · {paper.category}" if paper.category else ""


def _labs_line(services: AppServices, papers: list[Paper], org: str) -> str:
    from kg.queries import labs_share

    shares = labs_share(services.kg(), org.strip(), papers)
    return ", ".join(f"{n} of them by {lab}" for lab, n in shares)


def _counts_html(papers: list[Paper], labs: str = "") -> str:
    if not papers:
        return '<div class="kg-muted">No paper matches these filters.</div>'
    by_org = Counter(o for p in papers for o in p.organizations).most_common(8)
    by_cat = Counter(_category_label(p) or "no category" for p in papers).most_common()
    by_month = sorted(Counter(p.date for p in papers).items())
    labs_note = f", {escape(labs)}" if labs else ""
    return (
        f'<div class="kg-counts"><b>{len(papers)} papers</b>{labs_note} · earliest '
        f"{papers[0].date}, latest {papers[-1].date}</div>"
        + counts_line("By category:", by_cat)
        + counts_line("By organisation:", by_org)
        + counts_line("By month:", by_month)
    )

"""The Papers tab: every paper, filterable by organisation, category, month and author, with
counts; a paper's card, with a form that sets its organisation, category and date (`kgrag
edit`). Its `Redraw` (choices and table) runs on each page load and after an upload.

The organisation and category boxes offer each choice labelled with its aliases ("Google ·
谷歌 · Google Research …", from `data/organizations.json` and `data/categories.json`) and
valued with its canonical name: Gradio filters choices by their label as one types, so 谷歌
finds Google before Enter is pressed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gradio as gr

from kg.corpus import Paper
from ui.app_cards import card_html
from ui.app_errors import message_for
from ui.app_format import counts_line, empty_card, error_box, escape, notice_box
from ui.app_redraw import Redraw
from ui.app_services import AppServices

ALL = "All"
HEADERS = ["Title", "Date", "Organisations", "Category", "Influence"]
MAX_ROWS = 500  # a page stays quick; filters reach the rest
CARD_HINT = "Click a row to see the paper's card."
MAX_AUTHOR_CHOICES = 2000  # the most prolific; any other name can be typed
ROW_AUTHORS = 3  # authors named in a table row before "et al."
NO_CATEGORY = ("(none)", "")
# Text typed without a key press (an input method's 谷歌) filters the boxes' choices too.
ALIAS_FILTER_JS = Path(__file__).resolve().parent / "static" / "alias_filter.js"

Choice = tuple[str, str]  # (label shown and filtered on, value)


def build_papers_tab(services: AppServices, interact_js: str) -> Redraw:
    orgs, categories, months = filter_choices(services.papers())
    authors = author_choices(services)
    with gr.Row():
        org = gr.Dropdown([(ALL, ALL), *orgs], value=ALL,
                          label="Organisation (any alias: 谷歌, Google…)",
                          allow_custom_value=True, filterable=True, elem_id="kg-filter-org")  # fmt: skip
        category = gr.Dropdown([(ALL, ALL), *categories], value=ALL, label="Category · 类别",
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
    counts = gr.HTML(summary, elem_id="kg-paper-counts",
                     js_on_load=ALIAS_FILTER_JS.read_text(encoding="utf-8"))  # fmt: skip
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=480):
            table = gr.HTML(listing, js_on_load=interact_js, elem_id="kg-papers-table")
        with gr.Column(scale=2, min_width=300):
            card = gr.HTML(empty_card(CARD_HINT), js_on_load=interact_js, elem_id="kg-papers-card")
            editor = _PaperEditor(services)
    filters = [org, category, month, text, exact, author]

    def refresh(o: str, c: str, m: str, t: str, e: bool, a: str) -> tuple[str, str]:
        return filtered(services, o, c, m, t, e, a)

    def redraw(o: str, c: str, m: str, t: str, e: bool, a: str) -> tuple[Any, ...]:
        """New filter choices (the corpus changed) and the table under the current filters."""
        orgs, categories, months = filter_choices(services.papers())
        return (gr.Dropdown(choices=[(ALL, ALL), *orgs]),
                gr.Dropdown(choices=[(ALL, ALL), *categories]),
                gr.Dropdown(choices=[ALL, *months]),
                gr.Dropdown(choices=[ALL, *author_choices(services)]),
                gr.Dropdown(choices=edit_org_choices(services)),
                *filtered(services, o, c, m, t, e, a))  # fmt: skip

    for trigger in (org.change, category.change, month.change, text.change, exact.change,
                    author.change):  # fmt: skip
        trigger(refresh, filters, [table, counts], api_visibility="private")
    redraws = [org, category, month, author, editor.org, table, counts]

    def open_node(evt: gr.SelectData) -> tuple[Any, ...]:
        node = str(evt.value or "")
        return (card_html(services, node), *editor.show(node))

    opened = [card, *editor.fields]
    table.select(open_node, None, opened, api_visibility="private")
    card.select(open_node, None, opened, api_visibility="private")

    def save(paper_id: str, o: str, c: str, d: str, *current: Any) -> tuple[Any, ...]:
        """Write the form, then show the paper, the form and the filters as they are now."""
        status = editor.save(paper_id, o, c, d)
        box, pid, org_value, cat, date, _ = editor.show(paper_id)
        boxes = redraw(*current)
        org_box = gr.Dropdown(choices=edit_org_choices(services), value=org_value)
        return (card_html(services, f"paper:{paper_id}"), box, pid, org_box, cat, date, status,
                *boxes[:4], *boxes[5:])  # fmt: skip

    editor.button.click(save, [editor.paper_id, editor.org, editor.category, editor.date,
                               *filters],
                        [card, *editor.fields, org, category, month, author, table, counts],
                        api_visibility="private")  # fmt: skip
    return Redraw(redraw, redraws, filters)


class _PaperEditor:
    """The form under a paper's card: its organisation(s), category and date, saved to the
    user's library like `kgrag edit` (the list itself is never modified). Hidden for any
    other card."""

    def __init__(self, services: AppServices) -> None:
        self.services = services
        with gr.Group(visible=False, elem_id="kg-edit") as self.box:
            gr.Markdown("**Edit this paper** · saved to your library; the shipped list is "
                        "never changed (as `kgrag edit`)", elem_classes=["kg-edit-head"])  # fmt: skip
            self.paper_id = gr.State("")
            self.org = gr.Dropdown(edit_org_choices(services), value=None,
                                   label="Organisation(s): any alias; several separated by "
                                   "commas", allow_custom_value=True, filterable=True,
                                   elem_id="kg-edit-org")  # fmt: skip
            self.category = gr.Dropdown([NO_CATEGORY, *category_choices()], value="",
                                        label="Category · 类别", filterable=True,
                                        elem_id="kg-edit-category")  # fmt: skip
            self.date = gr.Textbox(label="Date (YYYY-MM)", placeholder="2023-06",
                                   elem_id="kg-edit-date")  # fmt: skip
            self.button = gr.Button("Save", variant="primary", elem_id="kg-edit-save")
            self.status = gr.HTML(elem_id="kg-edit-status")
        self.fields = [self.box, self.paper_id, self.org, self.category, self.date, self.status]

    def show(self, node_id: str) -> tuple[Any, ...]:
        """The form for a paper's card (filled with its values), hidden for any other card."""
        paper_id = node_id.removeprefix("paper:")
        try:
            paper = self.services.paper(paper_id) if ":" not in paper_id else None
        except Exception:
            paper = None  # the card shows the error
        if paper is None:
            return gr.Group(visible=False), "", gr.Dropdown(value=None), "", "", ""
        return (gr.Group(visible=True), paper.id, ", ".join(paper.organizations) or None,
                paper.category, paper.date, "")  # fmt: skip

    def save(self, paper_id: str, org: str | None, category: str | None, date: str) -> str:
        """Write the form (`kg.library.edit_paper`); what changed, or the one error."""
        from kg.library import PaperEdit

        edit = PaperEdit(organizations=(org or "").strip() or None,
                         category=(category or "").strip() or None,
                         date=(date or "").strip() or None)  # fmt: skip
        try:
            report = self.services.edit_paper(paper_id, edit)
        except Exception as exc:
            return error_box(message_for(exc))
        if not report.changes:
            return notice_box("Nothing to save: the paper already has these values.")
        done = "; ".join(f"{c.field} {_shown(c.old)} → {_shown(c.new)}" for c in report.changes)
        return notice_box(f"Saved to your library ({report.path.name}): {done}.")


def _shown(value: str | tuple[str, ...]) -> str:
    text = ", ".join(value) if isinstance(value, tuple) else value
    return text or "(none)"


def filter_choices(papers: Iterable[Paper]) -> tuple[list[Choice], list[Choice], list[str]]:
    """The organisations (most papers first) and categories of the corpus, each labelled with
    its aliases, and its months."""
    papers = list(papers)
    orgs = Counter(o for p in papers for o in p.organizations)
    keys = {p.category for p in papers if p.category}
    categories = [c for c in category_choices() if c[1] in keys]
    months = sorted({p.date for p in papers})
    ranked = sorted(orgs, key=lambda o: (-orgs[o], o.casefold()))
    return [org_choice(o) for o in ranked], categories, months


def org_choice(name: str) -> Choice:
    """`("Google · 谷歌 · Google Research …", "Google")`: the aliases of `data/organizations.json`
    in the label (what the box filters on as one types), the canonical name as the value."""
    from kg.tables import load_org_table

    found = load_org_table().get(name)
    return _labelled(name, found.aliases if found else ())


def category_choices() -> list[Choice]:
    """Every category of `data/categories.json`, labelled with its names and aliases, valued
    with its key (`多模态 · Multimodal · multimodal · multi-modal` → `multimodal`)."""
    from kg.tables import load_category_table

    return [_labelled(c.key, (c.label_zh, c.label_en, *c.aliases), first=c.label_zh)
            for c in load_category_table().categories]  # fmt: skip


def edit_org_choices(services: AppServices) -> list[Choice]:
    """The editor's organisations: the corpus's and every one of the alias table."""
    from kg.tables import load_org_table

    names = [o for p in services.papers() for o in p.organizations]
    names += [o.name for o in load_org_table().organizations]
    return [org_choice(n) for n in sorted(dict.fromkeys(names), key=str.casefold)]


def _labelled(value: str, aliases: Iterable[str], first: str | None = None) -> Choice:
    """`first · alias · …`, each spelling once (ignoring case), valued `value`."""
    from kg.tables import fold

    seen: dict[str, str] = {}
    for name in (first or value, *aliases, value):
        seen.setdefault(fold(name), name)
    return " · ".join(seen.values()), value


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
    unknown = _unknown_authors_line(services) if _given(author) else ""
    return papers_table(papers), _counts_html(papers, labs) + unknown


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


def _unknown_authors_line(services: AppServices) -> str:
    """Filtering by author: which papers could not be matched, their authors being unknown."""
    from kg.queries import papers_without_authors

    unknown = [p.short_name for p in papers_without_authors(services.kg())]
    if not unknown:
        return ""
    return (f'<div class="kg-muted kg-unknown-authors">The authors of {len(unknown)} paper(s) '
            f"are unknown: {escape(', '.join(unknown[:8]))}{', …' if len(unknown) > 8 else ''}."
            "</div>")  # fmt: skip


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

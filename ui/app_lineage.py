"""The Lineage explorer tab: a work's ancestors and descendants as an interactive timeline.

The chart (`ui/app_graph.py`) sits in a frame with its tools above it (find a node, fit the
selection or the whole chart, zoom) and its legend below it, never over the drawing. Folding a
branch is a round trip: the toggle sends `fold:<node id>` through the picture's `select`
event, and the chart is laid out again without that branch (the layout of each view is cached).
The Citations toggle draws the `cites` edges in the chart (dashed teal, an arrow at the cited
paper; the papers citing the work or cited by it join the chart within its node cap), and a
click on one shows its citing sentences and pages like a lineage edge's evidence. The table of
the work's own `cites` edges, both ways, stays under the chart: the chart's accessible list (a
screen reader, a search of the page, or a chart Graphviz could not draw).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from kg.errors import KgragError
from kg.queries import Neighbourhood
from ui.app_cards import card_html
from ui.app_errors import message_for
from ui.app_format import empty_card, error_box, escape
from ui.app_graph import CITES, LINEAGE, RELATION_LABEL, GraphView, layout, render_svg
from ui.app_redraw import Redraw
from ui.app_services import AppServices
from ui.app_static import static_text

CARD_HINT = "Click a node to see its card; click an edge to read its evidence."
WORK_KINDS = ("paper", "work")
FOLD = "fold:"  # the prefix of a fold toggle's select value (node ids never start with it)


def build_lineage_tab(services: AppServices, interact_js: str) -> Redraw:

    chart_js = interact_js + "\n" + static_text("lineage.js")
    names = work_choices(services)
    start = default_root(services)
    with gr.Row(equal_height=False):
        root = gr.Dropdown(
            names, value=start, label="Work (any alias: llama2, 美杜莎, code llama …)",
            allow_custom_value=True, filterable=True, scale=3, elem_id="kg-lineage-root",
        )  # fmt: skip
        target = gr.Dropdown(
            ["", *names], value="", label="Highlight the path to…", allow_custom_value=True,
            filterable=True, scale=2, elem_id="kg-lineage-target",
        )  # fmt: skip
        depth = gr.Slider(1, 6, value=3, step=1, label="Depth (lineage hops)", scale=1)
        with gr.Column(scale=1, min_width=160):
            orgs = gr.Checkbox(False, label="Organisations", elem_id="kg-show-orgs")
            techniques = gr.Checkbox(False, label="Techniques", elem_id="kg-show-techniques")
            cites = gr.Checkbox(False, label="Citations", elem_id="kg-show-citations")
        show = gr.Button("Show", variant="primary", scale=1, elem_id="kg-lineage-show")
    folded = gr.State([])  # the works folded in the chart shown; cleared by every new chart
    with gr.Row(equal_height=False):
        # The chart gets four fifths of the row: a family spans several month columns.
        with gr.Column(scale=4, min_width=520):
            picture = gr.HTML(
                lineage_html(services, start, "", 3, False, False),
                js_on_load=chart_js, elem_id="kg-lineage-graph",
            )  # fmt: skip
        with gr.Column(scale=1, min_width=280):
            card = gr.HTML(empty_card(CARD_HINT), js_on_load=interact_js, elem_id="kg-lineage-card")
    inputs = [root, target, depth, orgs, techniques, cites]

    def redraw(*values: Any) -> tuple[str, list[str]]:
        return lineage_html(services, *values), []

    def on_select(folds: list[str], name: str, aim: str, hops: float, org: bool, tech: bool,
                  cited: bool, evt: gr.SelectData) -> tuple[Any, Any, Any]:  # fmt: skip
        """A node or link opens its card; a fold toggle redraws the chart with it (un)folded."""
        value = str(evt.value or "")
        if not value.startswith(FOLD):
            return card_html(services, value), gr.skip(), gr.skip()
        folds = toggled(folds, value.removeprefix(FOLD))
        return gr.skip(), lineage_html(services, name, aim, hops, org, tech, cited, folds), folds

    for trigger in (show.click, root.input, orgs.change, techniques.change, cites.change,
                    target.input):  # fmt: skip
        trigger(redraw, inputs, [picture, folded], api_visibility="private")
    picture.select(on_select, [folded, *inputs], [card, picture, folded],
                   api_visibility="private")  # fmt: skip

    def open_node(evt: gr.SelectData) -> str:
        return card_html(services, str(evt.value or ""))

    card.select(open_node, None, [card], api_visibility="private")

    def reload(name: str, *values: Any) -> tuple[Any, ...]:
        """New choices, and the picture of the work shown (the default one if it is gone)."""
        names = work_choices(services)
        name = name if names_a_work(services, name) else default_root(services)
        return (gr.Dropdown(choices=names, value=name), gr.Dropdown(choices=["", *names]),
                lineage_html(services, name, *values), [])  # fmt: skip

    return Redraw(reload, [root, target, picture, folded], inputs)


def toggled(folds: Sequence[str], node: str) -> list[str]:
    """`folds` with `node` folded, or unfolded if it was."""
    return [n for n in folds if n != node] if node in folds else [*folds, node]


def work_choices(services: AppServices) -> list[str]:
    """Labels of every paper and work, for the searchable box (aliases are typed freely)."""
    from kg.queries import work_labels

    return work_labels(services.kg())


def names_a_work(services: AppServices, name: str) -> bool:
    from kg.names import resolve

    try:
        resolve(services.kg(), (name or "").strip(), kinds=WORK_KINDS)
    except KgragError:
        return False
    return True


def default_root(services: AppServices) -> str:
    """The paper with the largest lineage family: a telling first picture for any corpus."""
    from kg.queries import richest_lineage

    best = richest_lineage(services.kg())
    return best.label if best is not None else ""


def lineage_html(
    services: AppServices,
    name: str,
    target: str,
    depth: float,
    orgs: bool,
    techniques: bool,
    citations: bool = False,
    folded: Sequence[str] = (),
) -> str:
    try:
        html = _lineage_html(services, name, target, int(depth), orgs, techniques, folded,
                             citations)  # fmt: skip
        return html + (_citations_table(services, name) if citations else "")
    except Exception as exc:
        return error_box(message_for(exc))


def _lineage_html(services: AppServices, name: str, target: str, depth: int, orgs: bool,
                  techniques: bool, folded: Sequence[str], citations: bool = False) -> str:  # fmt: skip
    from kg.names import resolve
    from kg.queries import neighbourhood

    kg = services.kg()
    if not (name or "").strip():
        raise KgragError("type or pick a work to explore (a paper or a model name, any alias).")
    root = resolve(kg, name.strip(), kinds=WORK_KINDS)
    path: list[str] = []
    note = ""
    if (target or "").strip():
        other = resolve(kg, target.strip(), kinds=WORK_KINDS)
        path = lineage_path(kg, root.id, other.id)
        note = (
            f"Path: {' → '.join(escape(kg.node(n).label) for n in path)}"
            if path
            else f"No lineage path links {escape(root.label)} and {escape(other.label)}."
        )
    near = neighbourhood(kg, root.id, depth, orgs, techniques, path, citations)
    try:
        chart = _chart(layout(near, folded))
    except KgragError as exc:  # no Graphviz, or it failed: say so, and keep the table below
        chart = error_box(message_for(exc))
    return _page(near, chart, note)


def lineage_path(kg: Any, a: str, b: str) -> list[str]:
    """Node ids of the shortest chain of lineage edges from `a` to `b` (either direction)."""
    from kg.queries import path_between

    nodes = [a]
    for edge in path_between(kg, a, b):
        ends = (edge.source.id, edge.target.id)
        nodes.append(ends[1] if ends[0] == nodes[-1] else ends[0])
    return nodes if len(nodes) > 1 else []


def _page(near: Neighbourhood, chart: str, note: str) -> str:
    edges = near.lineage_edges()
    hidden = (
        f" · {near.hidden} more beyond the depth limit (raise the depth to see them)"
        if near.hidden
        else ""
    )
    hidden += _citations_summary(near)
    summary = (
        f'<div class="kg-muted">{len(near.nodes)} nodes, {len(edges)} lineage edges{hidden}. '
        "Scroll to zoom, drag to pan, shift-click to select; − on a box folds its branch.</div>"
    )
    path_note = f'<div class="kg-notice">{note}</div>' if note else ""
    return (
        f"{path_note}{chart}{summary}"
        '<div class="kg-evidence-box">Hover or click an edge to read the sentence it comes from.'
        f"</div>{_evidence_table(near)}"
    )


def _citations_summary(near: Neighbourhood) -> str:
    """The citation edges drawn, and the citing or cited papers the node cap left out (nothing
    with the toggle off: no `cites` edge is then in the neighbourhood)."""
    drawn, left = len(near.citation_edges()), near.hidden_citations
    if not drawn and not left:
        return ""
    more = f" ({left} more citing or cited papers beyond the node limit)" if left else ""
    return f" · {drawn} citation edge{'s' if drawn != 1 else ''}{more}"


def _citations_table(services: AppServices, name: str) -> str:
    """The `cites` edges of the work shown, both ways, each citing sentence with its page."""
    from kg.names import resolve
    from kg.queries import paper_citations

    kg = services.kg()
    root = resolve(kg, name.strip(), kinds=WORK_KINDS)
    if root.kind != "paper":
        return '<div class="kg-muted">Citations: only papers of the corpus have them.</div>'
    found = paper_citations(kg, root)
    rows = [(link.paper, root, link) for link in found.cited_by]
    rows += [(root, link.paper, link) for link in found.cites]
    if not rows:
        return (
            '<div class="kg-muted">Citations: no paper of the corpus cites this one or is cited '
            "by it (only papers added with their full text have reference lists).</div>"
        )
    cells = []
    for citing, cited, link in rows:
        said = "<br>".join(f"p. {page}: {escape(text)}" for page, text in link.contexts)
        cells.append(
            f'<tr class="kg-evidence-row"><td><a class="kg-link" data-open="{escape(citing.id)}">'
            f'{escape(citing.label)}</a></td><td>cites</td><td><a class="kg-link" '
            f'data-open="{escape(cited.id)}">{escape(cited.label)}</a></td>'
            f'<td class="kg-evidence">{said or escape(link.evidence)}</td>'
            f'<td class="kg-muted">{escape(link.how)}</td></tr>'
        )
    return (
        '<table class="kg-table kg-evidence-table kg-citations"><thead><tr><th>Paper</th>'
        "<th>Relation</th><th>Cites</th><th>Citing sentences</th><th>Resolved by</th></tr>"
        "</thead><tbody>" + "".join(cells) + "</tbody></table>"
    )


def _chart(view: GraphView) -> str:
    return (
        f'<div class="kg-chart">{_chart_bar(view)}<div class="kg-graph-wrap">{render_svg(view)}'
        f"</div>{_legend(view)}</div>"
    )


def _chart_bar(view: GraphView) -> str:
    """The tools, above the drawing: find a node (suggesting every label), fit, zoom."""
    labels = sorted({n.label for n in view.nodes}, key=str.casefold)
    options = "".join(f'<option value="{escape(label)}"></option>' for label in labels)
    buttons = [
        ("data-fit", "selection", "Fit selection",
         "Fit the selected nodes (shift-click adds one), else the highlighted path or the root"),
        ("data-fit", "whole", "Whole chart", "Show the whole chart, however small"),
        ("data-zoom", "in", "+", "Zoom in"),
        ("data-zoom", "out", "−", "Zoom out"),
        ("data-zoom", "reset", "⟲", "Back to the first view"),
    ]  # fmt: skip
    return (
        '<div class="kg-chart-bar"><input class="kg-find" type="search" list="kg-find-list" '
        'placeholder="Find a node…" aria-label="Find a node in the chart">'
        f'<datalist id="kg-find-list">{options}</datalist><span class="kg-find-note"></span>'
        '<span class="kg-spacer"></span>'
        + "".join(f'<button {a}="{v}" title="{escape(t)}">{escape(s)}</button>' for a, v, s, t in buttons)
        + "</div>"
    )  # fmt: skip


def _legend(view: GraphView) -> str:
    """The key, under the drawing: the kinds of box and line this chart shows."""
    kinds = {n.kind for n in view.nodes}
    boxes = [("#fff7df", "#d08a00", "selected work", True), ("#ffffff", "#7d93c9", "paper", "paper" in kinds),
             ("#f4f4f6", "#9aa0aa", "work outside the corpus", "work" in kinds),
             ("#e9f7ee", "#4f9d69", "organisation", "organization" in kinds),
             ("#f3ecfd", "#8a63c8", "technique", "technique" in kinds)]  # fmt: skip
    lines = [("kg-key-line", "builds on (relation on the line)", True),
             ("kg-key-line kg-key-path", "highlighted path", any(e.on_path for e in view.edges)),
             ("kg-key-line kg-key-link", "published by / uses",
              any(e.kind not in (LINEAGE, CITES) for e in view.edges)),
             ("kg-key-line kg-key-cite", "cites (arrow at the cited paper)", bool(view.citation_edges()))]  # fmt: skip
    items = [f'<span><i style="background:{fill};border-color:{edge}"></i>{escape(text)}</span>'
             for fill, edge, text, shown in boxes if shown]  # fmt: skip
    items += [
        f'<span><i class="{cls}"></i>{escape(text)}</span>' for cls, text, shown in lines if shown
    ]
    return '<div class="kg-legend">' + "".join(items) + "</div>"


def _evidence_table(near: Neighbourhood) -> str:
    """Every lineage edge of the neighbourhood (folded branches included), with its sentence."""
    edges = near.lineage_edges()
    if not edges:
        return '<div class="kg-muted">No lineage edges: this work neither builds on nor is built on.</div>'
    nodes = {n.id: n for n in near.nodes}
    rows = []
    for e in sorted(edges, key=lambda e: (nodes[e.child].date or "", e.child)):
        relation = RELATION_LABEL.get(e.relation, e.relation)
        source = f"line {e.line}, {e.method}" if e.line else e.method
        source = f"p. {e.page}, {e.method}" if e.page and not e.line else source
        rows.append(
            f'<tr class="kg-evidence-row"><td><a class="kg-link" data-open="{escape(e.child)}">'
            f"{escape(nodes[e.child].label)}</a></td><td>{escape(relation)}</td>"
            f'<td><a class="kg-link" data-open="{escape(e.parent)}">{escape(nodes[e.parent].label)}'
            f'</a></td><td class="kg-evidence">{escape(e.evidence)}</td><td class="kg-muted">'
            f"{escape(source)}</td></tr>"
        )
    return (
        '<table class="kg-table kg-evidence-table"><thead><tr><th>Work</th><th>Relation</th>'
        "<th>Builds on</th><th>Evidence</th><th>Source</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )

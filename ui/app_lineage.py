"""The Lineage explorer tab: a work's ancestors and descendants as an interactive timeline."""

from __future__ import annotations

from typing import Any

import gradio as gr

from kg.errors import KgragError
from ui.app_cards import card_html
from ui.app_errors import message_for
from ui.app_format import empty_card, error_box, escape
from ui.app_graph import RELATION_LABEL, GraphView, neighbourhood, render_svg
from ui.app_redraw import Redraw
from ui.app_services import AppServices

CARD_HINT = "Click a node to see its card; click an edge to read its evidence."
WORK_KINDS = ("paper", "work")


def build_lineage_tab(services: AppServices, interact_js: str) -> Redraw:
    def open_node(evt: gr.SelectData) -> str:
        return card_html(services, str(evt.value or ""))

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
        show = gr.Button("Show", variant="primary", scale=1, elem_id="kg-lineage-show")
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=480):
            picture = gr.HTML(
                lineage_html(services, start, "", 3, False, False),
                js_on_load=interact_js, elem_id="kg-lineage-graph",
            )  # fmt: skip
        with gr.Column(scale=2, min_width=300):
            card = gr.HTML(empty_card(CARD_HINT), js_on_load=interact_js, elem_id="kg-lineage-card")
    inputs = [root, target, depth, orgs, techniques]

    def redraw(*values: Any) -> str:
        return lineage_html(services, *values)

    for trigger in (show.click, root.input, orgs.change, techniques.change, target.input):
        trigger(redraw, inputs, [picture], api_visibility="private")
    picture.select(open_node, None, [card],
                   api_visibility="private")  # fmt: skip
    card.select(open_node, None, [card],
                api_visibility="private")  # fmt: skip

    def reload(name: str, *values: Any) -> tuple[Any, ...]:
        """New choices, and the picture of the work shown (the default one if it is gone)."""
        names = work_choices(services)
        name = name if names_a_work(services, name) else default_root(services)
        return (gr.Dropdown(choices=names, value=name), gr.Dropdown(choices=["", *names]),
                lineage_html(services, name, *values))  # fmt: skip

    return Redraw(reload, [root, target, picture], inputs)


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
    services: AppServices, name: str, target: str, depth: float, orgs: bool, techniques: bool
) -> str:
    try:
        return _lineage_html(services, name, target, int(depth), orgs, techniques)
    except Exception as exc:
        return error_box(message_for(exc))


def _lineage_html(
    services: AppServices, name: str, target: str, depth: int, orgs: bool, techniques: bool
) -> str:
    from kg.names import resolve

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
    view = neighbourhood(kg, root.id, depth, orgs, techniques, path)
    return _page(view, note)


def lineage_path(kg: Any, a: str, b: str) -> list[str]:
    """Node ids of the shortest chain of lineage edges from `a` to `b` (either direction)."""
    from kg.queries import path_between

    nodes = [a]
    for edge in path_between(kg, a, b):
        ends = (edge.source.id, edge.target.id)
        nodes.append(ends[1] if ends[0] == nodes[-1] else ends[0])
    return nodes if len(nodes) > 1 else []


def _page(view: GraphView, note: str) -> str:
    edges = view.lineage_edges()
    hidden = (
        f" · {view.hidden} more beyond the depth limit (raise the depth to see them)"
        if view.hidden
        else ""
    )
    summary = (
        f'<div class="kg-muted">{len(view.nodes)} nodes, {len(edges)} lineage edges{hidden}. '
        "Scroll to zoom, drag to pan.</div>"
    )
    path_note = f'<div class="kg-notice">{note}</div>' if note else ""
    return (
        f"{path_note}<div class='kg-graph-wrap'>"
        '<div class="kg-toolbar"><button data-zoom="in" title="Zoom in">+</button>'
        '<button data-zoom="out" title="Zoom out">−</button>'
        '<button data-zoom="reset" title="Reset view">⟲</button></div>'
        f"{render_svg(view)}{_legend()}</div>{summary}"
        '<div class="kg-evidence-box">Hover or click an edge to read the sentence it comes from.'
        f"</div>{_evidence_table(edges, view)}"
    )


def _legend() -> str:
    items = [("#fff7df", "selected work"), ("#ffffff", "paper"), ("#f4f4f6", "work outside corpus"),
             ("#e9f7ee", "organisation"), ("#f3ecfd", "technique")]  # fmt: skip
    return '<div class="kg-legend">' + "".join(
        f'<span><i style="background:{c};border:1px solid #9aa0aa"></i>{t}</span>' for c, t in items
    ) + "</div>"  # fmt: skip


def _evidence_table(edges: Any, view: GraphView) -> str:
    if not edges:
        return '<div class="kg-muted">No lineage edges: this work neither builds on nor is built on.</div>'
    nodes = {n.id: n for n in view.nodes}
    rows = []
    for e in sorted(edges, key=lambda e: (nodes[e.child].date, e.child)):
        relation = RELATION_LABEL.get(e.relation, e.relation)
        source = f"line {e.line}, {e.method}" if e.line else e.method
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

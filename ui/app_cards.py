"""The card shown when a paper, work, organisation or technique is clicked anywhere in the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kg.errors import KgragError
from ui.app_errors import message_for
from ui.app_format import error_box, node_card, paper_card
from ui.app_services import AppServices

_LINKS = {  # edge kind -> how a non-paper node relates to the papers that point at it
    "organization": "published_by",
    "technique": "uses_technique",
    "category": "in_category",
    "work": "builds_on",
}


def card_html(services: AppServices, node_id: str, highlight: Sequence[str] = ()) -> str:
    """The card for a node id (`paper:<id>`, `work:<slug>`, `org:<name>`, …) or a bare paper id."""
    try:
        return _card(services, node_id, highlight)
    except Exception as exc:
        return error_box(message_for(exc))


def _card(services: AppServices, node_id: str, highlight: Sequence[str]) -> str:
    if not node_id:
        raise KgragError("nothing to show: click a paper, a citation or a node.")
    if not node_id.startswith(("paper:", "work:", "org:", "technique:", "category:")):
        node_id = f"paper:{node_id}"
    if node_id.startswith("paper:"):
        paper = services.paper(node_id.split(":", 1)[1])
        return paper_card(paper, highlight, _lineage_note(services, node_id))
    graph = services.kg().graph
    if not graph.has_node(node_id):
        raise KgragError(f"{node_id!r} is not in the graph; the corpus may have changed.")
    data = graph.nodes[node_id]
    kind = str(data.get("kind", ""))
    papers = _linked_papers(services, graph, node_id, _LINKS.get(kind, ""))
    note = {
        "work": "Referred to by the corpus but not itself one of its papers.",
        "organization": f"{len(papers)} paper(s) in the corpus.",
        "technique": f"Used by {len(papers)} paper(s) in the corpus.",
    }.get(kind, "")
    return node_card(
        str(data.get("label", node_id)), kind, str(data.get("date") or ""), papers, note
    )


def _linked_papers(services: AppServices, graph: Any, node_id: str, kind: str) -> list[Any]:
    by_id = services.corpus().by_id()
    found = []
    for source, _, key, data in graph.in_edges(node_id, keys=True, data=True):
        if str(data.get("kind", key)) == kind and source.startswith("paper:"):
            paper = by_id.get(source.split(":", 1)[1])
            if paper is not None and paper not in found:
                found.append(paper)
    return sorted(found, key=lambda p: (p.date, p.title))


def _lineage_note(services: AppServices, node_id: str) -> str:
    """One line naming what the paper builds on and what builds on it, each clickable."""
    graph = services.kg().graph
    parents = [
        v for _, v, k, d in graph.out_edges(node_id, keys=True, data=True)
        if str(d.get("kind", k)) == "builds_on"
    ]  # fmt: skip
    children = [
        u for u, _, k, d in graph.in_edges(node_id, keys=True, data=True)
        if str(d.get("kind", k)) == "builds_on"
    ]  # fmt: skip
    if not parents and not children:
        return ""
    from html import escape

    def links(ids: list[str]) -> str:
        return ", ".join(
            f'<a class="kg-link" data-open="{escape(i)}">'
            f"{escape(str(graph.nodes[i].get('label', i)))}</a>"
            for i in ids
        )

    parts = []
    if parents:
        parts.append(f"<span>Builds on</span> {links(parents)}")
    if children:
        parts.append(f"<span>Built on by</span> {links(children)}")
    return f'<div class="kg-card-field">{" · ".join(parts)}</div>'

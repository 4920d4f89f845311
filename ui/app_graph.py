"""The lineage explorer's picture: a work's neighbourhood laid out as a left-to-right timeline SVG.

Only the neighbourhood of one work is drawn (its ancestors and descendants up to a depth, plus
optional organisations and techniques), capped in size, so the page stays responsive on a graph
of thousands of nodes. Zoom, pan and clicks are handled by `ui/static/graph.js`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kg.queries import NEIGHBOURHOOD_MAX_NODES as MAX_NODES
from kg.queries import Neighbourhood
from kg.queries import neighbourhood as graph_neighbourhood
from kg.records import GraphEdge, Node
from ui.app_format import escape

__all__ = ["MAX_NODES", "RELATION_LABEL", "GraphView", "ViewEdge", "ViewNode", "neighbourhood",
           "render_svg"]  # fmt: skip

COL_W, ROW_H, NODE_W, NODE_H = 250, 78, 168, 46
BAND_GAP = 96

LINEAGE = "builds_on"
RELATION_LABEL = {
    "successor": "successor",
    "fine_tuned_from": "fine-tuned",
    "same_architecture": "same architecture",
    "extends": "extends",
}

ViewEdge = GraphEdge  # drawn from `parent` (earlier) to `child`; `kind` is the graph edge kind


@dataclass(frozen=True)
class ViewNode:
    id: str
    label: str
    kind: str
    date: str
    paper_id: str
    x: float
    y: float
    root: bool = False
    on_path: bool = False


@dataclass(frozen=True)
class GraphView:
    root: str
    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    hidden: int  # lineage nodes beyond the depth/size cap, not drawn

    def lineage_edges(self) -> tuple[ViewEdge, ...]:
        return tuple(e for e in self.edges if e.kind == LINEAGE)


def neighbourhood(kg: Any, root: str, *options: Any, **named: Any) -> GraphView:
    """`kg.queries.neighbourhood(kg, root, depth, organizations, techniques, path)` laid out
    by date: what is drawn is chosen in `kg/`, where it goes is chosen here."""
    return layout(graph_neighbourhood(kg, root, *options, **named))


def layout(near: Neighbourhood) -> GraphView:
    """Place a neighbourhood: one column per month, organisations below, techniques above."""
    nodes = {n.id: n for n in near.nodes}
    edges = list(near.edges)
    members = [n.id for n in near.works]
    columns = _columns(nodes, members, edges)
    rows: dict[int, list[str]] = {}
    for node in members:
        rows.setdefault(columns[node], []).append(node)
    tallest = max(len(r) for r in rows.values())
    placed: dict[str, tuple[float, float]] = {}
    for col, ids in rows.items():
        ids.sort(key=lambda n: (n != near.root, nodes[n].label.casefold()))
        offset = (tallest - len(ids)) * ROW_H / 2
        for i, node in enumerate(ids):
            placed[node] = (col * COL_W, offset + i * ROW_H)
    bottom = tallest * ROW_H - ROW_H + BAND_GAP
    for kind, y in (("organization", bottom), ("technique", -BAND_GAP)):
        band = [n.id for n in near.extras if n.kind == kind]
        _place_band(band, y, edges, placed)
    on_path = set(near.path)
    placed_nodes = tuple(
        _view_node(nodes[n], x, y, n == near.root, n in on_path) for n, (x, y) in placed.items()
    )
    return GraphView(near.root, placed_nodes, tuple(edges), near.hidden)


def _view_node(node: Node, x: float, y: float, root: bool, on_path: bool) -> ViewNode:
    return ViewNode(
        id=node.id, label=node.label, kind=node.kind, date=node.date or "",
        paper_id=node.paper_id or "", x=x, y=y, root=root, on_path=on_path,
    )  # fmt: skip


def _columns(nodes: dict[str, Node], members: list[str], edges: list[ViewEdge]) -> dict[str, int]:
    """One column per distinct month; an undated work sits just before its earliest child."""
    dates = sorted({d for n in members if (d := nodes[n].date)})
    rank = {d: i + 1 for i, d in enumerate(dates)}
    columns = {n: rank[d] for n in members if (d := nodes[n].date)}
    children: dict[str, list[str]] = {}
    for e in edges:
        children.setdefault(e.parent, []).append(e.child)
    for _ in range(len(members)):  # settle undated chains (GPT-3 -> ... ) back to front
        for node in members:
            if node in columns and nodes[node].date:
                continue
            known = [columns[c] for c in children.get(node, []) if c in columns]
            columns[node] = min(known) - 1 if known else 0
    low = min(columns.values())
    return {n: c - low for n, c in columns.items()}


def _place_band(
    band: list[str], y: float, edges: list[ViewEdge], placed: dict[str, tuple[float, float]]
) -> None:
    wanted = []
    for node in band:
        xs = [placed[e.child][0] for e in edges if e.parent == node and e.child in placed]
        wanted.append((sum(xs) / len(xs) if xs else 0.0, node))
    last = -1e9
    for x, node in sorted(wanted):
        x = max(x, last + NODE_W + 16)
        placed[node] = (x, y)
        last = x


# ---- SVG -----------------------------------------------------------------------------------


def render_svg(view: GraphView) -> str:
    """The view as an inline SVG: boxes for works, pills for organisations and techniques."""
    if not view.nodes:
        return ""
    pos = {n.id: n for n in view.nodes}
    xs = [n.x for n in view.nodes]
    ys = [n.y for n in view.nodes]
    pad = 40
    x0, y0 = min(xs) - pad, min(ys) - pad - 24
    width = max(xs) - min(xs) + NODE_W + 2 * pad
    height = max(ys) - min(ys) + NODE_H + 2 * pad + 24
    box = f"{x0:.0f} {y0:.0f} {width:.0f} {height:.0f}"
    parts = [
        f'<svg class="kg-svg" viewBox="{box}" data-home="{box}" '
        f'style="aspect-ratio: {width:.0f} / {height:.0f}" '
        'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="lineage graph">',
        '<defs><marker id="kg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="kg-arrowhead"/></marker></defs>',
        _month_axis(view, y0 + 14),
    ]
    parts += [_svg_edge(e, pos) for e in view.edges if e.parent in pos and e.child in pos]
    parts += [_svg_node(n) for n in view.nodes]
    parts.append("</svg>")
    return "".join(parts)


def _month_axis(view: GraphView, y: float) -> str:
    seen: dict[float, str] = {}
    for n in view.nodes:
        if n.kind in ("paper", "work") and n.date:
            seen.setdefault(n.x, n.date)
    return "".join(
        f'<text class="kg-axis" x="{x + NODE_W / 2:.0f}" y="{y:.0f}">{escape(d)}</text>'
        for x, d in sorted(seen.items())
    )


def _svg_edge(edge: ViewEdge, pos: dict[str, ViewNode]) -> str:
    a, b = pos[edge.parent], pos[edge.child]
    if edge.kind == LINEAGE:
        x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2
        if x2 <= x1:  # same month: go from the bottom of one box to the top of the other
            x1, y1, x2, y2 = a.x + NODE_W / 2, a.y + NODE_H, b.x + NODE_W / 2, b.y
            d = f"M{x1:.0f},{y1:.0f} C{x1 + 40:.0f},{y1 + 20:.0f} {x2 + 40:.0f},{y2 - 20:.0f} {x2:.0f},{y2:.0f}"
        else:
            mid = (x1 + x2) / 2
            d = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    else:  # organisation / technique band: a light straight line to the box edge
        x1, y1 = a.x + NODE_W / 2, a.y + (0 if a.y > b.y else NODE_H)
        x2, y2 = b.x + NODE_W / 2, b.y + (NODE_H if a.y > b.y else 0)
        d = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
    label = RELATION_LABEL.get(edge.relation, edge.relation) if edge.kind == LINEAGE else ""
    classes = f"kg-edge kind-{escape(edge.kind)}" + (" on-path" if edge.on_path else "")
    tip = _edge_tip(edge, a.label, b.label)
    text = (
        f'<text class="kg-edge-label" x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 6:.0f}">'
        f"{escape(label)}</text>"
        if label
        else ""
    )
    marker = ' marker-end="url(#kg-arrow)"' if edge.kind == LINEAGE else ""
    return (
        f'<g class="{classes}" data-evidence="{escape(tip)}"><title>{escape(tip)}</title>'
        f'<path class="kg-hit" d="{d}"/><path class="kg-line" d="{d}"{marker}/>{text}</g>'
    )


def _edge_tip(edge: ViewEdge, parent: str, child: str) -> str:
    if edge.kind != LINEAGE:
        return f"{child} — {edge.kind.replace('_', ' ')} — {parent}"
    where = f" (line {edge.line}, {edge.method})" if edge.line else f" ({edge.method})"
    relation = RELATION_LABEL.get(edge.relation, edge.relation)
    return f"{child} ← {relation} ← {parent}: “{edge.evidence}”{where}"


def _svg_node(node: ViewNode) -> str:
    classes = f"kg-node kind-{escape(node.kind)}"
    classes += " is-root" if node.root else ""
    classes += " on-path" if node.on_path else ""
    label = node.label if len(node.label) <= 24 else node.label[:23] + "…"
    sub = node.date if node.kind in ("paper", "work") else node.kind
    radius = 23 if node.kind in ("organization", "technique") else 8
    return (
        f'<g class="{classes}" data-node="{escape(node.id)}" transform="translate({node.x:.0f},'
        f'{node.y:.0f})" tabindex="0"><title>{escape(node.label)}</title>'
        f'<rect width="{NODE_W}" height="{NODE_H}" rx="{radius}"/>'
        f'<text class="kg-node-label" x="{NODE_W / 2}" y="20">{escape(label)}</text>'
        f'<text class="kg-node-sub" x="{NODE_W / 2}" y="36">{escape(sub or "undated")}</text></g>'
    )

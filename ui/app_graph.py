"""The lineage chart: a work's neighbourhood laid out by Graphviz `dot`, drawn as kgrag's own SVG.

Time flows left to right: one column per month that has a work (`rank=same`, months ordered
by an invisible chain), so a branch reads as one row. Why `dot` rather than hand placement or a
vendored JavaScript layout: its crossing minimisation keeps branches on their own rows, and
its splines are routed around the boxes (an edge never runs under an unrelated work), with the
relation labels given room of their own; dagre routes straight segments that may cut boxes,
and ELK would ship ~1.6 MB of compiled JavaScript. `dot` runs on the server, bounded and cached
(`ui/app_dot.py`), so the page loads no layout code and works offline. Only geometry comes
back from `dot`; every label is escaped here, and zoom, pan, clicks, the search box, fit to a
selection and folding are `ui/static/interact.js` and `ui/static/lineage.js`.

Only the neighbourhood of one work is drawn (its ancestors and descendants up to a depth, plus
optional organisations and techniques), capped in size; a folded work hides its descendants.
With citations on, the papers citing the work or cited by it join, and `cites` edges draw as
dashed teal lines with an arrow at the cited paper; they take no part in the ranking, so the
lineage rows stay where they were, and their evidence (the citing sentences with their pages,
then the reference entry) is what a click on one shows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from kg.queries import NEIGHBOURHOOD_MAX_NODES as MAX_NODES
from kg.queries import Neighbourhood
from kg.queries import neighbourhood as graph_neighbourhood
from kg.records import GraphEdge, Node
from ui.app_dot import Placed, Route, dot_layout, quote
from ui.app_format import escape

__all__ = ["CITES", "MAX_NODES", "RELATION_LABEL", "GraphView", "Tick", "ViewEdge", "ViewNode",
           "citation_tip", "fold", "layout", "neighbourhood", "render_svg"]  # fmt: skip

LINEAGE = "builds_on"
CITES = "cites"
WORK_KINDS = ("paper", "work")
RELATION_LABEL = {
    "successor": "successor",
    "fine_tuned_from": "fine-tuned",
    "same_architecture": "same architecture",
    "extends": "extends",
}
# Type sizes in drawing units (1 unit = 1 CSS px at scale 1; the CSS uses the same sizes). No
# text is under 12.5 units and lineage.js's default fit never goes below scale 0.97, so every
# text of the chart reads at 12 px or more.
TITLE_PX, SUB_PX, EXTRA_PX, EDGE_PX = 13.5, 12.5, 13.0, 12.5
# A long relation takes two short lines on the chart: a label's width widens the gap between
# two month columns, and LLaMA's family should fit the panel whole.
CHART_RELATION = {
    "successor": ("successor",),
    "fine_tuned_from": ("fine-", "tuned"),
    "same_architecture": ("same", "architecture"),
    "extends": ("extends",),
}
MAX_TEXT_W = 164.0  # a title wraps onto another line past this width (three at most)
PAD_X, PAD_Y, TITLE_LH, SUB_LH, PILL_H = 8.0, 8.0, 18.0, 16.0, 30.0
MARGIN, AXIS_H, EDGE_LH = 8.0, 30.0, 14.0
BLEED = 4000.0  # how far the month bands run on past the drawing
FONT = '"DejaVu Sans"'  # what the chart's CSS asks for first, so dot sizes labels alike
# Rows are spaced wider in a small chart (the panel has height to spare) than in a large one
# (where more rows in view is worth more); nodesep is in inches, between neighbours in a column.
ROOMY_NODES, NODESEP_ROOMY, NODESEP_DENSE = 24, 0.32, 0.15
DOT_GRAPH = (
    "graph [rankdir=LR, newrank=true, splines=true, nodesep={nodesep}, ranksep=0.2, pad=0, "
    f"fontname={FONT}];\n"
    'node [shape=box, fixedsize=true, label=""];\n'
    f"edge [arrowhead=none, fontname={FONT}, fontsize={EDGE_PX}];"
)


@dataclass(frozen=True)
class ViewNode:
    """A drawn node: `x`, `y` is its top-left corner, `lines` its wrapped label."""

    id: str
    label: str
    kind: str
    date: str
    paper_id: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    lines: tuple[str, ...] = ()
    root: bool = False
    on_path: bool = False
    parent: bool = False  # has drawn lineage children: gets a fold toggle
    folded: int = 0  # descendants hidden under it


@dataclass(frozen=True)
class ViewEdge(GraphEdge):
    """A neighbourhood edge with its route: `d` is the SVG path, `label_at` the label's centre."""

    d: str = ""
    label_at: tuple[float, float] | None = None


@dataclass(frozen=True)
class Tick:
    """A month column of the time axis: its centre and the span of its shaded band."""

    x: float
    left: float
    right: float
    month: str


@dataclass(frozen=True)
class GraphView:
    root: str
    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    hidden: int  # lineage nodes beyond the depth/size cap, not drawn
    width: float = 0.0
    height: float = 0.0
    ticks: tuple[Tick, ...] = ()

    def lineage_edges(self) -> tuple[ViewEdge, ...]:
        return tuple(e for e in self.edges if e.kind == LINEAGE)

    def citation_edges(self) -> tuple[ViewEdge, ...]:
        return tuple(e for e in self.edges if e.kind == CITES)


def neighbourhood(
    kg: Any,
    root: str,
    depth: int = 3,
    organizations: bool = False,
    techniques: bool = False,
    path: Sequence[str] = (),
    collapsed: Collection[str] = (),
    citations: bool = False,
) -> GraphView:
    """`kg.queries.neighbourhood` laid out: what is drawn is chosen in `kg/`, where it goes
    here; each work in `collapsed` hides its descendants."""
    near = graph_neighbourhood(kg, root, depth, organizations, techniques, path, citations)
    return layout(near, collapsed)


def layout(near: Neighbourhood, collapsed: Collection[str] = ()) -> GraphView:
    """Fold, size every node, let `dot` place them, and keep its geometry."""
    near, folded = fold(near, collapsed)
    parents = {e.parent for e in near.lineage_edges()} | set(folded)
    sized = {n.id: _size(n, n.id in parents, folded.get(n.id, 0)) for n in near.nodes}
    names = {n.id: f"n{i}" for i, n in enumerate(near.nodes)}
    placed = dot_layout(_dot_source(near, names, sized))
    nodes = tuple(
        _view_node(n, placed.nodes[names[n.id]], sized[n.id], near, parents, folded)
        for n in near.nodes
    )
    edges = tuple(_view_edge(e, placed.edges.get(f"e{i}")) for i, e in enumerate(near.edges))
    ticks = _ticks(nodes, placed.width)
    return GraphView(near.root, nodes, edges, near.hidden, placed.width, placed.height, ticks)


# ---- folding -------------------------------------------------------------------------------


def fold(near: Neighbourhood, collapsed: Collection[str]) -> tuple[Neighbourhood, dict[str, int]]:
    """Hide what is reachable only through a folded work; the root always stays. Returns the
    smaller neighbourhood and, for each folded work, how many works it hides."""
    wanted = set(collapsed)
    if not wanted & {e.parent for e in near.lineage_edges()}:
        return near, {}
    children: dict[str, list[str]] = {}
    for e in near.lineage_edges():
        children.setdefault(e.parent, []).append(e.child)
    has_parent = {e.child for e in near.lineage_edges()}
    tops = [n.id for n in near.works if n.id not in has_parent] + [near.root]
    shown = _reach(tops, children, stop=wanted)
    counts = {n: len(_reach([n], children) - shown) for n in wanted if n in shown}
    works = tuple(n for n in near.works if n.id in shown)
    edges = tuple(
        e for e in near.edges
        if e.child in shown and (e.parent in shown or e.kind not in (LINEAGE, CITES))
    )  # fmt: skip
    linked = {e.parent for e in edges if e.kind not in (LINEAGE, CITES)}
    extras = tuple(n for n in near.extras if n.id in linked)
    smaller = replace(near, works=works, extras=extras, edges=edges)
    return smaller, {n: c for n, c in counts.items() if c}


def _reach(
    starts: Iterable[str], children: dict[str, list[str]], stop: Collection[str] = ()
) -> set[str]:
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node not in stop:
            todo += children.get(node, [])
    return seen


# ---- sizes and the DOT text ----------------------------------------------------------------


@dataclass(frozen=True)
class _Size:
    w: float
    h: float
    lines: tuple[str, ...]


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of `text`'s width in DejaVu Sans (the chart's first font)."""
    ems = sum(_char_em(c) for c in text)
    return ems * size * (1.0 if bold else 0.92)


def _char_em(char: str) -> float:
    if unicodedata.east_asian_width(char) in "WF":
        return 1.02
    if char in " il.,:;'|!()[]{}jI":
        return 0.38
    if char in "ftr-/":
        return 0.52
    if char in "MWmw@%":
        return 1.02
    return 0.8 if char.isupper() else 0.7


def wrap(
    text: str, size: float, bold: bool = True, width: float = MAX_TEXT_W, most: int = 3
) -> tuple[str, ...]:
    """`text` in at most `most` lines of `width`, broken between words (or anywhere in a long
    word or CJK text); what does not fit ends in an ellipsis (the whole label is the tooltip)."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"\S+\s*", text.strip()) or [""]:
        if text_width(line + token.rstrip(), size, bold) <= width:
            line += token
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        for char in token:
            if text_width(line + char, size, bold) > width and line.strip():
                lines.append(line.rstrip())
                line = ""
            line += char
    lines.append(line.rstrip())
    if len(lines) > most:
        last = lines[most - 1]
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1]
        lines = [*lines[: most - 1], last.rstrip() + "…"]
    return tuple(lines)


def _size(node: Node, parent: bool, folded: int) -> _Size:
    if node.kind not in WORK_KINDS:
        lines = wrap(node.label, EXTRA_PX, bold=False, width=MAX_TEXT_W, most=1)
        return _Size(max(text_width(lines[0], EXTRA_PX) + 2 * PAD_X + 6, 64.0), PILL_H, lines)
    lines = wrap(node.label, TITLE_PX)
    sub = _sub_row(node.date or "undated", parent, folded)[2]
    text = max([text_width(t, TITLE_PX, bold=True) for t in lines] + [sub])
    return _Size(max(text + 2 * PAD_X, 76.0), 2 * PAD_Y + TITLE_LH * len(lines) + SUB_LH, lines)


def _toggle_width(folded: int) -> float:
    return max(18.0, text_width(_toggle_text(folded), SUB_PX, bold=True) + 10)


def _sub_row(date: str, parent: bool, folded: int) -> tuple[float, float, float]:
    """The date line: the date's centre, the toggle's left end and the whole row's width
    (date, then the fold toggle beside it, centred together), from the row's left end."""
    date_w = text_width(date, SUB_PX)
    if not parent:
        return date_w / 2, 0.0, date_w
    row = date_w + 6 + _toggle_width(folded)
    return date_w / 2, date_w + 6, row


def _toggle_text(folded: int) -> str:
    return f"+{folded}" if folded else "−"


def _dot_source(near: Neighbourhood, names: dict[str, str], sized: dict[str, _Size]) -> str:
    """The DOT text: node sizes, month ranks, edges. No corpus text: names are n0, n1 …"""
    nodesep = NODESEP_ROOMY if len(sized) <= ROOMY_NODES else NODESEP_DENSE
    lines = ["digraph kgrag {", DOT_GRAPH.replace("{nodesep}", str(nodesep))]
    lines += [
        f"{names[n]} [width={s.w / 72:.4f}, height={s.h / 72:.4f}];" for n, s in sized.items()
    ]
    lines += _month_ranks(near, names)
    month = {n.id: n.date for n in near.works if n.date}
    for i, e in enumerate(near.edges):
        if e.kind == LINEAGE:
            label = "\n".join(_relation_lines(e.relation))
            style = f"weight=6, label={quote(label)}"
            child, parent = month.get(e.child), month.get(e.parent)
            if child and parent and child < parent:  # a child dated before its parent: the
                style += ", constraint=false"  # months keep their order, the edge runs back
        elif e.kind == CITES:  # no say in the ranking: the lineage rows stay as they were
            style = "weight=0, constraint=false"
        else:  # organisation / technique links (and any future kind): light, may bend
            style = "weight=1"
        lines.append(f"{names[e.parent]} -> {names[e.child]} [id=e{i}, {style}];")
    lines.append("}")
    return "\n".join(lines)


def _relation_lines(relation: str) -> tuple[str, ...]:
    """The relation as drawn (an unknown one as its letters only: it goes into the DOT text)."""
    return CHART_RELATION.get(relation) or (re.sub(r"[^A-Za-z _-]", "", relation)[:24],)


def _month_ranks(near: Neighbourhood, names: dict[str, str]) -> list[str]:
    """One rank per month with a work, in date order (an invisible chain of anchors orders
    them); an organisation or technique sits in the column of its earliest work."""
    month = {n.id: n.date for n in near.works if n.date}
    for e in near.edges:
        if e.kind not in (LINEAGE, CITES) and (d := month.get(e.child)):
            month[e.parent] = min(month.get(e.parent, d), d)
    months = sorted(set(month.values()))
    anchor = {m: f"t{i}" for i, m in enumerate(months)}
    lines = [f"{a} [shape=point, width=0.01, height=0.01, style=invis];" for a in anchor.values()]
    if len(months) > 1:
        lines.append(" -> ".join(anchor.values()) + " [style=invis, weight=0];")
    for m in months:
        members = " ".join(names[n] for n, d in month.items() if d == m)
        lines.append(f"{{rank=same; {anchor[m]} {members}}}")
    return lines


# ---- geometry back from dot ----------------------------------------------------------------


def _view_node(node: Node, spot: Placed, size: _Size, near: Neighbourhood, parents: set[str],
               folded: dict[str, int]) -> ViewNode:  # fmt: skip
    return ViewNode(
        id=node.id, label=node.label, kind=node.kind, date=node.date or "",
        paper_id=node.paper_id or "", x=spot.x - size.w / 2, y=spot.y - size.h / 2, w=size.w,
        h=size.h, lines=size.lines, root=node.id == near.root, on_path=node.id in near.path,
        parent=node.id in parents, folded=folded.get(node.id, 0),
    )  # fmt: skip


def _view_edge(edge: GraphEdge, route: Route | None) -> ViewEdge:
    base = {f.name: getattr(edge, f.name) for f in fields(GraphEdge)}
    if route is None or len(route.points) < 2:
        return ViewEdge(**base)
    lines = _relation_lines(edge.relation)
    size = (max(text_width(t, EDGE_PX) for t in lines), len(lines) * EDGE_LH)
    label = _off_the_line(route.label, route.points, size) if route.label else None
    return ViewEdge(**base, d=_path(route.points), label_at=label)


def _off_the_line(
    label: tuple[float, float], points: Sequence[tuple[float, float]], size: tuple[float, float]
) -> tuple[float, float]:
    """dot reserves a label's room beside its edge, but a steep spline may pass well away from
    it (or graze it): put the label's box 4 units from the nearest point of the line, on the
    side dot chose."""
    x, y = label
    near_x, near_y = min(_samples(points), key=lambda p: (p[0] - x) ** 2 + (p[1] - y) ** 2)
    dx, dy = x - near_x, y - near_y
    length = (dx * dx + dy * dy) ** 0.5
    dx, dy = (dx / length, dy / length) if length > 1 else (0.0, -1.0)
    reach = abs(dx) * size[0] / 2 + abs(dy) * size[1] / 2 + 4  # the box's half-depth that way
    return near_x + dx * reach, near_y + dy * reach


def _samples(points: Sequence[tuple[float, float]], steps: int = 16) -> list[tuple[float, float]]:
    """Points along dot's piecewise cubic Bézier (1 + 3k control points)."""
    out = [points[0]]
    for i in range(0, len(points) - 3, 3):
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = points[i : i + 4]
        for k in range(1, steps + 1):
            t = k / steps
            u = 1 - t
            w = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
            out.append((w[0] * ax + w[1] * bx + w[2] * cx + w[3] * dx,
                        w[0] * ay + w[1] * by + w[2] * cy + w[3] * dy))  # fmt: skip
    return out


def _path(points: Sequence[tuple[float, float]]) -> str:
    """An SVG path through dot's cubic B-spline: a move, then one curve per three points."""
    (x, y), rest = points[0], points[1:]
    parts = [f"M{x:.1f},{y:.1f}"]
    for i in range(0, len(rest) - len(rest) % 3, 3):
        (ax, ay), (bx, by), (cx, cy) = rest[i : i + 3]
        parts.append(f"C{ax:.1f},{ay:.1f} {bx:.1f},{by:.1f} {cx:.1f},{cy:.1f}")
    return " ".join(parts)


def _ticks(nodes: Sequence[ViewNode], width: float) -> tuple[Tick, ...]:
    """The month columns, from where dot put the dated works."""
    centres: dict[str, float] = {}
    for n in nodes:
        if n.kind in WORK_KINDS and n.date:
            centres.setdefault(n.date, n.x + n.w / 2)
    months = sorted(centres)
    xs = [centres[m] for m in months]
    edges = [-MARGIN] + [(a + b) / 2 for a, b in zip(xs, xs[1:], strict=False)] + [width + MARGIN]
    return tuple(
        Tick(x, edges[i], edges[i + 1], m) for i, (m, x) in enumerate(zip(months, xs, strict=True))
    )


# ---- SVG -----------------------------------------------------------------------------------


def render_svg(view: GraphView) -> str:
    """The view as an inline SVG: month bands and axis, routed edges, boxes, fold toggles."""
    if not view.nodes:
        return ""
    x0, y0 = -MARGIN, -MARGIN - AXIS_H
    width, height = view.width + 2 * MARGIN, view.height + 2 * MARGIN + AXIS_H
    box = f"{x0:.0f} {y0:.0f} {width:.0f} {height:.0f}"
    # Path edges last, so they are drawn over the others; lineage over organisation links.
    edges = sorted((e for e in view.edges if e.d), key=lambda e: (e.on_path, e.kind == LINEAGE))
    labels = {n.id: n.label for n in view.nodes}
    parts = [
        f'<svg class="kg-svg" viewBox="{box}" data-home="{box}" data-extent="{box}" '
        f'data-root="{escape(view.root)}" style="height: {min(height, 640):.0f}px" '
        'xmlns="http://www.w3.org/2000/svg" '
        'role="img" aria-label="lineage chart">',
        f"<defs>{_marker('kg-arrow', 'kg-arrowhead')}{_marker('kg-arrow-path', 'kg-arrowhead on-path')}"
        f"{_cite_marker(view)}</defs>",
        _bands(view, y0, height),
        '<g class="kg-edges">', *(_svg_edge(e, labels) for e in edges), "</g>",
        '<g class="kg-nodes">', *(_svg_node(n) for n in view.nodes), "</g>",
        _axis(view, x0, y0, width),
        "</svg>",
    ]  # fmt: skip
    return "".join(parts)


def _marker(name: str, classes: str, orient: str = "auto") -> str:
    return (f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
            f'markerHeight="9" markerUnits="userSpaceOnUse" orient="{orient}">'
            f'<path d="M0,0 L10,5 L0,10 z" class="{classes}"/></marker>')  # fmt: skip


def _cite_marker(view: GraphView) -> str:
    """The arrow at a `cites` line's start, the cited paper (the path runs cited → citing);
    only in a chart that has one, so a chart without citations is what it always was."""
    if not view.citation_edges():
        return ""
    return _marker("kg-arrow-cite", "kg-arrowhead kind-cites", orient="auto-start-reverse")


def _bands(view: GraphView, top: float, height: float) -> str:
    """Alternate shading per month column, under everything; the outer columns and the bands'
    ends run on past the drawing, so a view larger than the chart is still a timeline."""
    rects = []
    for i, t in enumerate(view.ticks):
        left = t.left - (BLEED if i == 0 else 0)
        right = t.right + (BLEED if i == len(view.ticks) - 1 else 0)
        rects.append(
            f'<rect class="kg-band{" is-odd" if i % 2 else ""}" x="{left:.1f}" y="{top - BLEED:.1f}" '
            f'width="{right - left:.1f}" height="{height + 2 * BLEED:.1f}"/>'
        )
    return '<g class="kg-bands">' + "".join(rects) + "</g>"


def _axis(view: GraphView, left: float, top: float, width: float) -> str:
    """The months, over everything: lineage.js keeps this strip at the top of the view."""
    months = "".join(
        f'<text class="kg-axis" x="{t.x:.1f}" y="{top + AXIS_H / 2 + 5:.1f}">{escape(t.month)}</text>'
        for t in view.ticks
    )
    strip = (f'<rect class="kg-axis-strip" x="{left - BLEED:.1f}" y="{top:.1f}" '
             f'width="{width + 2 * BLEED:.1f}" height="{AXIS_H:.1f}"/>')  # fmt: skip
    return f'<g class="kg-axis-bar">{strip}{months}</g>' if months else ""


def _svg_edge(edge: ViewEdge, labels: dict[str, str]) -> str:
    lineage = edge.kind == LINEAGE
    classes = f"kg-edge kind-{escape(edge.kind)}" + (" on-path" if edge.on_path else "")
    tip = _edge_tip(edge, labels.get(edge.parent, edge.parent), labels.get(edge.child, edge.child))
    arrow = "kg-arrow-path" if edge.on_path else "kg-arrow"
    marker = f' marker-end="url(#{arrow})"' if lineage else ""
    if edge.kind == CITES:
        marker = ' marker-start="url(#kg-arrow-cite)"'
    text = ""
    if lineage and edge.label_at:
        text = _edge_label(_relation_lines(edge.relation), *edge.label_at)
    return (
        f'<g class="{classes}" data-parent="{escape(edge.parent)}" data-child="{escape(edge.child)}" '
        f'data-evidence="{escape(tip)}"><title>{escape(tip)}</title>'
        f'<path class="kg-hit" d="{edge.d}"/><path class="kg-line" d="{edge.d}"{marker}/>{text}</g>'
    )


def _edge_label(lines: Sequence[str], x: float, y: float) -> str:
    """The relation's lines centred on dot's label point."""
    top = y - (len(lines) - 1) * EDGE_LH / 2 + 4.5
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{top + i * EDGE_LH:.1f}">{escape(t)}</tspan>'
        for i, t in enumerate(lines)
    )
    return f'<text class="kg-edge-label">{spans}</text>'


def _edge_tip(edge: GraphEdge, parent: str, child: str) -> str:
    if edge.kind == CITES:
        return citation_tip(edge, parent, child)
    if edge.kind != LINEAGE:
        return f"{child} — {edge.kind.replace('_', ' ')} — {parent}"
    where = f" (line {edge.line}, {edge.method})" if edge.line else f" ({edge.method})"
    if edge.page and not edge.line:  # a full text's sentence
        where = f" (p. {edge.page}, {edge.method})"
    relation = RELATION_LABEL.get(edge.relation, edge.relation)
    return f"{child} ← {relation} ← {parent}: “{edge.evidence}”{where}"


def citation_tip(edge: GraphEdge, cited: str, citing: str) -> str:
    """A `cites` edge's evidence: each citing sentence with its page, then the entry."""
    said = "".join(f"\np. {page}: “{text}”" for page, text in edge.contexts)
    facts = [f"p. {edge.page}"] if edge.page else []
    facts += [f"resolved by {edge.method}"] if edge.method else []
    entry = f"reference entry ({', '.join(facts)})" if facts else "reference entry"
    return f"{citing} cites {cited}{said}\n{entry}: {edge.evidence}"


def _svg_node(node: ViewNode) -> str:
    classes = f"kg-node kind-{escape(node.kind)}"
    classes += " is-root" if node.root else ""
    classes += " on-path" if node.on_path else ""
    classes += " is-folded" if node.folded else ""
    work = node.kind in WORK_KINDS
    radius = node.h / 2 if not work else 8
    body = _work_text(node) if work else _pill_text(node)
    return (
        f'<g class="{classes}" data-node="{escape(node.id)}" data-label="{escape(node.label)}" '
        f'transform="translate({node.x:.1f},{node.y:.1f})" tabindex="0">'
        f"<title>{escape(node.label)}</title>"
        f'<rect width="{node.w:.1f}" height="{node.h:.1f}" rx="{radius:.1f}"/>{body}</g>'
        + _svg_toggle(node)
    )


def _work_text(node: ViewNode) -> str:
    cx = node.w / 2
    out = [
        f'<text class="kg-node-label" x="{cx:.1f}" y="{PAD_Y + 13 + i * TITLE_LH:.1f}">{escape(t)}</text>'
        for i, t in enumerate(node.lines)
    ]
    date_x, _, row = _sub_row(node.date or "undated", node.parent, node.folded)
    sub_x, sub_y = (node.w - row) / 2 + date_x, PAD_Y + TITLE_LH * len(node.lines) + 12
    out.append(
        f'<text class="kg-node-sub" x="{sub_x:.1f}" y="{sub_y:.1f}">{escape(node.date or "undated")}</text>'
    )
    return "".join(out)


def _pill_text(node: ViewNode) -> str:
    return (f'<text class="kg-node-label kg-pill-label" x="{node.w / 2:.1f}" y="{node.h / 2 + 4.5:.1f}">'
            f"{escape(node.lines[0] if node.lines else node.label)}</text>")  # fmt: skip


def _svg_toggle(node: ViewNode) -> str:
    """The fold toggle, inside the box at the right of the date: − folds the descendants, +N
    unfolds them."""
    if not node.parent:
        return ""
    w = _toggle_width(node.folded)
    _, left, row = _sub_row(node.date or "undated", True, node.folded)
    x, y = node.x + (node.w - row) / 2 + left, node.y + node.h - PAD_Y - 17
    verb = f"Show the {node.folded} hidden descendants" if node.folded else "Hide the descendants"
    return (
        f'<g class="kg-toggle{" is-folded" if node.folded else ""}" data-toggle="{escape(node.id)}" '
        f'transform="translate({x:.1f},{y:.1f})" tabindex="0" role="button">'
        f"<title>{escape(verb)} of {escape(node.label)}</title>"
        f'<rect width="{w:.1f}" height="18" rx="9"/>'
        f'<text x="{w / 2:.1f}" y="13.5">{escape(_toggle_text(node.folded))}</text></g>'
    )

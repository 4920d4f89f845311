"""Graphviz `dot` as the lineage chart's layout engine: run as a bounded subprocess, cached.

Only geometry comes back (node centres and sizes, edge splines, edge-label centres, the size
of the drawing), in points with y pointing down; the drawing itself is kgrag's own SVG
(`ui/app_graph.py`), so its classes, escaping and interactivity stay ours. The DOT text given
to `dot` carries no corpus text: node names are `n0, n1 …` and edge labels come from a fixed
vocabulary, so a hostile title cannot reach it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kg.errors import KgragError

__all__ = ["DOT_TIMEOUT_S", "Layout", "LayoutError", "Placed", "Route", "dot_layout", "quote"]

DOT_TIMEOUT_S = 20.0  # a capped neighbourhood lays out in well under a second
INSTALL_HINT = (
    "install Graphviz (`sudo apt-get install graphviz`, or `make install`, which does it), "
    "then redraw; the evidence table below still lists every edge."
)

Point = tuple[float, float]


class LayoutError(KgragError):
    """The chart could not be laid out: `dot` is missing, failed or ran too long."""


@dataclass(frozen=True)
class Placed:
    """A node's centre and size, in points."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Route:
    """An edge's cubic B-spline (1 + 3k points, tail to head) and its label's centre, if any."""

    points: tuple[Point, ...]
    label: Point | None


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    nodes: dict[str, Placed]
    edges: dict[str, Route]  # by the edge's DOT `id`


def quote(value: str) -> str:
    """A DOT double-quoted string (for names and attributes kgrag itself builds)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=64)
def dot_layout(source: str) -> Layout:
    """Lay out a DOT graph. The source is the whole signature of a drawing (the graph drawn
    and every option), so it is the cache key: a redraw of the same view costs nothing."""
    return _parse(_run(source))


def _run(source: str) -> dict[str, Any]:
    dot = shutil.which("dot")
    if dot is None:
        raise LayoutError(f"the lineage chart needs Graphviz's `dot`, which is not installed: "
                          f"{INSTALL_HINT}")  # fmt: skip
    try:
        done = subprocess.run(
            [dot, "-Tjson"], input=source, capture_output=True, text=True,
            timeout=DOT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise LayoutError(
            f"laying out the chart took over {DOT_TIMEOUT_S:.0f} s: lower the depth or collapse "
            "a branch."
        ) from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise LayoutError(f"Graphviz could not lay out the chart ({detail[0]}).")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _parse(raw: dict[str, Any]) -> Layout:
    _, _, width, height = (float(v) for v in raw["bb"].split(","))
    objects = raw.get("objects", [])
    nodes = {
        o["name"]: Placed(*_point(o["pos"], height), float(o["width"]) * 72, float(o["height"]) * 72)
        for o in objects
        if "pos" in o
    }  # fmt: skip
    edges = {
        str(e["id"]): Route(_spline(e["pos"], height), _point(e["lp"], height) if "lp" in e else None)
        for e in raw.get("edges", [])
        if "id" in e and "pos" in e
    }  # fmt: skip
    return Layout(width, height, nodes, edges)


def _point(text: str, height: float) -> Point:
    x, y = text.split(",")[:2]
    return float(x), height - float(y)  # dot's y points up, SVG's down


def _spline(text: str, height: float) -> tuple[Point, ...]:
    """The B-spline of an edge's `pos`, without its arrow end points (kgrag draws no dot arrows)."""
    return tuple(_point(t, height) for t in text.split() if not t.startswith(("s,", "e,")))

"""Keeping the page true to the library: what each part redraws when the library changed.

Gradio sends a new page the values the components were built with, at start. The library may
have changed since (an upload, `kgrag add` / `kgrag remove` in another process), so every page
load redraws the parts that show it from `AppServices`, which reloads changed files first; an
upload redraws them in the page that made it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Redraw:
    """What redraws one part of the page: `fn(*inputs)` gives every output."""

    fn: Callable[..., Any]
    outputs: list[Any]
    inputs: list[Any] = field(default_factory=list)


def redraw_on_change(app: Any, redraws: Sequence[Redraw], *events: Any) -> None:
    """Run every redraw when a page loads and after each of `events` (e.g. an upload)."""
    for redraw in redraws:
        app.load(redraw.fn, redraw.inputs, redraw.outputs, api_visibility="private")
        for event in events:
            event.then(redraw.fn, redraw.inputs, redraw.outputs, api_visibility="private")

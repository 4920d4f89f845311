"""The app's own scripts and styles (`ui/static/`), read as text to inline into the page."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def static_text(name: str) -> str:
    """The text of `ui/static/<name>`."""
    return (STATIC / name).read_text(encoding="utf-8")

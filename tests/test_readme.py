"""The README is checked against the code: every command it shows exists."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ui.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"
_COMMAND = re.compile(r"`?kgrag ((?:eval )?[a-z]+)")


def _registered_commands() -> set[str]:
    parser = build_parser()
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                names.add(name)
                for inner in sub._actions:
                    if isinstance(inner, argparse._SubParsersAction):
                        names.update(f"{name} {child}" for child in inner.choices)
    return names


def test_every_command_in_the_readme_exists() -> None:
    mentioned = set(_COMMAND.findall(README.read_text(encoding="utf-8")))
    assert mentioned, "the README documents no kgrag command"
    assert mentioned <= _registered_commands()


def test_every_command_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    undocumented = {c for c in _registered_commands() if c != "eval" and f"kgrag {c}" not in text}
    assert not undocumented


def test_the_quickstart_is_the_two_make_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]

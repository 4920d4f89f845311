"""`kgrag` commands: ask (to be filled in)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add this module's commands to the parser."""

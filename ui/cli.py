"""The `kgrag` command line: a thin shell over library calls.

Each command group lives in `ui/commands/<group>.py` and exposes
`register(commands, evals)`; this module only wires them and turns
`KgragError`s into one clear line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from kg.errors import KgragError
from kg.version import kgrag_version

COMMAND_MODULES = ("graph", "library", "models", "search", "ask", "serve", "doctor")

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgrag",
        description="Offline knowledge graph + RAG assistant for AI research papers.",
    )
    parser.add_argument("--version", action="version", version=f"kgrag {kgrag_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    evals_parser = sub.add_parser("eval", help="evaluate retrieval or answers on a question file")
    evals = evals_parser.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"ui.commands.{name}")
        module.register(sub, evals)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KgragError as exc:
        if os.environ.get("KGRAG_DEBUG"):
            raise
        print(f"kgrag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kgrag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `kgrag` command line: a thin shell over library calls.

Each command group lives in `ui/commands/<group>.py` and exposes
`register(commands, evals)`; this module only wires them, turns
`KgragError`s into one clear line on stderr, and routes all output through
`ui.commands.common.terminal_safe_output` (no escape sequence from a title
reaches the terminal).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from kg.errors import KgragError
from kg.version import kgrag_version
from ui.commands.common import terminal_safe, terminal_safe_output

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
    with terminal_safe_output():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KgragError as exc:
        from rag.settings import debug_enabled

        if debug_enabled():
            raise
        # one line: a line break or carriage return from a title must not forge a second one
        message = terminal_safe(str(exc)).replace("\n", "\\n")
        print(f"kgrag: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kgrag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `kgrag` command line: a thin shell over library calls.

Each command group lives in `ui/commands/<group>.py` and exposes
`register(commands, evals)`; this module finds them (a new command is one module there), wires them, turns
`KgragError`s into one clear line on stderr, and routes all output through
`ui.commands.common.terminal_safe_output` (no escape sequence from a title
reaches the terminal).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from kg.errors import KgragError
from kg.version import kgrag_version
from ui.commands.common import terminal_safe, terminal_safe_output

# The order `kgrag --help` lists the groups in; a module not named here follows, alphabetically.
HELP_ORDER = ("graph", "library", "models", "search", "ask", "serve", "doctor")

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
    for name in command_modules():
        importlib.import_module(f"ui.commands.{name}").register(sub, evals)
    return parser


def command_modules() -> list[str]:
    """Every module of `ui.commands` that registers commands, those in `HELP_ORDER` first."""
    import ui.commands

    found = [m.name for m in pkgutil.iter_modules(ui.commands.__path__) if m.name != "common"]
    order = {name: i for i, name in enumerate(HELP_ORDER)}
    return sorted(found, key=lambda name: (order.get(name, len(order)), name))


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

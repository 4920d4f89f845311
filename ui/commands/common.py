"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kg.corpus import Corpus, default_corpus_path, load_corpus


def add_corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="paper list to use (default: $KGRAG_CORPUS or the shipped data/ai_papers_2023.txt)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def corpus_from(args: argparse.Namespace) -> Corpus:
    return load_corpus(args.corpus or default_corpus_path())


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")

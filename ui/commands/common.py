"""Options and output helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.corpus import Corpus, default_corpus_path, load_corpus

if TYPE_CHECKING:
    from rag.settings import Settings


def add_corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="paper list to use (default: $KGRAG_CORPUS, else your copy with added papers, "
        "else the shipped data/ai_papers_2023.txt)",
    )


def add_index_options(parser: argparse.ArgumentParser) -> None:
    """`--corpus`, `--index-dir`, `--vector-uri` and `--embedder`: what every index-backed
    command takes."""
    add_corpus_option(parser)
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="index folder (default: $KGRAG_INDEX_DIR or index/ in the user data dir)",
    )
    parser.add_argument(
        "--vector-uri",
        default=None,
        metavar="URI",
        help="where the vectors live (default: $KGRAG_VECTOR_URI, else FAISS in the index "
        "folder): a folder (FAISS), a file ending in .db (Milvus Lite, embedded), or "
        "http://host:19530 (a Milvus server; token in $KGRAG_VECTOR_TOKEN)",
    )
    parser.add_argument(
        "--embedder",
        default=None,
        help="embeddinggemma-300m (default, or $KGRAG_EMBEDDER), use-multilingual, "
        "or the path of a sentence-transformers model folder",
    )


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """The index options plus `--model`: what every answering command takes."""
    add_index_options(parser)
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="GGUF model file (default: $KGRAG_MODEL or the installed one)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def corpus_from(args: argparse.Namespace) -> Corpus:
    return load_corpus(default_corpus_path(args.corpus))


def settings_from(args: argparse.Namespace) -> Settings:
    """The engine settings of a command: its index (and engine) options win over the
    environment (`rag.settings.Settings.from_env`)."""
    from rag.settings import Settings

    return Settings.from_env(
        corpus=args.corpus,
        index_dir=args.index_dir,
        vector_uri=args.vector_uri,
        embedder=args.embedder,
        model=getattr(args, "model", None),  # only the answering commands take --model
    )


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")

"""Options and output helpers shared by the command modules.

Terminal safety: titles, abstracts and author names come from files anyone may have written, and
a terminal obeys what it is sent: an escape sequence recolours, retitles or clears it, a bidi
override (U+202E) shows text reversed, a bell rings. `ui.cli.main` therefore routes every
command's stdout and stderr through `TerminalSafe`, which shows each control character (C0 but
newline and tab, DEL, C1) and each bidi embedding, override or isolate as a visible escape
(`\\x1b`, `\\u202e`). `print_json` escapes the same characters the JSON way (`\\u001b`), so
JSON stays valid and the filter never has anything to change in it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kg.corpus import Corpus, load_corpus

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
    """The index options plus `--model` and `--chat-format`: what every answering command
    takes."""
    add_index_options(parser)
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="GGUF model file (default: $KGRAG_MODEL or the installed one)",
    )
    parser.add_argument(
        "--chat-format",
        default=None,
        metavar="FORMAT",
        help="llama-cpp-python chat format for the model, e.g. chatml, llama-2, gemma (default: "
        "$KGRAG_CHAT_FORMAT, else the template in the GGUF file)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def corpus_from(args: argparse.Namespace) -> Corpus:
    """The paper list a command's `--corpus` (or the settings) name, loaded."""
    return load_corpus(settings_from(args).corpus)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings of a command, read once when it runs: its options (the corpus, index and
    engine options it takes) win over the environment (`rag.settings.Settings.from_env`)."""
    from rag.settings import Settings

    given = vars(args)  # a command takes only some of the options
    return Settings.from_env(
        corpus=given.get("corpus"),
        index_dir=given.get("index_dir"),
        vector_uri=given.get("vector_uri"),
        embedder=given.get("embedder"),
        model=given.get("model"),
        chat_format=given.get("chat_format"),
    )


def print_json(value: Any) -> None:
    """`value` as indented JSON; text stays readable (not `\\u`-escaped) except the characters a
    terminal would obey, which `json.dumps(ensure_ascii=False)` leaves raw (C1, bidi, DEL)."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What a terminal obeys rather than shows: C0 controls but tab and newline, DEL, C1 controls
(U+009B is a one-character escape sequence), bidi embeddings, overrides and isolates."""


def terminal_safe(text: str, keep: str = "") -> str:
    """`text` with every character in `_UNSAFE` but those in `keep` shown as a visible escape.

    Example:
        >>> terminal_safe("\\x1b[31mred\\u202e") == "\\\\x1b[31mred\\\\u202e"
        True
    """

    def visible(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(visible, text)


class TerminalSafe:
    """A text stream that passes everything written to it through `terminal_safe` (every other
    attribute is the wrapped stream's: `isatty`, `encoding`, `fileno`, …)."""

    def __init__(self, stream: TextIO, keep: str = "") -> None:
        self.stream = stream
        self.keep = keep

    def write(self, text: str) -> int:
        self.stream.write(terminal_safe(text, self.keep))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def terminal_safe_output() -> Iterator[None]:
    """Route stdout and stderr through `TerminalSafe` while a command runs. Progress bars on
    stderr redraw with a carriage return, so stderr keeps `\\r`; stdout keeps nothing."""
    saved = sys.stdout, sys.stderr
    sys.stdout = TerminalSafe(sys.stdout)  # type: ignore[assignment]
    sys.stderr = TerminalSafe(sys.stderr, keep="\r")  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved

"""kgrag's documented input limits, each with the check that enforces it (a `LimitError` that
names the limit and what to do). Settings are read when a check runs, never at import.

- Questions: `MAX_QUESTION_CHARS` characters (the LLM's context holds the sources and the answer
  too; a longer "question" is a document, not a question).
- Paper lists read by a command: `KGRAG_MAX_CORPUS_MB` megabytes (default
  `DEFAULT_MAX_CORPUS_MB`); building the graph takes about a millisecond per paper, so the
  default (~48,000 papers) keeps a command under a minute or so.
- Uploaded lists in the app: `MAX_UPLOAD_BYTES` (a paper list is text; anything bigger is a
  mistake, and it is checked before the file is read).
"""

from __future__ import annotations

import os

from kg.errors import LimitError

__all__ = [
    "DEFAULT_MAX_CORPUS_MB",
    "MAX_QUESTION_CHARS",
    "MAX_UPLOAD_BYTES",
    "check_corpus_size",
    "check_question",
    "check_upload_size",
    "max_corpus_bytes",
]

MAX_QUESTION_CHARS = 2_000
DEFAULT_MAX_CORPUS_MB = 64.0
MAX_UPLOAD_BYTES = 5_000_000


def check_question(question: str) -> str:
    """The question, stripped; `LimitError` when it is empty or longer than the limit."""
    text = question.strip()
    if not text:
        raise LimitError("the question is empty; ask something about the papers.")
    if len(text) > MAX_QUESTION_CHARS:
        raise LimitError(
            f"the question has {len(text):,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask a shorter question (to add a document, add it to the paper list instead)."
        )
    return text


def max_corpus_bytes() -> int:
    """`KGRAG_MAX_CORPUS_MB` (megabytes, may be fractional), else `DEFAULT_MAX_CORPUS_MB`."""
    raw = os.environ.get("KGRAG_MAX_CORPUS_MB", "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MAX_CORPUS_MB
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise LimitError(f"KGRAG_MAX_CORPUS_MB={raw!r} is not a positive number of megabytes.")
    return int(megabytes * 1_000_000)


def check_corpus_size(path: object, size: int) -> None:
    """`LimitError` when a paper list of `size` bytes is over `max_corpus_bytes()`."""
    limit = max_corpus_bytes()
    if size > limit:
        raise LimitError(
            f"{path} is over {limit / 1e6:g} MB, the limit for a paper list; set "
            "KGRAG_MAX_CORPUS_MB to raise it (building the graph takes about 1 ms per paper)."
        )


def check_upload_size(size: int) -> None:
    """`LimitError` when an uploaded paper list is over `MAX_UPLOAD_BYTES`."""
    if size > MAX_UPLOAD_BYTES:
        raise LimitError(
            f"the file is {size:,} bytes; uploads are limited to {MAX_UPLOAD_BYTES:,} bytes "
            "(a paper list is text). Split it, or point KGRAG_CORPUS at the file instead."
        )

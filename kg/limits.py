"""kgrag's documented input limits, each with the check that enforces it (a `LimitError` that
names the limit and what to do). Settings are read when a check runs, never at import.

- Questions: `MAX_QUESTION_CHARS` characters (the LLM's context holds the sources and the answer
  too; a longer "question" is a document, not a question).
- Paper lists read by a command: `KGRAG_MAX_CORPUS_MB` megabytes (default
  `DEFAULT_MAX_CORPUS_MB`); building the graph takes about a millisecond per paper, so the
  default (~48,000 papers) keeps a command under a minute or so.
- Files given to `kgrag add`: the same `KGRAG_MAX_CORPUS_MB` each (`max_source_bytes`; a file
  bigger than a whole paper list may be cannot fit in one), and the library after an add: the
  paper-list limit again, checked before anything is written (`check_added_size`).
- Uploaded lists in the app: `MAX_UPLOAD_BYTES` (a paper list is text; anything bigger is a
  mistake, and it is checked before the file is read).

A file read whole (`read_bounded`) must be a regular file: a FIFO would block, a device like
`/dev/zero` never ends. Its size is checked before reading and the read stops one byte past the
limit, so a file that grows meanwhile is still refused rather than read whole.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from kg.environment import env_value
from kg.errors import LimitError, ReaderError
from kg.fsutil import file_kind

__all__ = [
    "DEFAULT_MAX_CORPUS_MB",
    "MAX_QUESTION_CHARS",
    "MAX_UPLOAD_BYTES",
    "check_added_size",
    "check_corpus_size",
    "check_question",
    "check_source_size",
    "check_upload_size",
    "max_corpus_bytes",
    "max_source_bytes",
    "read_bounded",
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
    raw = env_value("KGRAG_MAX_CORPUS_MB").strip()
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


def max_source_bytes() -> int:
    """The size limit of one file given to `kgrag add`: the paper-list limit (one setting)."""
    return max_corpus_bytes()


def check_source_size(path: object, size: int) -> None:
    """`LimitError` when a file to add, of `size` bytes, is over `max_source_bytes()`."""
    limit = max_source_bytes()
    if size > limit:
        raise LimitError(
            f"{path} is over {limit / 1e6:g} MB, the limit for a file to add; split it, or set "
            "KGRAG_MAX_CORPUS_MB to raise the limit."
        )


def check_added_size(path: object, size: int) -> None:
    """`LimitError` when an add would take the library at `path` to `size` bytes, over
    `max_corpus_bytes()`: every later command would refuse to read it."""
    limit = max_corpus_bytes()
    if size > limit:
        raise LimitError(
            f"adding these papers would make {path} {size / 1e6:.3g} MB, over {limit / 1e6:g} "
            "MB, the limit for a paper list; nothing was added. Add fewer papers, or set "
            "KGRAG_MAX_CORPUS_MB to raise the limit."
        )


def read_bounded(path: Path, limit: int, check_size: Callable[[object, int], None]) -> bytes:
    """The bytes of the regular file at `path`, read without blocking and never past `limit`.

    `check_size(path, size)` raises when `size` is over `limit`: it runs on the size the file
    states, before reading, and on what was read. Anything but a regular file is a
    `ReaderError` at once; `OSError` (no such file, no permission) is left to the caller.
    """
    status = os.stat(path)
    _check_regular(path, status.st_mode)
    check_size(path, status.st_size)
    # O_NONBLOCK: should a FIFO be swapped in after the stat, opening it still returns at once
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        _check_regular(path, os.fstat(fd).st_mode)
        data = handle.read(limit + 1)
    check_size(path, len(data))
    return data


def read_head(path: Path, size: int) -> bytes:
    """The first `size` bytes of the regular file at `path`, read without blocking (to sniff
    its type). Anything but a regular file is a `ReaderError` at once; `OSError` is left to
    the caller."""
    return read_bounded(path, size, lambda _path, _size: None)[:size]


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = file_kind(mode)
        raise ReaderError(path, None, f"is {kind}, not a regular file; kgrag reads only "
                          "regular files. Give the path of a file.")  # fmt: skip


def check_upload_size(size: int) -> None:
    """`LimitError` when an uploaded paper list is over `MAX_UPLOAD_BYTES`."""
    if size > MAX_UPLOAD_BYTES:
        raise LimitError(
            f"the file is {size:,} bytes; uploads are limited to {MAX_UPLOAD_BYTES:,} bytes "
            "(a paper list is text). Split it, or point KGRAG_CORPUS at the file instead."
        )

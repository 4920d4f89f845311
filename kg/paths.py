"""Where kgrag keeps the user's own files (read when a command runs, never at import)."""

from __future__ import annotations

import os
from pathlib import Path


def user_data_dir() -> Path:
    """`KGRAG_DATA_DIR`, else the platform's user data folder for kgrag."""
    env = os.environ.get("KGRAG_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("kgrag", appauthor=False))


def user_corpus_path(data_dir: Path | None = None) -> Path:
    """The user's own copy of the paper list, made when they first add papers (in `data_dir`,
    default `user_data_dir()`)."""
    return (data_dir or user_data_dir()) / "corpus.txt"


def user_library_path(data_dir: Path | None = None) -> Path:
    """The user's library (`kgrag add` / `kgrag remove`): versioned JSON Lines, see kg.library."""
    return (data_dir or user_data_dir()) / "library.jsonl"

"""Where kgrag's paper lists are: the shipped list (`SHIPPED_CORPUS`, never modified) and the
user's own files (read when a command runs, never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from kg.environment import Variable, env_value
from kg.tables import DATA_DIR

SHIPPED_CORPUS = DATA_DIR / "ai_papers_2023.txt"


def user_data_dir() -> Path:
    """`KGRAG_DATA_DIR`, else the platform's user data folder for kgrag."""
    return folder_setting("KGRAG_DATA_DIR", "data")


def folder_setting(variable: Variable, kind: Literal["data", "cache"]) -> Path:
    """The folder the environment `variable` names (`~` expanded), else the platform's user
    `kind` folder for kgrag (platformdirs)."""
    env = env_value(variable)
    if env:
        return Path(env).expanduser()
    import platformdirs

    folder = platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir
    return Path(folder("kgrag", appauthor=False))


def user_corpus_path(data_dir: Path | None = None) -> Path:
    """The user's own copy of the paper list, made when they first add papers (in `data_dir`,
    default `user_data_dir()`)."""
    return (data_dir or user_data_dir()) / "corpus.txt"


def user_library_path(data_dir: Path | None = None) -> Path:
    """The user's library (`kgrag add` / `kgrag remove`): versioned JSON Lines, see kg.library."""
    return (data_dir or user_data_dir()) / "library.jsonl"


def base_list_path() -> Path:
    """The paper list under the user's papers: the app's `corpus.txt` copy once it made one,
    else the shipped list. The library is layered over it (`kg.library`) and uploaded lists are
    merged into it (`kg.usercorpus`)."""
    user_copy = user_corpus_path()
    return user_copy if user_copy.is_file() else SHIPPED_CORPUS


def pdf_cache_dir(data_dir: Path | None = None) -> Path:
    """The text read from PDFs, one JSON file per PDF's sha256 (`kg.pdf.cache`): re-adding a
    PDF, or loading a library whose papers came from PDFs, never extracts it again."""
    return (data_dir or user_data_dir()) / "pdf-cache"


def user_pdf_dir(data_dir: Path | None = None) -> Path:
    """PDFs the app was given by upload, kept by sha256 (`<sha256>.pdf`): an upload is a
    temporary file, and a paper's `pdf_path` must outlive it (page images, a re-read)."""
    return (data_dir or user_data_dir()) / "pdfs"

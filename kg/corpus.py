"""The corpus a command reads: which file (`default_corpus_path`) and reading it
(`load_corpus`): a paper list, or the user's library layered over one.

The records are `kg.paper`'s (`Paper`, `Corpus`, `PaperIds`, …), the list format is
`kg.readers.seed`'s (`parse_corpus`) and the library is `kg.library`; they are re-exported here,
where callers import them from, with `SHIPPED_CORPUS` (`kg.paths`).
"""

from __future__ import annotations

import os
from pathlib import Path

from kg.environment import env_value
from kg.library.merge import load_library_corpus
from kg.library.store import LIBRARY_MAGIC
from kg.paper import Corpus, IgnoredLine, Paper, PaperIds, short_name, slugify
from kg.paths import SHIPPED_CORPUS, user_corpus_path, user_library_path
from kg.readers.seed import parse_corpus, parse_list, read_list
from kg.tables import CategoryTable, OrgTable

__all__ = [
    "SHIPPED_CORPUS",
    "Corpus",
    "IgnoredLine",
    "Paper",
    "PaperIds",
    "default_corpus_path",
    "load_corpus",
    "parse_corpus",
    "short_name",
    "slugify",
]


def default_corpus_path(given: Path | str | None = None, *, data_dir: Path | None = None) -> Path:
    """The paper list to use: `given` (a `--corpus` option), else `KGRAG_CORPUS`, else the user's
    library or copy in `data_dir` (default `KGRAG_DATA_DIR`; once they added papers), else the
    shipped list. The one place this fallback is decided (`rag.settings.Settings` calls it)."""
    if given is not None:
        return Path(given)
    env = env_value("KGRAG_CORPUS")
    if env:
        return Path(env).expanduser()
    # Anything at these paths counts, not only a regular file: a library that became a folder,
    # a FIFO or a link to a device is then an error naming it, never silently the shipped list.
    library = user_library_path(data_dir)
    if os.path.lexists(library):  # papers added with `kgrag add` (over the list below)
        return library
    user_copy = user_corpus_path(data_dir)
    return user_copy if os.path.lexists(user_copy) else SHIPPED_CORPUS


def load_corpus(
    path: Path | str | None = None,
    orgs: OrgTable | None = None,
    categories: CategoryTable | None = None,
) -> Corpus:
    """Read and parse a paper list or a library; raise `CorpusError` naming the line on any
    malformed entry (a library's own errors are `LibraryError`s)."""
    path = default_corpus_path(path)
    data = read_list(path)  # regular files only, never past the limit
    if data.startswith(LIBRARY_MAGIC):
        return load_library_corpus(path, data)
    return parse_list(data, path, orgs, categories)

"""The user's library: papers added with `kgrag add`, removed with `kgrag remove` and edited
with `kgrag edit`, layered over the paper list (the user's `corpus.txt` copy if the app made
one, else the shipped list, which is never modified: `kg.paths.base_list_path`).

One module per job:

- `store`: the file, `$KGRAG_DATA_DIR/library.jsonl` (versioned JSON Lines): reading it with
  every line checked, writing it atomically, one writer at a time.
- `merge`: which paper is which (`identity_keys`), what a file adds to a paper
  (`merge_papers`), and the corpus the library stands for (`compose`, `load_library_corpus`:
  what `kg.corpus.load_corpus` returns for a library).
- `changes`: `add_files` and `remove_papers`, with their reports.
- `edit`: `edit_paper` (organisation, category, date; provenance `edited`, which wins over the
  list and over a later add).

The names callers use are re-exported here.
"""

from __future__ import annotations

from kg.library.changes import AddReport, Outcome, RemoveReport, add_files, remove_papers
from kg.library.edit import EditReport, FieldChange, PaperEdit, edit_paper
from kg.library.merge import (
    EDITED,
    Conflict,
    Merge,
    compose,
    identity_keys,
    load_library_corpus,
    merge_papers,
)
from kg.library.store import LIBRARY_FORMAT, Library, Removal, load_library

__all__ = [
    "LIBRARY_FORMAT",
    "AddReport",
    "Conflict",
    "EDITED",
    "EditReport",
    "FieldChange",
    "Library",
    "PaperEdit",
    "Merge",
    "Outcome",
    "RemoveReport",
    "Removal",
    "add_files",
    "compose",
    "edit_paper",
    "identity_keys",
    "load_library",
    "load_library_corpus",
    "merge_papers",
    "remove_papers",
]

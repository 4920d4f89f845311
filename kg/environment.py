"""The one place `kg` reads the process environment: the folders and the size limit a user sets.

`rag.settings.Settings` reads everything that wires an answer engine; `kg` is the lowest layer and
imports nothing of rag, so the few settings of its own are read here, when a command runs, never
at import:

- `KGRAG_DATA_DIR` — the user's data folder (library, copy of the list, index);
- `KGRAG_HOME` — where models and built wheels are kept;
- `KGRAG_CORPUS` — the paper list to use instead of the user's library;
- `KGRAG_MAX_CORPUS_MB` — the largest paper list read.
"""

from __future__ import annotations

import os
from typing import Literal

Variable = Literal["KGRAG_DATA_DIR", "KGRAG_HOME", "KGRAG_CORPUS", "KGRAG_MAX_CORPUS_MB"]


def env_value(variable: Variable) -> str:
    """The value of `variable` now ('' when unset)."""
    return os.environ.get(variable, "")

"""Which embedder a spec names: the registry of embedder backends, and what they share.

An embedder spec is a registered name (`embeddinggemma-300m`, `use-multilingual`) or the path of
a sentence-transformers model folder. `EMBEDDERS` maps each name to the `module:factory` of its
backend, imported only when that embedder loads (heavy libraries stay unloaded until then); a
factory takes an `EmbedderRequest` and returns a `rag.protocols.Embedder`. A new backend is one
module here with such a factory plus one line in `EMBEDDERS` (or `register_embedder` at run time,
as the tests do for a toy).

Every backend gives float32, L2-normalised rows (`normalise`): cosine = inner product.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kg.errors import KgragError
from rag.models.catalogue import DEFAULT_EMBEDDER, USE_MULTILINGUAL
from rag.protocols import Embedder  # the seam; re-exported here for its callers

__all__ = [
    "EMBEDDERS",
    "FOLDER",
    "Embedder",
    "EmbedderError",
    "EmbedderFactory",
    "EmbedderRequest",
    "cpu_threads",
    "embedder_kind",
    "load_embedder",
    "normalise",
    "register_embedder",
]


class EmbedderError(KgragError):
    """An embedder spec names nothing loadable."""


@dataclass(frozen=True)
class EmbedderRequest:
    """What an embedder factory gets: the spec as the settings name it, and the backend asked
    for ('' = the fastest that gives the model's vectors; `torch` = sentence-transformers)."""

    spec: str
    backend: str = ""
    threads: int | None = None
    """CPU threads the embedder may use (None: every core); a Ray worker given one CPU asks 1."""


EmbedderFactory = Callable[[EmbedderRequest], Embedder]

FOLDER = "sentence-transformers"
"""The kind of a spec that is the path of a sentence-transformers model folder."""

EMBEDDERS: dict[str, str] = {
    DEFAULT_EMBEDDER: "rag.embedding.gemma:from_request",
    USE_MULTILINGUAL.key: "rag.embedding.use:from_request",
    FOLDER: "rag.embedding.sentence_transformer:from_request",
}
"""Embedder kind → `module:factory`, imported only when that embedder loads."""

ALIASES = {"use": USE_MULTILINGUAL.key}
_REGISTERED: dict[str, EmbedderFactory] = {}


def register_embedder(name: str, factory: EmbedderFactory) -> None:
    """Add an embedder at run time (tests use this for a toy deterministic embedder)."""
    _REGISTERED[name.casefold()] = factory


def embedder_kind(spec: str) -> str:
    """Which backend a spec names: a registered name (any case), else `FOLDER` for the path of
    a folder; `EmbedderError` says what is accepted."""
    name = ALIASES.get(spec.casefold(), spec.casefold())
    if name != FOLDER and (name in EMBEDDERS or name in _REGISTERED):
        return name
    if Path(spec).expanduser().is_dir():
        return FOLDER
    named = ", ".join(k for k in (*EMBEDDERS, *_REGISTERED) if k != FOLDER)
    raise EmbedderError(
        f"unknown embedder {spec!r}: use {named}, or the path of a sentence-transformers model "
        "folder."
    )


def load_embedder(spec: str, backend: str = "", threads: int | None = None) -> Embedder:
    """Load the embedder `spec` names (`rag.engine.build_embedder` passes the settings')."""
    kind = embedder_kind(spec)
    request = EmbedderRequest(spec, backend, threads)
    if kind in _REGISTERED:
        return _REGISTERED[kind](request)
    module_name, attr = EMBEDDERS[kind].split(":")
    factory: EmbedderFactory = getattr(importlib.import_module(module_name), attr)
    return factory(request)


def normalise(vectors: Any) -> np.ndarray:
    """float32 rows scaled to unit length (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


def cpu_threads() -> int:
    """The threads a backend computes with: every CPU."""
    return os.cpu_count() or 1

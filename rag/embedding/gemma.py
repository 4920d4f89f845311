"""The EmbeddingGemma-300M backend (the default embedder): its int8 or float ONNX export, else torch.

The settings' backend (`KGRAG_EMBEDDER_BACKEND`) picks how the installed model runs:
- unset or `int8`: the checked int8 flavour of the ONNX export (about 3× the passages per second
  of the float export on two cores, vectors within cosine `INT8_MIN_COSINE` of it), named
  `embeddinggemma-300m-int8`; without one, as `onnx`;
- `onnx`: the checked float export (`rag.embedding.onnx_embedder`: sentence-transformers'
  vectors, a start in a fraction of the time); without one, as `torch`;
- `torch`: sentence-transformers.
The float export and torch give the same vectors and are both named `embeddinggemma-300m`, so an
index serves both; the int8 flavour's index is its own. `prepare_fast_start` makes both exports
once the model is installed (`kgrag models --install`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from rag.embedding.embedders import EmbedderError, EmbedderRequest
from rag.embedding.sentence_transformer import SentenceTransformerEmbedder
from rag.models.catalogue import EMBEDDINGGEMMA, embeddinggemma_path, status_of
from rag.protocols import Embedder

__all__ = ["BACKENDS", "INT8", "ONNX", "TORCH", "from_request", "prepare_fast_start"]

INT8 = "int8"
ONNX = "onnx"
TORCH = "torch"
BACKENDS = ("", INT8, ONNX, TORCH)
"""The backend settings, fastest first ('' = the fastest installed one)."""
log = logging.getLogger(__name__)


def from_request(request: EmbedderRequest) -> Embedder:
    """The installed EmbeddingGemma on the backend asked for, else on the next slower one."""
    backend = request.backend.casefold()
    if backend not in BACKENDS:
        raise EmbedderError(
            f"unknown embedder backend {request.backend!r} for {EMBEDDINGGEMMA.key}; "
            "KGRAG_EMBEDDER_BACKEND takes int8, onnx or torch (unset: the fastest installed)"
        )
    path = embeddinggemma_path()
    wanted = backend or INT8
    fast = _onnx_embedder(path, True, request.threads) if wanted == INT8 else None
    if fast is None and wanted in (INT8, ONNX):
        fast = _onnx_embedder(path, False, request.threads)
    return fast or SentenceTransformerEmbedder.load(path, name=EMBEDDINGGEMMA.key)


def _onnx_embedder(path: Path, int8: bool, threads: int | None) -> Embedder | None:
    """A checked ONNX flavour of EmbeddingGemma, or None: none current, or it does not load."""
    from rag.embedding.onnx_embedder import (
        FLOAT_MODEL,
        INT8_MODEL,
        INT8_SUFFIX,
        OnnxEmbedder,
        export_dir,
        export_is_current,
        int8_is_current,
    )

    current = int8_is_current if int8 else export_is_current
    if not current(path, EMBEDDINGGEMMA.sha256):
        return None
    name = EMBEDDINGGEMMA.key + (INT8_SUFFIX if int8 else "")
    try:
        return OnnxEmbedder.load(path, export_dir(path), name=name,
                                 model_file=INT8_MODEL if int8 else FLOAT_MODEL,
                                 threads=threads)  # fmt: skip
    except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
        log.warning("the ONNX export %s of %s did not load (%s); using a slower backend",
                    INT8_MODEL if int8 else FLOAT_MODEL, path.name, exc)  # fmt: skip
        return None


def prepare_fast_start(progress: bool = True) -> None:
    """Export the installed EmbeddingGemma to ONNX unless a current export exists (once, under
    the model store's install lock), then its int8 flavour; nothing when the model is not
    installed. A failed export is a warning, not a failed install: a slower backend serves."""
    from rag.embedding.onnx_embedder import OnnxExportError, ensure_export, ensure_int8
    from rag.models.install import install_lock

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    with install_lock():
        if not status_of(EMBEDDINGGEMMA).installed:
            return
        try:
            ensure_export(embeddinggemma_path(), EMBEDDINGGEMMA.sha256, say)
            ensure_int8(embeddinggemma_path(), EMBEDDINGGEMMA.sha256, say)
        except OnnxExportError as exc:
            print(f"warning: {exc}", file=sys.stderr, flush=True)

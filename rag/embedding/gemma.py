"""The EmbeddingGemma-300M backend (the default embedder): its ONNX export, else torch.

The installed model runs on its checked ONNX export (`rag.embedding.onnx_embedder`: the same
vectors, a start in a fraction of the time) when a current export exists and the settings ask
for no other backend; otherwise, or when the export fails to load, on sentence-transformers.
Either way the embedder is named `embeddinggemma-300m`, so an index serves both.
`prepare_fast_start` makes that export once the model is installed (`kgrag models --install`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from rag.embedding.embedders import EmbedderRequest
from rag.embedding.sentence_transformer import SentenceTransformerEmbedder
from rag.models.catalogue import EMBEDDINGGEMMA, embeddinggemma_path, status_of
from rag.protocols import Embedder

__all__ = ["TORCH", "from_request", "prepare_fast_start"]

TORCH = "torch"
"""The backend setting (`KGRAG_EMBEDDER_BACKEND=torch`) that skips the ONNX export."""
log = logging.getLogger(__name__)


def from_request(request: EmbedderRequest) -> Embedder:
    """The installed EmbeddingGemma: on ONNX Runtime when it can be, else sentence-transformers."""
    path = embeddinggemma_path()
    fast = None if request.backend.casefold() == TORCH else _onnx_embedder(path)
    return fast or SentenceTransformerEmbedder.load(path, name=EMBEDDINGGEMMA.key)


def _onnx_embedder(path: Path) -> Embedder | None:
    """EmbeddingGemma's checked ONNX export, or None: no current export, or it does not load."""
    from rag.embedding.onnx_embedder import OnnxEmbedder, export_dir, export_is_current

    if not export_is_current(path, EMBEDDINGGEMMA.sha256):
        return None
    try:
        return OnnxEmbedder.load(path, export_dir(path), name=EMBEDDINGGEMMA.key)
    except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
        log.warning("the ONNX export of %s did not load (%s); using sentence-transformers",
                    path.name, exc)  # fmt: skip
        return None


def prepare_fast_start(progress: bool = True) -> None:
    """Export the installed EmbeddingGemma to ONNX unless a current export exists (once, under
    the model store's install lock); nothing when the model is not installed. A failed export is
    a warning, not a failed install: sentence-transformers serves the same vectors."""
    from rag.embedding.onnx_embedder import OnnxExportError, ensure_export
    from rag.models.install import install_lock

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    with install_lock():
        if not status_of(EMBEDDINGGEMMA).installed:
            return
        try:
            ensure_export(embeddinggemma_path(), EMBEDDINGGEMMA.sha256, say)
        except OnnxExportError as exc:
            print(f"warning: {exc}", file=sys.stderr, flush=True)

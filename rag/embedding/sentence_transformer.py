"""The sentence-transformers backend: any local model folder, and EmbeddingGemma's torch path.

A spec that is the path of a sentence-transformers folder loads here (`from_request`), named
`sentence-transformers:<resolved path>` in index manifests; `rag.embedding.gemma` loads the
installed EmbeddingGemma through `SentenceTransformerEmbedder` when its ONNX export is not used.
Nothing here reaches a model hub.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.embedders import EmbedderError, EmbedderRequest, cpu_threads, normalise
from rag.protocols import Embedder

__all__ = ["SentenceTransformerEmbedder", "from_request", "load_sentence_transformer"]

_BATCH = 16


def from_request(request: EmbedderRequest) -> Embedder:
    """The sentence-transformers model in the folder `request.spec` names."""
    path = Path(request.spec).expanduser()
    return SentenceTransformerEmbedder.load(path, name=f"sentence-transformers:{path.resolve()}")


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

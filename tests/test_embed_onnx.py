"""EmbeddingGemma's ONNX export (made by `kgrag models --install`) is what kgrag loads by default,
and it gives sentence-transformers' vectors: for queries and documents, in both languages, past
the 512-token sliding window, batched with texts of other lengths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.embedders import Embedder
from rag.embedding.onnx_embedder import EXPORT_FORMAT, OnnxEmbedder, export_dir, export_is_current
from rag.embedding.sentence_transformer import SentenceTransformerEmbedder
from rag.engine import build_embedder
from rag.models.catalogue import EMBEDDINGGEMMA, embeddinggemma_path
from rag.settings import Settings

TEXTS = [
    "How many GPU hours did Llama 2 pretraining take?",
    "多模态大模型如何对齐视觉和语言?",
    "Mixtral 8x7B 是一个稀疏专家混合模型,每个标记只使用两个专家。" * 25,  # > 512 tokens
    "DPO",
    "We introduce Mamba, a selective state space model with linear-time sequence modeling, "
    "which outperforms Transformers of the same size on language modeling.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    """The same model on sentence-transformers (the backend the export must reproduce), asked
    for as a user asks: `KGRAG_EMBEDDER_BACKEND=torch`, read into the settings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KGRAG_EMBEDDER_BACKEND", "torch")
        return build_embedder(Settings.from_env(embedder="embeddinggemma-300m"))


def test_the_default_embedder_is_the_checked_onnx_export(embedder: Embedder) -> None:
    path = embeddinggemma_path()
    assert export_is_current(path, EMBEDDINGGEMMA.sha256), "run `kgrag models --install`"
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.name == "embeddinggemma-300m" and embedder.dim == 768
    stamp = json.loads((export_dir(path) / "export.json").read_text(encoding="utf-8"))
    assert stamp["min_cosine_to_sentence_transformers"] >= 0.9999


@pytest.mark.parametrize("side", ["encode_queries", "encode_documents"])
def test_onnx_vectors_equal_sentence_transformers_vectors(
    embedder: Embedder, torch_embedder: Embedder, side: str
) -> None:
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    ours = getattr(embedder, side)(TEXTS)
    theirs = getattr(torch_embedder, side)(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 768) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.sum(ours * theirs, axis=1).min() > 0.9999
    # one text alone gives the vector it gets inside a padded batch
    alone = getattr(embedder, side)(TEXTS[3:4])[0]
    assert float(alone @ ours[3]) > 0.9999


def test_an_empty_batch_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.encode_queries([]).shape == (0, 768)


def test_only_an_export_of_the_installed_weights_is_used(tmp_path: Path) -> None:
    model = tmp_path / "embeddinggemma-300m"
    model.mkdir()
    folder = export_dir(model)
    assert folder == tmp_path / "embeddinggemma-300m-onnx"
    assert not export_is_current(model, "abc")  # nothing exported
    folder.mkdir()
    stamp = {"format": EXPORT_FORMAT, "source_sha256": "abc"}
    (folder / "export.json").write_text(json.dumps(stamp), encoding="utf-8")
    assert not export_is_current(model, "abc")  # stamp without the model file
    (folder / "model.onnx").write_bytes(b"onnx")
    assert export_is_current(model, "abc")
    assert not export_is_current(model, "def")  # made from other weights
    (folder / "export.json").write_text("{broken", encoding="utf-8")
    assert not export_is_current(model, "abc")

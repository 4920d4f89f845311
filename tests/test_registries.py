"""Embedders and generators are chosen like stores: from a registry, by the settings, in the
composition root (`rag.engine`). A new backend is one module plus one registration; an unknown
name says which ones exist; the seams import no implementation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kg.errors import KgragError
from kg.graph import KnowledgeGraph
from rag.embedding import embedders
from rag.embedding.embedders import (
    FOLDER,
    EmbedderError,
    EmbedderRequest,
    embedder_kind,
    register_embedder,
)
from rag.engine import build_embedder, build_engine, build_generator
from rag.llm import generators
from rag.llm.generator import LlamaCppGenerator
from rag.llm.generators import (
    DEFAULT_GENERATOR,
    GeneratorRequest,
    UnknownGeneratorError,
    register_generator,
)
from rag.llm.worker import WorkerGenerator
from rag.protocols import Message
from rag.settings import Settings
from tests.fixtures.retrieval import HashingEmbedder

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run-time registrations made by a test are gone after it."""
    monkeypatch.setattr(embedders, "_REGISTERED", {})
    monkeypatch.setattr(generators, "_REGISTERED", {})


class _EchoGenerator:
    def __init__(self, request: GeneratorRequest) -> None:
        self.request = request

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        yield from (m.content for m in messages)


def test_a_toy_embedder_registered_by_one_line_is_what_the_settings_name(
    registries: None, hashing_embedder: HashingEmbedder, tmp_path: Path
) -> None:
    asked: list[EmbedderRequest] = []

    def toy(request: EmbedderRequest) -> HashingEmbedder:
        asked.append(request)
        return hashing_embedder

    register_embedder("toy-hash", toy)  # the one line
    settings = Settings.from_env(embedder="Toy-Hash", embedder_backend="torch",
                                 data_dir=tmp_path)  # fmt: skip
    assert build_embedder(settings) is hashing_embedder
    assert asked == [EmbedderRequest("Toy-Hash", "torch")]  # the settings, as given
    with pytest.raises(EmbedderError, match="toy-hash"):
        embedder_kind("no-such-model")  # the unknown-name error lists what is registered


def test_each_embedder_spec_names_its_backend_module(tmp_path: Path) -> None:
    assert embedder_kind("embeddinggemma-300m") == "embeddinggemma-300m"
    assert embedder_kind("USE") == embedder_kind("use-multilingual") == "use-multilingual"
    assert embedder_kind(str(tmp_path)) == FOLDER  # any folder: a sentence-transformers model
    with pytest.raises(EmbedderError, match="use-multilingual"):
        embedder_kind(FOLDER)  # the folder kind is not a name
    for target in embedders.EMBEDDERS.values():
        module, factory = target.split(":")
        assert callable(getattr(__import__(module, fromlist=[factory]), factory)), target


def test_a_toy_generator_registered_by_one_line_serves_the_engine(
    registries: None, kg: KnowledgeGraph, tmp_path: Path
) -> None:
    register_generator("echo", _EchoGenerator)  # the one line
    settings = Settings.from_env(generator="echo", chat_format="chatml", model=tmp_path / "m.gguf",
                                 data_dir=tmp_path)  # fmt: skip
    generator = build_generator(settings)
    assert isinstance(generator, _EchoGenerator)
    request = generator.request
    assert (request.chat_format, request.max_tokens) == ("chatml", None)
    assert request.model() == tmp_path / "m.gguf"  # located when the model loads, not before
    engine = build_engine(settings, kg=kg)
    assert isinstance(engine.generator, _EchoGenerator)


def test_the_default_generator_is_llama_cpp_in_a_worker_and_in_process_is_one_setting(
    tmp_path: Path,
) -> None:
    model = tmp_path / "absent.gguf"  # nothing is loaded or started by building either
    worker = build_generator(Settings.from_env(model=model, data_dir=tmp_path))
    assert isinstance(worker, WorkerGenerator) and worker.pid is None
    assert Settings.from_env(data_dir=tmp_path).generator == ""  # '' is DEFAULT_GENERATOR
    assert generators.generator_kind("") == DEFAULT_GENERATOR == "llama-cpp-worker"
    in_process = build_generator(Settings.from_env(model=model, generator="llama-cpp",
                                                   data_dir=tmp_path))  # fmt: skip
    assert isinstance(in_process, LlamaCppGenerator) and in_process.model_path == model


def test_an_unknown_generator_names_the_registered_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGRAG_GENERATOR", "ollama")
    settings = Settings.from_env(data_dir=tmp_path)
    assert settings.generator == "ollama"
    with pytest.raises(UnknownGeneratorError, match="llama-cpp, llama-cpp-worker") as error:
        build_generator(settings)
    assert isinstance(error.value, KgragError)  # one clear line at the CLI


def test_the_seams_import_no_implementation() -> None:
    code = "import sys, rag.protocols; print(sorted(m for m in sys.modules if 'rag.' in m[:4]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)  # fmt: skip
    assert out.stdout.strip() == "['rag.protocols']"

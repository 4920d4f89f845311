"""`chat_format` makes any GGUF usable: the setting (`--chat-format`, `KGRAG_CHAT_FORMAT`, else
the GGUF's own template) travels from the settings through the generator registry and the
worker's command line to `llama_cpp.Llama(chat_format=...)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag.engine import build_generator
from rag.llm import generator as in_process
from rag.llm.worker import WorkerGenerator, child_generator
from rag.models.catalogue import ModelMissingError
from rag.protocols import Message
from rag.settings import Settings
from ui.cli import build_parser
from ui.commands.common import settings_from


class _FakeLlama:
    """Stands in for `llama_cpp.Llama`: records what it was built with, loads nothing."""

    made: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        _FakeLlama.made.append(kwargs)
        self._chat_handlers: dict[str, Any] = {}


@pytest.fixture
def fake_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "other-model.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    return path


def test_the_setting_is_read_from_the_environment_and_the_option_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KGRAG_CHAT_FORMAT", raising=False)
    assert Settings.from_env(data_dir=tmp_path).chat_format is None  # the GGUF's own template
    monkeypatch.setenv("KGRAG_CHAT_FORMAT", "llama-2")
    assert Settings.from_env(data_dir=tmp_path).chat_format == "llama-2"
    args = build_parser().parse_args(["ask", "q", "--chat-format", "gemma"])
    assert settings_from(args).chat_format == "gemma"
    assert settings_from(build_parser().parse_args(["ask", "q"])).chat_format == "llama-2"
    serve = build_parser().parse_args(["serve", "--chat-format", "chatml"])
    assert serve.chat_format == "chatml"


def test_it_reaches_the_llama_constructor_through_the_worker(
    monkeypatch: pytest.MonkeyPatch, fake_gguf: Path, tmp_path: Path
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "Llama", _FakeLlama)
    monkeypatch.setattr(in_process, "_CACHE", {})
    settings = Settings.from_env(model=fake_gguf, chat_format="chatml", data_dir=tmp_path)
    worker = build_generator(settings)
    assert isinstance(worker, WorkerGenerator) and worker.chat_format == "chatml"
    command = worker.command()
    assert command[command.index("--chat-format") + 1] == "chatml"
    child = child_generator(command[3:])  # what `python -m rag.llm.worker` runs
    assert child.chat_format == "chatml" and child.model_path == fake_gguf
    _FakeLlama.made.clear()
    child.llama()
    [made] = _FakeLlama.made
    assert made["chat_format"] == "chatml" and made["model_path"] == str(fake_gguf)


def test_none_leaves_the_gguf_s_own_template(
    monkeypatch: pytest.MonkeyPatch, fake_gguf: Path
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "Llama", _FakeLlama)
    monkeypatch.setattr(in_process, "_CACHE", {})
    worker = WorkerGenerator(fake_gguf)
    assert "--chat-format" not in worker.command()
    _FakeLlama.made.clear()
    child_generator(worker.command()[3:]).llama()
    assert _FakeLlama.made[0]["chat_format"] is None


def test_an_unknown_chat_format_names_the_known_ones(
    monkeypatch: pytest.MonkeyPatch, fake_gguf: Path
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "Llama", _FakeLlama)
    monkeypatch.setattr(in_process, "_CACHE", {})
    generator = in_process.LlamaCppGenerator(fake_gguf, chat_format="no-such-format")
    with pytest.raises(ModelMissingError, match=r"no chat format 'no-such-format'.*chatml"):
        generator.llama()


@pytest.mark.llm
def test_the_shipped_model_answers_with_a_named_chat_format(model_path: Path) -> None:
    worker = WorkerGenerator(model_path, max_tokens=8, chat_format="chatml")  # Qwen's own format
    try:
        assert "".join(worker.stream([Message("user", "Say OK.")])).strip()
    finally:
        worker.close()

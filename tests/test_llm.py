"""The Generator protocol and the llama.cpp backend (real shipped GGUF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.llm import LlamaCppGenerator, Message, ModelMissingError, default_model_path


def test_stream_yields_text_before_generation_completes(generator: LlamaCppGenerator) -> None:
    pieces = generator.stream([Message("user", "Count from 1 to 20, separated by commas.")],
                              max_tokens=24)  # fmt: skip
    first = next(pieces)
    assert isinstance(first, str) and first
    rest = list(pieces)
    assert rest, "the reply arrived in one piece instead of a stream"
    assert "2" in first + "".join(rest)


def test_model_loads_once_per_process(generator: LlamaCppGenerator, model_path: Path) -> None:
    again = LlamaCppGenerator(model_path, max_tokens=8)
    assert again.llama() is generator.llama()


def test_missing_model_says_which_command_installs_it(tmp_path: Path) -> None:
    missing = LlamaCppGenerator(tmp_path / "absent.gguf")
    with pytest.raises(ModelMissingError, match="kgrag models --install"):
        list(missing.stream([Message("user", "hi")]))


def test_corrupt_model_file_is_rejected_not_loaded(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model" * 100)
    with pytest.raises(ModelMissingError, match="not a GGUF"):
        LlamaCppGenerator(broken).llama()


def test_kgrag_model_setting_overrides_installed_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGRAG_MODEL", str(tmp_path / "other.gguf"))
    assert default_model_path() == tmp_path / "other.gguf"

"""The Generator protocol and the llama.cpp backend (real shipped GGUF)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.llm.generator import LlamaCppGenerator, Message
from rag.llm.gguf import GgufError, read_gguf_header
from rag.models.catalogue import ModelMissingError
from rag.settings import Settings


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
    assert Settings.from_env().model_path() == tmp_path / "other.gguf"


def test_the_installed_model_s_header_accounts_for_every_byte(model_path: Path) -> None:
    header = read_gguf_header(model_path)
    assert header.version in (2, 3) and header.tensors > 100
    assert header.needed_bytes == model_path.stat().st_size  # every tensor's size is known
    assert "Qwen2.5" in header.name


def test_a_copy_cut_after_its_header_is_named_cut_short(model_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with model_path.open("rb") as source:
        cut.write_bytes(source.read(32 * 1024**2))
    with pytest.raises(GgufError, match=r"cut short .*its tensors need [\d,]+ bytes"):
        read_gguf_header(cut)


@pytest.mark.parametrize(
    "content, says",
    [
        (b"GGUF" + bytes(20), "GGUF version 0"),
        (b"GGML" + bytes(100), "GGUF magic"),
        (b"GGUF\x03\x00\x00\x00" + b"\xff" * 16, "claims"),
        (b"GGUF", "too short"),
    ],
    ids=["version", "magic", "counts", "empty"],
)
def test_an_implausible_header_says_what_is_wrong(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "odd.gguf"
    path.write_bytes(content)
    with pytest.raises(GgufError, match=says):
        read_gguf_header(path)


def test_count_tokens_uses_the_model_s_tokenizer(generator: LlamaCppGenerator) -> None:
    assert generator.count_tokens("") == 0
    assert 0 < generator.count_tokens("speculative decoding") < len("speculative decoding")
    rare = "".join(chr(0x20000 + 7 * i) for i in range(100))
    assert generator.count_tokens(rare) > len(rare)  # rare characters take several tokens each

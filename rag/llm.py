"""The text generator behind answers: a tiny `Generator` protocol and its llama.cpp backends.

`LlamaCppGenerator` runs llama.cpp in this process; the model loads lazily, once per process (per
path and settings), so graph answers and refusals never pay for it. `load_generator()` — what the
CLI and the app use — returns `rag.llm_worker.WorkerGenerator`, which runs the same generator in a
kept-warm child process so that a native crash cannot take the app or the CLI down.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.models import ModelMissingError
from rag.protocols import Generator, Message  # the seam; re-exported here for its callers

__all__ = [
    "Generator",
    "LlamaCppGenerator",
    "Message",
    "ModelMissingError",
    "default_model_path",
    "load_generator",
]

DEFAULT_N_CTX = 4096
DEFAULT_MAX_TOKENS = 200
_INSTALL_HINT = "Run `kgrag models --install` (or point --model / KGRAG_MODEL at a GGUF file)."


def default_model_path() -> Path:
    """`KGRAG_MODEL`, else the Qwen2.5-Coder GGUF installed by `kgrag models --install`
    (`rag.settings.Settings.model_path`)."""
    from rag.settings import Settings

    return Settings.from_env().model_path()


_CACHE: dict[tuple[str, int, int], Any] = {}
_LOCK = threading.Lock()


class LlamaCppGenerator:
    """A GGUF model run by llama-cpp-python's chat completion (its ChatML template from the file)."""

    def __init__(
        self,
        model_path: Path | str | None = None,
        n_threads: int | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.temperature = temperature
        # Token counts of the last generation: how much of the prompt llama.cpp could reuse from
        # the previous call (its longest common token prefix) and how much it had to evaluate.
        self.last_usage: dict[str, int] = {}

    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama` (loaded on first use, shared within the process)."""
        key = (str(self.model_path.resolve()), self.n_ctx, self.n_threads)
        with _LOCK:
            if key not in _CACHE:
                _CACHE[key] = _load_llama(self.model_path, self.n_ctx, self.n_threads)
            return _CACHE[key]

    def stream(self, messages: Sequence[Message], max_tokens: int | None = None) -> Iterator[str]:
        llama = self.llama()
        before = _tokens(llama)
        generated = 0
        chunks = llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            stream=True,
            max_tokens=max_tokens or self.max_tokens,
            temperature=self.temperature,
        )
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                generated += 1
                yield piece
        self.last_usage = _usage(before, _tokens(llama), generated)


def load_generator(model: Path | str | None = None, max_tokens: int | None = None) -> Any:
    """The generator the CLI and the app use: llama.cpp in a crash-proof worker process."""
    from rag.llm_worker import WorkerGenerator

    return WorkerGenerator(model, max_tokens=max_tokens)


def _tokens(llama: Any) -> list[int]:
    ids = getattr(llama, "_input_ids", None)
    return [] if ids is None else [int(t) for t in ids]


def _usage(before: list[int], after: list[int], generated: int) -> dict[str, int]:
    reused = 0
    for old, new in zip(before, after, strict=False):
        if old != new:
            break
        reused += 1
    prompt = max(len(after) - generated, 0)
    return {"prompt_tokens": prompt, "reused_tokens": min(reused, prompt),
            "evaluated_tokens": max(prompt - reused, 0)}  # fmt: skip


def _load_llama(path: Path, n_ctx: int, n_threads: int) -> Any:
    if not path.is_file():
        raise ModelMissingError(f"the LLM file {path} does not exist. {_INSTALL_HINT}")
    if not _looks_like_gguf(path):
        raise ModelMissingError(f"{path} is not a GGUF model file (corrupt?). {_INSTALL_HINT}")
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelMissingError(
            "llama-cpp-python is not installed. Run `make install` (or "
            "`pip install llama-cpp-python==0.3.36`)."
        ) from exc
    try:
        return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelMissingError(f"cannot load the LLM {path}: {exc}. {_INSTALL_HINT}") from exc


def _looks_like_gguf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"GGUF"

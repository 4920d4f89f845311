"""llama.cpp in this process: `LlamaCppGenerator`, the backend the LLM worker runs.

The model loads lazily, once per process (per path and settings), so graph answers and refusals
never pay for it. The CLI and the app do not run it here but in a kept-warm child process
(`rag.llm.worker`, the default of `rag.llm.generators`), so that a native crash cannot take them
down; benches and tests may run it here (`KGRAG_GENERATOR=llama-cpp`).

The chat template is the GGUF file's own unless a chat format is given (`chat_format`, from
`--chat-format` / `KGRAG_CHAT_FORMAT`): any of llama-cpp-python's formats (`chatml`, `llama-2`,
`gemma`, …), for a GGUF whose template llama.cpp cannot apply.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.llm.generators import GeneratorRequest
from rag.llm.gguf import INSTALL_HINT
from rag.models.catalogue import ModelMissingError
from rag.protocols import Generator, Message  # the seam; re-exported here for its callers

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_N_CTX",
    "ChatFormatError",
    "Generator",
    "LlamaCppGenerator",
    "Message",
    "from_request",
]

DEFAULT_N_CTX = 4096
DEFAULT_MAX_TOKENS = 200

ModelLocation = Path | str | Callable[[], Path]
"""A GGUF file, or what locates it when the model first loads."""


class ChatFormatError(ModelMissingError):
    """The chat format asked for is not one llama-cpp-python knows for this model."""


def from_request(request: GeneratorRequest) -> Generator:
    """`LlamaCppGenerator` in this process, as the settings ask (`rag.llm.generators`)."""
    return LlamaCppGenerator(request.model, max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                             chat_format=request.chat_format)  # fmt: skip


_CACHE: dict[tuple[str, int, int, str | None], Any] = {}
_LOCK = threading.Lock()


class LlamaCppGenerator:
    """A GGUF model run by llama-cpp-python's chat completion (the file's own chat template, or
    `chat_format`)."""

    def __init__(
        self,
        model_path: ModelLocation,
        n_threads: int | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = 0.0,
        chat_format: str | None = None,
    ) -> None:
        self._locate = model_path if callable(model_path) else (lambda: Path(model_path))
        self._model_path: Path | None = None
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.chat_format = chat_format
        # Token counts of the last generation: how much of the prompt llama.cpp could reuse from
        # the previous call (its longest common token prefix) and how much it had to evaluate.
        self.last_usage: dict[str, int] = {}

    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            self._model_path = Path(self._locate())
        return self._model_path

    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama` (loaded on first use, shared within the process)."""
        key = (str(self.model_path.resolve()), self.n_ctx, self.n_threads, self.chat_format)
        with _LOCK:
            if key not in _CACHE:
                _CACHE[key] = _load_llama(self.model_path, self.n_ctx, self.n_threads,
                                          self.chat_format)  # fmt: skip
            return _CACHE[key]

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for this model (its own tokenizer: microseconds a token)."""
        return len(self.llama().tokenize(text.encode("utf-8"), add_bos=False, special=False))

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


def _load_llama(path: Path, n_ctx: int, n_threads: int, chat_format: str | None) -> Any:
    if not path.is_file():
        raise ModelMissingError(f"the LLM file {path} does not exist. {INSTALL_HINT}")
    if not _looks_like_gguf(path):
        raise ModelMissingError(f"{path} is not a GGUF model file (corrupt?). {INSTALL_HINT}")
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelMissingError(
            "llama-cpp-python is not installed. Run `make install` (or "
            "`pip install llama-cpp-python==0.3.36`)."
        ) from exc
    try:
        llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False,
                      chat_format=chat_format)  # fmt: skip
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelMissingError(f"cannot load the LLM {path}: {exc}. {INSTALL_HINT}") from exc
    if chat_format is not None:
        _check_chat_format(llama, chat_format)
    return llama


def _check_chat_format(llama: Any, name: str) -> None:
    """`ChatFormatError` now, not at the first answer, when llama-cpp-python has no chat format
    `name`: neither a template of this GGUF's nor one of its built-in formats."""
    from llama_cpp import llama_chat_format

    built_in = llama_chat_format.LlamaChatCompletionHandlerRegistry()._chat_handlers
    own = getattr(llama, "_chat_handlers", {})  # the GGUF's templates: `chat_template.default`…
    known = sorted({*built_in, *own})
    if name not in known:
        raise ChatFormatError(
            f"llama-cpp-python has no chat format {name!r}; set --chat-format / "
            f"KGRAG_CHAT_FORMAT to one of {', '.join(known)}, or unset it to use the GGUF "
            "file's own template."
        )


def _looks_like_gguf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"GGUF"

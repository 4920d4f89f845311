"""The text generator behind answers: a tiny `Generator` protocol and its llama.cpp backends.

`LlamaCppGenerator` runs llama.cpp in this process; the model loads lazily, once per process (per
path and settings), so graph answers and refusals never pay for it. `load_generator()` — what the
CLI and the app use — returns `rag.llm.worker.WorkerGenerator`, which runs the same generator in a
kept-warm child process so that a native crash cannot take the app or the CLI down.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rag.models.catalogue import ModelMissingError
from rag.protocols import Generator, Message  # the seam; re-exported here for its callers

__all__ = [
    "GgufHeader",
    "Generator",
    "LlamaCppGenerator",
    "Message",
    "ModelMissingError",
    "TokenCounter",
    "default_model_path",
    "load_generator",
    "read_gguf_header",
]

DEFAULT_N_CTX = 4096
DEFAULT_MAX_TOKENS = 200
_INSTALL_HINT = "Run `kgrag models --install` (or point --model / KGRAG_MODEL at a GGUF file)."


def default_model_path() -> Path:
    """`KGRAG_MODEL`, else the Qwen2.5-Coder GGUF installed by `kgrag models --install`
    (`rag.settings.Settings.model_path`)."""
    from rag.settings import Settings

    return Settings.from_env().model_path()


@runtime_checkable
class TokenCounter(Protocol):
    """A generator with a context window: a question can be measured in its tokens before any
    retrieval, so one that cannot fit is refused at once instead of after the work."""

    n_ctx: int
    max_tokens: int

    def count_tokens(self, text: str) -> int: ...


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


def load_generator(
    model: Path | str | Callable[[], Path] | None = None, max_tokens: int | None = None
) -> Any:
    """The generator the CLI and the app use: llama.cpp in a crash-proof worker process
    (`model`: the GGUF file, or what locates it when the worker starts)."""
    from rag.llm.worker import WorkerGenerator

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


# ---- the GGUF file's header: what `kgrag doctor` checks before llama.cpp is asked to load it --
# A truncated or damaged file must be named as such, not found out when a question first loads
# it. The layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic, version,
# tensor count, metadata count, the metadata, the tensor infos, then the tensor data, aligned.

_GGUF_VERSIONS = (2, 3)
_GGML_MAX_DIMS = 4
_MAX_COUNT = 1 << 32  # more tensors, entries, items or string bytes than this is garbage
_DEFAULT_ALIGNMENT = 32
# Metadata value types: fixed-size ones by their struct code; 8 = string, 9 = array.
_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q",
                 11: "q", 12: "d"}  # fmt: skip
# ggml tensor types: (elements per block, bytes per block). A type missing here (a newer
# quantisation) is still checked to start inside the file, just not to end inside it.
_GGML_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
}  # fmt: skip


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF file's header says, checked against the file's size."""

    version: int
    tensors: int
    metadata: dict[str, Any]
    needed_bytes: int
    """The bytes the header and every tensor of known type need: the file holds at least these."""

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))


class GgufError(ModelMissingError):
    """A file is not a whole GGUF model: wrong magic, an implausible or truncated header, or
    tensor data that ends past the end of the file."""


def read_gguf_header(path: Path | str) -> GgufHeader:
    """Parse the header of the GGUF file at `path` and check that the file holds every tensor
    it lists; `GgufError` names what is wrong. Reads the header only (milliseconds to a second
    for a large vocabulary), never the tensor data."""
    path = Path(path)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise GgufError(f"{path} {what}. {_INSTALL_HINT}")
    size = path.stat().st_size
    if size < 24:
        raise GgufError(f"{path} has {size} bytes: too short for a GGUF header. {_INSTALL_HINT}")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        try:
            return _GgufReader(m).header()
        except _Truncated as exc:
            raise GgufError(
                f"{path} is cut short ({size:,} bytes): {exc}. {_INSTALL_HINT}"
            ) from None
        except _Implausible as exc:
            raise GgufError(f"{path} is not a usable GGUF model: {exc}. {_INSTALL_HINT}") from None


class _Truncated(Exception):
    pass


class _Implausible(Exception):
    pass


class _GgufReader:
    """Reads the header from a memory map; every read is bounds-checked, so a cut file raises
    `_Truncated` instead of returning garbage."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.at = 0

    def header(self) -> GgufHeader:
        if self.take(4) != b"GGUF":
            raise _Implausible("it does not start with the GGUF magic bytes")
        version = self.unpack("I")
        if version not in _GGUF_VERSIONS:
            raise _Implausible(f"GGUF version {version} is not one llama.cpp reads")
        tensors, entries = self.unpack("Q"), self.unpack("Q")
        if not 0 < tensors <= _MAX_COUNT or entries > _MAX_COUNT:
            raise _Implausible(f"the header claims {tensors:,} tensors and {entries:,} entries")
        metadata = {}
        for _ in range(entries):
            key = self.string()
            metadata[key] = self.value(self.unpack("I"), key)
        infos = [self.tensor_info() for _ in range(tensors)]
        alignment = metadata.get("general.alignment", _DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0:
            raise _Implausible(f"general.alignment is {alignment!r}")
        start = -(-self.at // alignment) * alignment
        needed = max(start + offset + nbytes for offset, nbytes in infos)
        if needed > len(self.data):
            raise _Truncated(f"its tensors need {needed:,} bytes")
        return GgufHeader(version, tensors, metadata, needed)

    def tensor_info(self) -> tuple[int, int]:
        """(offset in the data section, bytes) of one tensor (bytes 1 for an unknown type)."""
        name = self.string()
        dims = self.unpack("I")
        if not 0 < dims <= _GGML_MAX_DIMS:
            raise _Implausible(f"tensor {name!r} has {dims} dimensions")
        elements = 1
        for _ in range(dims):
            elements *= self.unpack("Q")
        kind, offset = self.unpack("I"), self.unpack("Q")
        per_block, block_bytes = _GGML_BLOCKS.get(kind, (1, 0))
        return offset, max(-(-elements // per_block) * block_bytes, 1)

    def value(self, kind: int, key: str) -> Any:
        if kind in _GGUF_SCALARS:
            return self.unpack(_GGUF_SCALARS[kind])
        if kind == 8:
            return self.string()
        if kind != 9:
            raise _Implausible(f"metadata {key!r} has unknown type {kind}")
        item, count = self.unpack("I"), self.unpack("Q")
        if count > _MAX_COUNT:
            raise _Implausible(f"metadata {key!r} claims {count:,} items")
        if item in _GGUF_SCALARS:  # numbers: skipped, not decoded (a vocabulary's scores…)
            self.take(count * struct.calcsize("<" + _GGUF_SCALARS[item]))
        elif item == 8:  # strings (a vocabulary, its merges): skipped, not decoded
            for _ in range(count):
                self.take(self.length())
        else:
            for _ in range(count):
                self.value(item, key)
        return count

    def string(self) -> str:
        return bytes(self.take(self.length())).decode("utf-8", "replace")

    def length(self) -> int:
        length = int(self.unpack("Q"))
        if length > _MAX_COUNT:
            raise _Implausible(f"a string claims {length:,} bytes at byte {self.at:,}")
        return length

    def unpack(self, code: str) -> Any:
        size = struct.calcsize("<" + code)
        (value,) = struct.unpack_from("<" + code, self.take(size))
        return value

    def take(self, size: int) -> bytes:
        end = self.at + size
        if end > len(self.data):
            raise _Truncated(f"the file ends at byte {len(self.data):,}, inside the header")
        chunk = self.data[self.at : end]
        self.at = end
        return chunk

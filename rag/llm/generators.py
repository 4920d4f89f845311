"""Which generator the settings name: the registry of generator backends.

`GENERATORS` maps each backend's name to the `module:factory` that builds it, imported only when
that generator is built (llama.cpp stays unloaded until then); a factory takes a
`GeneratorRequest` and returns a `rag.protocols.Generator`. '' names the default: llama.cpp in
a kept-warm worker process (`rag.llm.worker`), which a native crash cannot take down with the app
or the CLI; `llama-cpp` runs it in this process (`rag.llm.generator`: benches, tests). A new
backend is one module with a `from_request` factory plus one line in `GENERATORS` (or
`register_generator` at run time).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgragError
from rag.protocols import Generator

__all__ = [
    "DEFAULT_GENERATOR",
    "GENERATORS",
    "GeneratorFactory",
    "GeneratorRequest",
    "UnknownGeneratorError",
    "generator_kind",
    "load_generator",
    "register_generator",
]


class UnknownGeneratorError(KgragError):
    """The settings name a generator backend that is not registered."""


@dataclass(frozen=True)
class GeneratorRequest:
    """What a generator factory gets. `model` locates the GGUF file when the model first loads
    (so building an engine needs no installed model); `max_tokens` None: the backend's default;
    `chat_format` None: the template the GGUF file carries."""

    model: Callable[[], Path]
    max_tokens: int | None = None
    chat_format: str | None = None


GeneratorFactory = Callable[[GeneratorRequest], Generator]

DEFAULT_GENERATOR = "llama-cpp-worker"
GENERATORS: dict[str, str] = {
    DEFAULT_GENERATOR: "rag.llm.worker:from_request",
    "llama-cpp": "rag.llm.generator:from_request",
}
"""Generator name → `module:factory`, imported only when that generator is built."""

_REGISTERED: dict[str, GeneratorFactory] = {}


def register_generator(name: str, factory: GeneratorFactory) -> None:
    """Add a generator backend at run time."""
    _REGISTERED[name] = factory


def generator_kind(name: str) -> str:
    """The backend `name` names ('' = `DEFAULT_GENERATOR`); `UnknownGeneratorError` lists them."""
    kind = name or DEFAULT_GENERATOR
    if kind in GENERATORS or kind in _REGISTERED:
        return kind
    known = ", ".join(sorted({*GENERATORS, *_REGISTERED}))
    raise UnknownGeneratorError(
        f"unknown generator {name!r}: set KGRAG_GENERATOR to one of {known} (or unset it for "
        f"{DEFAULT_GENERATOR})."
    )


def load_generator(name: str, request: GeneratorRequest) -> Generator:
    """The generator backend `name` names, built for `request` (the model loads on first use)."""
    kind = generator_kind(name)
    if kind in _REGISTERED:
        return _REGISTERED[kind](request)
    module_name, attr = GENERATORS[kind].split(":")
    factory: GeneratorFactory = getattr(importlib.import_module(module_name), attr)
    return factory(request)

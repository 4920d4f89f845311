"""`Settings`: everything that wires an answer engine, read from the environment once.

A command reads its settings when it starts (`Settings.from_env(**options)`: its command-line
options win over the environment) and hands the frozen record to `rag.engine`, the composition
root; no part of the engine reads the environment after that. The variables, each read here and
nowhere else in `rag` and `ui`:

- `KGRAG_CORPUS` — the paper list (else the user's library or copy, else the shipped list: that
  fallback is `kg.corpus.default_corpus_path`, since `kg` never imports `rag`);
- `KGRAG_DATA_DIR` — the user's data folder (`kg.paths.user_data_dir`);
- `KGRAG_INDEX_DIR` — the index folder (else `index/` in the data folder);
- `KGRAG_VECTOR_URI` / `KGRAG_VECTOR_TOKEN` — the vector store (`rag.stores.base`; else FAISS in the
  index folder) and a Milvus server's token;
- `KGRAG_EMBEDDER` — the embedder spec (else EmbeddingGemma-300M); `KGRAG_EMBEDDER_BACKEND`
  `int8` (unset: the same), `onnx` or `torch` picks how EmbeddingGemma runs (`rag.embedding.gemma`);
- `KGRAG_MODEL` — the GGUF file (else the one `kgrag models --install` installed);
- `KGRAG_CHAT_FORMAT` — llama-cpp-python's chat format for that file (else the GGUF's own
  template);
- `KGRAG_GENERATOR` — the generator backend (`rag.llm.generators`; else llama.cpp in a worker
  process).

Two process switches that wire no engine are read here too, when they are needed:
`KGRAG_DEBUG` (`debug_enabled`) and the LLM worker's crash hook `KGRAG_WORKER_FAULT`
(`worker_fault`). The model store's folder `KGRAG_HOME` is `rag.models.catalogue.kgrag_home`'s.

Importing this module reads nothing and loads nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kg.corpus import default_corpus_path
from kg.paths import user_data_dir
from rag.models.catalogue import DEFAULT_EMBEDDER, llm_path

__all__ = ["Settings", "debug_enabled", "worker_fault"]


@dataclass(frozen=True)
class Settings:
    """Where the papers, the index and the models are, and which backends serve them, for one
    engine."""

    corpus: Path
    """The paper list (a text list or the user's library file)."""
    data_dir: Path
    """The user's data folder (their library, their copy of the list, the default index)."""
    index_dir: Path
    """The index folder (where FAISS lives, and what the app shows as the index)."""
    embedder: str
    """`embeddinggemma-300m`, `use-multilingual`, or a sentence-transformers folder."""
    vector_uri: str = ""
    """The vector store (`rag.stores.base.store_kind`); '' means FAISS in `index_dir`."""
    vector_token: str = ""
    """The token of a Milvus server that needs one."""
    model: Path | None = None
    """The GGUF file; None means the installed one (located when the LLM first loads)."""
    max_tokens: int | None = None
    """The longest answer in tokens; None means the generator's default."""
    corpus_pinned: bool = False
    """The paper list was named (`--corpus` or `KGRAG_CORPUS`), not found: no library behind it."""
    embedder_backend: str = ""
    """'' or `int8` runs EmbeddingGemma on the int8 flavour of its checked ONNX export, `onnx` on
    the float export, `torch` on sentence-transformers (the float export's vectors); a missing
    flavour falls back to the next (`rag.embedding.gemma`)."""
    chat_format: str | None = None
    """llama-cpp-python's chat format for the GGUF (`chatml`, `llama-2`, `gemma`, …); None
    means the template the GGUF file carries."""
    generator: str = ""
    """The generator backend (`rag.llm.generators.GENERATORS`); '' means llama.cpp in a worker
    process."""

    @classmethod
    def from_env(
        cls,
        *,
        corpus: Path | str | None = None,
        data_dir: Path | str | None = None,
        index_dir: Path | str | None = None,
        vector_uri: str | None = None,
        vector_token: str | None = None,
        embedder: str | None = None,
        embedder_backend: str | None = None,
        model: Path | str | None = None,
        chat_format: str | None = None,
        generator: str | None = None,
        max_tokens: int | None = None,
    ) -> Settings:
        """The settings of this process now: each given (not None) option wins over its
        environment variable, which wins over the default."""
        data = Path(data_dir).expanduser() if data_dir is not None else user_data_dir()
        named = _given(corpus, "KGRAG_CORPUS")
        # a named list is used as given (the variable's `~` expanded); none: found in `data`
        chosen = corpus if corpus is not None else Path(named).expanduser() if named else None
        index = _given(index_dir, "KGRAG_INDEX_DIR")
        chosen_model = _given(model, "KGRAG_MODEL")
        return cls(
            corpus=default_corpus_path(chosen, data_dir=data),
            data_dir=data,
            index_dir=Path(index).expanduser() if index else data / "index",
            embedder=_given(embedder, "KGRAG_EMBEDDER") or DEFAULT_EMBEDDER,
            vector_uri=_given(vector_uri, "KGRAG_VECTOR_URI"),
            vector_token=_given(vector_token, "KGRAG_VECTOR_TOKEN"),
            model=Path(chosen_model).expanduser() if chosen_model else None,
            max_tokens=max_tokens,
            corpus_pinned=bool(named),
            embedder_backend=_given(embedder_backend, "KGRAG_EMBEDDER_BACKEND").casefold(),
            chat_format=_given(chat_format, "KGRAG_CHAT_FORMAT") or None,
            generator=_given(generator, "KGRAG_GENERATOR"),
        )

    def model_path(self) -> Path:
        """The GGUF file to load: `model`, else the installed one (`ModelMissingError` if none)."""
        if self.model is not None:
            return self.model
        return llm_path()


def debug_enabled() -> bool:
    """`KGRAG_DEBUG` is set: the CLI lets a `KgragError` raise with its traceback instead of
    printing one line (for developers)."""
    return bool(os.environ.get("KGRAG_DEBUG"))


def worker_fault() -> str:
    """`KGRAG_WORKER_FAULT` (`abort`, `segv` or `exit`): the LLM worker process fails that way at
    its next generation, so crash handling can be tested with a really dying process; '' in use."""
    return os.environ.get("KGRAG_WORKER_FAULT", "")


def _given(option: Path | str | None, variable: str) -> str:
    """An option as given, else its environment variable ('' when neither is set)."""
    return str(option) if option is not None else os.environ.get(variable, "")

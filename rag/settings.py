"""`Settings`: everything that wires an answer engine, read from the environment once.

A command reads its settings when it starts (`Settings.from_env(**options)`: its command-line
options win over the environment) and hands the frozen record to `rag.engine.build_engine`; no
part of the engine reads the environment after that. The variables, each read here and nowhere
else (the paper list's fallback is `kg.corpus.default_corpus_path`, since `kg` never imports
`rag`):

- `KGRAG_CORPUS` — the paper list (else the user's library or copy, else the shipped list);
- `KGRAG_DATA_DIR` — the user's data folder (`kg.paths.user_data_dir`);
- `KGRAG_INDEX_DIR` — the index folder (else `index/` in the data folder);
- `KGRAG_VECTOR_URI` / `KGRAG_VECTOR_TOKEN` — the vector store (`rag.stores.base`; else FAISS in the
  index folder) and a Milvus server's token;
- `KGRAG_EMBEDDER` — the embedder spec (else EmbeddingGemma-300M);
- `KGRAG_MODEL` — the GGUF file (else the one `kgrag models --install` installed).

Importing this module reads nothing and loads nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kg.corpus import default_corpus_path
from kg.paths import user_data_dir

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Where the papers, the index and the models are, for one engine."""

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
        model: Path | str | None = None,
        max_tokens: int | None = None,
    ) -> Settings:
        """The settings of this process now: each given (not None) option wins over its
        environment variable, which wins over the default."""
        from rag.embedding.embedders import DEFAULT_EMBEDDER

        data = Path(data_dir).expanduser() if data_dir is not None else user_data_dir()
        index = _given(index_dir, "KGRAG_INDEX_DIR")
        chosen_model = _given(model, "KGRAG_MODEL")
        return cls(
            corpus=default_corpus_path(corpus, data_dir=data),
            data_dir=data,
            index_dir=Path(index).expanduser() if index else data / "index",
            embedder=_given(embedder, "KGRAG_EMBEDDER") or DEFAULT_EMBEDDER,
            vector_uri=_given(vector_uri, "KGRAG_VECTOR_URI"),
            vector_token=_given(vector_token, "KGRAG_VECTOR_TOKEN"),
            model=Path(chosen_model).expanduser() if chosen_model else None,
            max_tokens=max_tokens,
        )

    def model_path(self) -> Path:
        """The GGUF file to load: `model`, else the installed one (`ModelMissingError` if none)."""
        if self.model is not None:
            return self.model
        from rag.models.catalogue import llm_path

        return Path(llm_path())


def _given(option: Path | str | None, variable: str) -> str:
    """An option as given, else its environment variable ('' when neither is set)."""
    return str(option) if option is not None else os.environ.get(variable, "")

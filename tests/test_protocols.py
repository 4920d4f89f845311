"""The seams in rag/protocols.py: one declaration each, re-exported where callers look, and
small enough that a toy implements them (mypy checks the real ones against them)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import rag.embedding.embedders
import rag.llm.generator
from rag import protocols


def test_each_seam_is_declared_once_and_re_exported() -> None:
    assert rag.embedding.embedders.Embedder is protocols.Embedder
    assert rag.llm.generator.Generator is protocols.Generator
    assert rag.llm.generator.Message is protocols.Message


class _ToyRetriever:
    """Hits and scores as plain namespaces: the Protocols ask for attributes, not classes."""

    def retrieve(self, query: str, k: int = 5) -> Any:
        passage = SimpleNamespace(text=query)
        hit = SimpleNamespace(paper_id="code-llama", via=("bm25",), why="", snippet=query,
                              passage=passage)  # fmt: skip
        return SimpleNamespace(hits=(hit,) * k, top_similarity=1.0)


class _EchoGenerator:
    def stream(self, messages: Sequence[protocols.Message]) -> Iterator[str]:
        yield from (m.content for m in messages)


def test_a_toy_fits_each_seam() -> None:
    retriever: protocols.Retriever = _ToyRetriever()
    assert isinstance(retriever, protocols.Retriever)
    found = retriever.retrieve("code models", 2)
    assert [h.paper_id for h in found.hits] == ["code-llama", "code-llama"]
    generator: protocols.Generator = _EchoGenerator()
    assert "".join(generator.stream([protocols.Message("user", "hi")])) == "hi"


def test_the_protocols_module_imports_nothing_heavy() -> None:
    code = "import sys, rag.protocols; print(sorted(m for m in ('numpy', 'faiss', 'torch', " \
           "'llama_cpp') if m in sys.modules))"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert out.stdout.strip() == "[]"

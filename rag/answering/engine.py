"""The answer engine: the graph and the parts an answer uses, each built on first use.

`Engine` holds the knowledge graph, the retriever, the embedder and the generator (or the
factories that make them: a graph answer or a refusal never loads the LLM, and a graph answer
never loads the embedder), with what answers reuse from them: passage vectors, each paper's
evidence sentences, the graph's names. It chooses none of its parts: the composition root
`rag.engine.build_engine` assembles one from the settings, and tests pass their own parts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from kg.lexicon import load_lexicon
from kg.lineage import lineage_cue
from kg.names import find_mentions
from rag.answering import prompts
from rag.answering.limits import check_question_tokens
from rag.answering.refusal import RefusalPolicy
from rag.checking.cite import NamedSpan, SupportChecker
from rag.passages import paper_sentences
from rag.protocols import Embedder, Generator, Message, Retriever

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["Engine", "entry_text"]


class Engine:
    """Everything an answer needs. Heavy parts are built on first use: a graph answer or a
    refusal never loads the LLM, and a graph answer never loads the embedder.

    `rag.engine.build_engine(settings)` assembles one from the settings (the parts given or
    the factories that make them); tests pass their own parts."""

    def __init__(
        self,
        kg: KnowledgeGraph,
        retriever: Retriever | None = None,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        *,
        retriever_factory: Callable[[], Retriever] | None = None,
        embedder_factory: Callable[[], Embedder] | None = None,
        generator_factory: Callable[[], Generator] | None = None,
        policy: RefusalPolicy | None = None,
    ) -> None:
        self.kg = kg
        self._retriever = retriever
        self._embedder = embedder
        self._generator = generator
        self._retriever_factory = retriever_factory
        self._embedder_factory = embedder_factory
        self._generator_factory = generator_factory
        self.policy = policy or RefusalPolicy()
        self._doc_vectors: dict[str, np.ndarray] = {}
        self._sentences: dict[str, list[str]] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = _make(self._embedder_factory, "an embedder")
        return self._embedder

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = _make(self._retriever_factory, "a retriever")
        return self._retriever

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = _make(self._generator_factory, "a generator")
        return self._generator

    def warm_up(self) -> None:
        """Load the embedder, index and LLM, embed every evidence sentence of the corpus, and
        have llama.cpp evaluate the fixed system message once, so a question only pays for its
        own embedding, sources and question (llama-cpp-python reuses the longest common token
        prefix). For the app's start and the bench."""
        assert self.retriever is not None
        # every candidate sentence's vector, so evidence selection embeds only the question
        self.similarity("warm up", [t for p in self.kg.corpus.papers for t in self.sentences(p)])
        messages = [Message("system", prompts.render("system", "en")), Message("user", "OK")]
        for _ in self.generator.stream(messages):
            break

    def check_question_fits(self, question: str) -> None:
        """`LimitError` when `question` cannot fit the LLM's context beside its sources and
        answer (`check_question_tokens`). An engine given no LLM at all (a test's) has no
        context window to measure against."""
        if self._generator is not None or self._generator_factory is not None:
            check_question_tokens(self.generator, question)

    @cached_property
    def checker(self) -> SupportChecker:
        return SupportChecker(self.embedder, mention_aliases=self._mention_aliases,
                              document_vectors=self.document_vectors,
                              lineage_cue=partial(lineage_cue, load_lexicon()))  # fmt: skip

    def document_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Document vectors of `texts`, each text embedded once per engine (cached)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._doc_vectors]
        if missing:
            vectors = self.embedder.encode_documents(missing)
            self._doc_vectors.update(zip(missing, vectors, strict=True))
        return np.stack([self._doc_vectors[t] for t in texts])

    def similarity(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """Cosine of the question to each passage (passage vectors cached per text)."""
        if not passages:
            return np.zeros(0)
        query = self.embedder.encode_queries([question])[0]
        return np.asarray(self.document_vectors(passages) @ query, dtype=np.float64)

    def _mention_aliases(self, text: str) -> list[NamedSpan]:
        aliases = self._aliases_by_node
        kinds = ("organization", "paper", "work")
        return [NamedSpan(m.start, m.end, aliases.get(m.node.id, (m.alias,)), m.node.kind)
                for m in find_mentions(self.kg, text, kinds)]  # fmt: skip

    def terms(self, text: str) -> set[str]:
        """Content words of `text` (the BM25 tokenizer: jieba + lower-cased Latin words)."""
        from rag.retrieval.bm25 import tokenize

        return set(tokenize(text))

    @cached_property
    def corpus_text(self) -> str:
        """Every corpus entry (titles, fields, abstracts), lower-cased: what words are looked up
        in (a substring test: cheaper than tokenizing the corpus, and never stricter)."""
        return "\n".join(entry_text(p) for p in self.kg.corpus.papers).casefold()

    def sentences(self, paper: Paper) -> list[str]:
        """The paper's influence note and abstract sentences (what evidence is chosen from)."""
        if paper.id not in self._sentences:
            self._sentences[paper.id] = paper_sentences(paper.influence, paper.abstract)
        return self._sentences[paper.id]

    def abstract_page(self, paper: Paper) -> tuple[int | None, str | None]:
        """(page, section) of the paper's abstract in its PDF: the page its Abstract section
        starts on; (None, None) for a paper without a full text or an abstract section."""
        document = self.kg.corpus.document(paper.id)
        found = document.paragraphs(frozenset({"abstract"})) if document is not None else []
        return (found[0][1].page, found[0][0].name) if found else (None, None)

    def organization_aliases(self, paper: Paper) -> tuple[str, ...]:
        """Every alias of the paper's organisations and of the organisations they belong to."""
        graph = self.kg.graph
        out: list[str] = []
        for name in paper.organizations:
            node = f"org:{name}"
            nodes = [node]
            parent = graph.nodes[node].get("part_of") if node in graph else None
            if parent:
                nodes.append(f"org:{parent}")
            for n in nodes:
                out.extend(self._aliases_by_node.get(n, (n.removeprefix("org:"),)))
        return tuple(dict.fromkeys(out or paper.organizations))

    def own_names(self, paper: Paper) -> tuple[str, ...]:
        """The paper's names, without variants that extend a shorter one: `Medusa-1` and
        `Medusa-2` name different models of the paper and must stay distinguishable."""
        names = self._aliases_by_node.get(f"paper:{paper.id}", ())
        keys = {re.sub(r"[\s\-_]", "", n.casefold()) for n in names}
        return tuple(n for n in names if not _extends(n, keys))

    @cached_property
    def _aliases_by_node(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for alias, node_id in self.kg.names.aliases:
            out.setdefault(node_id, []).append(alias)
        for node_id, node in self.kg.names.nodes.items():
            out.setdefault(node_id, []).append(node.label)
        return {k: tuple(v) for k, v in out.items()}


_T = TypeVar("_T")


def _make(factory: Callable[[], _T] | None, what: str) -> _T:
    if factory is None:
        raise TypeError(f"this Engine was given neither {what} nor a factory for one")
    return factory()


def entry_text(paper: Paper) -> str:
    """A paper's whole corpus entry as one text: title, organisations, influence, abstract."""
    orgs = " ".join(paper.organizations)
    return f"{paper.title} {orgs} {paper.organizations_raw} {paper.influence} {paper.abstract}"


def _extends(name: str, keys: set[str]) -> bool:
    """`Medusa-2` extends `Medusa` (a shorter name of the set, then a version or variant)."""
    match = re.match(r"(.+?)[\s\-_]*(?:\d+(?:\.\d+)?|v\d+|[a-z])$", name.casefold())
    return match is not None and re.sub(r"[\s\-_]", "", match[1]) in keys

"""Answer a question from the corpus with checked citations.

`stream(question)` yields the answer text as it is produced and ends with the checked `Answer`;
`ask(question)` returns only the `Answer`. Structural questions are answered exactly from the
graph, everything else through retrieval + the LLM, whose citations are verified sentence by
sentence. The LLM (and the embedder) load only when a question needs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.names import find_mentions
from rag import prompts
from rag.cite import CheckedText, SourceText, SupportChecker, check_answer, extractive_answer
from rag.graph_answer import GraphAnswer, answer_from_graph, candidate_papers
from rag.llm import Generator, Message, load_generator
from rag.refusal import RefusalPolicy, should_refuse
from rag.route import GRAPH, HYBRID, NONE, RAG, Route, route

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["Answer", "Citation", "Engine", "Source", "ask", "stream"]

SOURCES_SHOWN = 3  # passages in the prompt: each adds ~4 s of prompt evaluation on 2 cores
PASSAGE_CHARS = 220
SNIPPET_CHARS = 160
MAX_SENTENCES = 3
_SEARCH_K = 8
# A question leaning on an earlier one: a pronoun or a continuation ("and …", "what about …").
_FOLLOW_UP = re.compile(
    r"\b(it|its|this|that|they|them|their|these|those|the same|the former|the latter)\b"
    r"|^\s*(and|also|what about|how about|then)\b|它|其|这个|那个|这篇|该|它们|他们|还有|那么|呢",
    re.IGNORECASE,
)


_GRAPH_VIA: tuple[str, ...] = ("graph",)
_GRAPH_WHY = "listed by the knowledge graph"


@dataclass(frozen=True)
class Citation:
    id: str
    title: str


@dataclass(frozen=True)
class Source:
    """A source shown with the answer, and how it was found (`via`: dense / bm25 / graph)."""

    id: str
    title: str
    snippet: str
    via: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Answer:
    """A checked answer: only verified citations remain in `text` and `citations`."""

    question: str
    text: str
    route: str
    citations: tuple[Citation, ...] = ()
    sources: tuple[Source, ...] = ()
    removed_citations: int = 0
    unsupported_sentences: int = 0
    extractive: bool = False
    similarity: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The `kgrag ask --json` shape."""
        return {
            "question": self.question,
            "answer": self.text,
            "route": self.route,
            "citations": [{"id": c.id, "title": c.title} for c in self.citations],
            "sources": [{"id": s.id, "title": s.title, "snippet": s.snippet} for s in self.sources],
            "removed_citations": self.removed_citations,
            "unsupported_sentences": self.unsupported_sentences,
        }


@dataclass(frozen=True)
class _Context:
    """One numbered source as shown to the model: `[P{number}]`."""

    number: int
    paper: Paper
    passage: str
    via: tuple[str, ...] = ()
    why: str = ""

    def source_text(self) -> SourceText:
        p = self.paper
        meta = f"{p.title}\n{', '.join(p.organizations)} {p.organizations_raw} {p.date}"
        return SourceText(self.number, p.id, p.title, f"{meta}\n{self.passage}")


class Engine:
    """Everything an answer needs. Heavy parts are built on first use: a graph answer or a
    refusal never loads the LLM, and a graph answer never loads the embedder."""

    def __init__(
        self,
        kg: KnowledgeGraph,
        retriever: Any = None,
        embedder: Any = None,
        generator: Generator | None = None,
        *,
        retriever_factory: Callable[[], Any] | None = None,
        embedder_factory: Callable[[], Any] | None = None,
        generator_factory: Callable[[], Generator] | None = None,
        policy: RefusalPolicy | None = None,
    ) -> None:
        self.kg = kg
        self._retriever = retriever
        self._embedder = embedder
        self._generator = generator
        self._retriever_factory = retriever_factory
        self._embedder_factory = embedder_factory
        self._generator_factory = generator_factory or load_generator
        self.policy = policy or RefusalPolicy()
        self._doc_vectors: dict[str, np.ndarray] = {}

    @classmethod
    def load(
        cls,
        corpus: Path | str | None = None,
        index_dir: Path | str | None = None,
        embedder: str | None = None,
        model: Path | str | None = None,
        progress: bool = True,
    ) -> Engine:
        """An engine over a corpus file with the configured (or named) models and index."""
        from kg.corpus import load_corpus
        from kg.graph import build_graph

        kg = build_graph(load_corpus(corpus))

        def make_embedder() -> Any:
            from rag.embed import load_embedder

            return load_embedder(embedder)

        engine = cls(kg, embedder_factory=make_embedder,
                     generator_factory=lambda: load_generator(model))  # fmt: skip

        def make_retriever() -> Any:
            from rag.index import default_index_dir, open_index
            from rag.retrieve import Retriever

            folder = Path(index_dir) if index_dir is not None else default_index_dir()
            index = open_index(kg.corpus, engine.embedder, folder, progress=progress)
            return Retriever(kg=kg, index=index, embedder=engine.embedder)

        engine._retriever_factory = make_retriever
        return engine

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            if self._embedder_factory is None:
                self._embedder = getattr(self.retriever, "embedder", None)
            else:
                self._embedder = self._embedder_factory()
        return self._embedder

    @property
    def retriever(self) -> Any:
        if self._retriever is None and self._retriever_factory is not None:
            self._retriever = self._retriever_factory()
        return self._retriever

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = self._generator_factory()
        return self._generator

    @cached_property
    def checker(self) -> SupportChecker:
        return SupportChecker(self.embedder, mention_aliases=self._mention_aliases)

    def similarity(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """Cosine of the question to each passage (passage vectors cached per text)."""
        missing = [p for p in dict.fromkeys(passages) if p not in self._doc_vectors]
        if missing:
            vectors = self.embedder.encode_documents(missing)
            self._doc_vectors.update(zip(missing, vectors, strict=True))
        query = self.embedder.encode_queries([question])[0]
        return np.array([float(query @ self._doc_vectors[p]) for p in passages])

    def _mention_aliases(self, text: str) -> list[tuple[int, int, Sequence[str]]]:
        aliases = self._aliases_by_node
        kinds = ("organization", "paper", "work")
        return [(m.start, m.end, aliases.get(m.node.id, (m.alias,))) for m in
                find_mentions(self.kg, text, kinds)]  # fmt: skip

    @cached_property
    def _aliases_by_node(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for alias, node_id in self.kg.names.aliases:
            out.setdefault(node_id, []).append(alias)
        for node_id, node in self.kg.names.nodes.items():
            out.setdefault(node_id, []).append(node.label)
        return {k: tuple(v) for k, v in out.items()}


_DEFAULT: list[Engine] = []


def default_engine() -> Engine:
    """The process-wide engine over the configured corpus and models."""
    if not _DEFAULT:
        _DEFAULT.append(Engine.load())
    return _DEFAULT[0]


def ask(question: str, engine: Engine | None = None, history: Sequence[str] = ()) -> Answer:
    """Answer a question; see `stream` for the text as it is generated."""
    for item in stream(question, engine, history):
        if isinstance(item, Answer):
            return item
    raise RuntimeError("stream() ended without an Answer")  # pragma: no cover


def stream(
    question: str, engine: Engine | None = None, history: Sequence[str] = ()
) -> Iterator[str | Answer]:
    """Yield the answer text in pieces as it is produced, then the checked `Answer`.

    `history` holds the earlier questions of a conversation (oldest first): a follow-up such as
    "and what came after it?" is read against the last earlier question that named something.
    """
    engine = engine or default_engine()
    question = question.strip()
    analysis = _route_with_history(engine.kg, question, tuple(history))
    if analysis.kind == GRAPH:
        graph = answer_from_graph(engine.kg, analysis)
        if graph is not None:
            yield graph.text
            yield _graph_answer(question, graph)
            return
        analysis = replace(analysis, kind=RAG)
    contexts, similarity = _contexts(engine, analysis)
    if not contexts or should_refuse(analysis, similarity, engine.policy):
        text = prompts.render("refusal", analysis.language)
        yield text
        yield Answer(question, text, NONE, similarity=similarity)
        return
    yield from _generate(engine, question, analysis, contexts, similarity)


def _generate(
    engine: Engine, question: str, analysis: Route, contexts: list[_Context], similarity: float
) -> Iterator[str | Answer]:
    messages = build_messages(analysis.question, analysis.language, contexts)
    pieces: list[str] = []
    for piece in engine.generator.stream(messages):
        pieces.append(piece)
        yield piece
    sources = [c.source_text() for c in contexts]
    checked = check_answer("".join(pieces), sources, engine.checker, analysis.question)
    if not checked.text.strip():
        fallback = extractive_answer(analysis.question, sources, engine.checker, analysis.language)
        checked = replace(fallback, removed_citations=checked.removed_citations,
                          unsupported_sentences=checked.unsupported_sentences)  # fmt: skip
    yield _rag_answer(question, analysis, contexts, checked, similarity)


def build_messages(question: str, language: str, contexts: Sequence[_Context]) -> list[Message]:
    """The chat messages for a retrieval answer: sources and instruction in the user message."""
    blocks = [
        prompts.render(
            "source",
            language,
            number=c.number,
            title=c.paper.title,
            organizations=", ".join(c.paper.organizations),
            date=c.paper.date,
            passage=c.passage,
        )
        for c in contexts
    ]
    user = prompts.render("user", language, sources="\n\n".join(blocks), question=question,
                          max_sentences=MAX_SENTENCES)  # fmt: skip
    return [Message("system", prompts.render("system", language)), Message("user", user)]


def _route_with_history(kg: KnowledgeGraph, question: str, history: tuple[str, ...]) -> Route:
    analysis = route(kg, question)
    if not history or analysis.works or analysis.has_filters or analysis.unknown_names:
        return analysis
    if not _FOLLOW_UP.search(question):
        return analysis
    for previous in reversed(history):
        mentions = find_mentions(kg, previous)
        if mentions:
            subject = " ".join(dict.fromkeys(m.text for m in mentions))
            resolved = route(kg, f"{question} ({subject})")
            return replace(resolved, question=question) if resolved.kind == GRAPH else resolved
    return analysis


def _contexts(engine: Engine, analysis: Route) -> tuple[list[_Context], float]:
    """The numbered passages for the prompt (retrieval hits, restricted to the graph's
    candidates for a hybrid question) and the best question-to-passage cosine."""
    by_id = engine.kg.corpus.by_id()
    query = analysis.question
    allowed: set[str] | None = None
    if analysis.kind == HYBRID:
        allowed = {p.id for p in candidate_papers(engine.kg, analysis)}
        if analysis.topic:
            query = f"{analysis.topic} {analysis.question}"
    hits, similarity = _search(engine, query, _SEARCH_K if allowed is None else _SEARCH_K * 2)
    chosen: list[tuple[Paper, str, tuple[str, ...], str]] = []
    for hit in hits:
        if hit.paper_id in {c[0].id for c in chosen} or hit.paper_id not in by_id:
            continue
        if allowed is not None and hit.paper_id not in allowed:
            continue
        if tuple(hit.via) == ("graph",):
            continue  # expansion neighbours are context for retrieval, not evidence here
        paper = by_id[hit.paper_id]
        text = _without_header(_passage_text(hit), paper)
        chosen.append((paper, text, tuple(hit.via), str(hit.why or "")))
        if len(chosen) == SOURCES_SHOWN:
            break
    if allowed and not chosen:
        chosen = [(by_id[pid], _paper_passage(by_id[pid]), _GRAPH_VIA, _GRAPH_WHY)
                  for pid in sorted(allowed)][:SOURCES_SHOWN]  # fmt: skip
    contexts = [_Context(i + 1, paper, _clip(text, PASSAGE_CHARS), via, why)
                for i, (paper, text, via, why) in enumerate(chosen)]  # fmt: skip
    return contexts, similarity


def _search(engine: Engine, query: str, k: int) -> tuple[list[Any], float]:
    """Hits and the top dense cosine of the query to any passage (the refusal signal)."""
    retriever = engine.retriever
    if hasattr(retriever, "retrieve"):
        found = retriever.retrieve(query, k)
        return list(found.hits), float(found.top_similarity)
    hits = list(retriever.search(query, k))
    texts = [_passage_text(h) for h in hits]
    return hits, float(engine.similarity(query, texts).max()) if texts else 0.0


def _passage_text(hit: Any) -> str:
    passage = getattr(hit, "passage", None)
    text = getattr(passage, "text", None) if passage is not None else None
    if isinstance(passage, str):
        text = passage
    return text or getattr(hit, "snippet", "") or ""


def _without_header(text: str, paper: Paper) -> str:
    """The passage without the title/organisation/date header the index embeds with it (the
    prompt states those once per source); the influence note is kept."""
    for anchor in (paper.influence, paper.abstract[:20]):
        if anchor and anchor in text:
            return text[text.index(anchor) :]
    return text


def _paper_passage(paper: Paper) -> str:
    return paper.abstract or paper.influence


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(mark) for mark in "。.!！?？;；")
    return cut[: end + 1] if end > limit // 2 else cut + "…"


def _graph_answer(question: str, graph: GraphAnswer) -> Answer:
    citations = tuple(Citation(p.id, p.title) for p in graph.papers)
    sources = tuple(Source(p.id, p.title, _clip(_paper_passage(p), SNIPPET_CHARS), _GRAPH_VIA,
                           _GRAPH_WHY) for p in graph.papers)  # fmt: skip
    return Answer(question, graph.text, GRAPH, citations, sources)


def _rag_answer(
    question: str,
    analysis: Route,
    contexts: list[_Context],
    checked: CheckedText,
    similarity: float,
) -> Answer:
    by_number = {c.number: c.paper for c in contexts}
    citations = tuple(Citation(by_number[n].id, by_number[n].title) for n in checked.cited)
    sources = tuple(Source(c.paper.id, c.paper.title, _clip(c.passage, SNIPPET_CHARS), c.via,
                           c.why) for c in contexts)  # fmt: skip
    return Answer(
        question=question,
        text=_tidy(checked.text),
        route=HYBRID if analysis.kind == HYBRID else RAG,
        citations=citations,
        sources=sources,
        removed_citations=checked.removed_citations,
        unsupported_sentences=checked.unsupported_sentences,
        extractive=checked.extractive,
        similarity=similarity,
    )


def _tidy(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()

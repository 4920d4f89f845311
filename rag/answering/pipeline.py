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
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from kg.errors import LimitError
from kg.lexicon import load_lexicon
from kg.lineage import lineage_cue
from kg.names import find_mentions
from rag.answering import prompts
from rag.answering.evidence import (
    EVIDENCE_TOKENS,
    Evidence,
    asks_for_figure,
    paper_sentences,
    select_evidence,
)
from rag.answering.graph_answer import GraphAnswer, answer_from_graph, candidate_papers
from rag.answering.refusal import (
    RefusalPolicy,
    clearly_outside,
    may_be_clearly_outside,
    should_refuse,
)
from rag.answering.route import GRAPH, HYBRID, NONE, RAG, Route, route
from rag.checking.cite import (
    CheckedText,
    NamedSpan,
    SourceText,
    SupportChecker,
    adds_to,
    check_answer,
    cited_numbers,
    extractive_answer,
    split_sentences,
)
from rag.llm.generator import TokenCounter
from rag.protocols import Embedder, Generator, Message, RetrievedHit, Retriever

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["Answer", "Citation", "Engine", "Source", "ask", "stream"]

# Papers whose sentences compete for the evidence budget (rag.answering.evidence decides how many are shown).
SOURCES_SHOWN = 3
SNIPPET_CHARS = 160
# The model saying the sources lack the answer: replaced by kgrag's own wording and a quote.
_SAYS_NOT_STATED = re.compile(
    r"(?:do|does|did)\s+not\s+(?:state|say|mention|specify|provide|give|include|contain)|"
    r"not\s+(?:stated|mentioned|specified|provided)|no information|"
    r"没有(?:说明|提及|提到|给出|明确|具体)|未(?:说明|提及|提到|给出)|并未|无法确定",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
_LINEAGE_INTENTS = frozenset({"ancestors", "descendants", "lineage", "path"})
_SEARCH_K = 8
# A question leaning on an earlier one: a pronoun or a continuation ("and …", "what about …").
_FOLLOW_UP = re.compile(
    r"\b(it|its|this|that|they|them|their|these|those|the same|the former|the latter)\b"
    r"|^\s*(and|also|what about|how about|then)\b|它|其|这个|那个|这篇|该|它们|他们|还有|那么|呢",
    re.IGNORECASE,
)


# Context tokens a retrieval prompt keeps for all but the question. On the shipped list: the
# system message and templates ~160, the evidence `EVIDENCE_TOKENS` (estimated) plus a first
# sentence shown whole (the longest has 84), three titles ~100, a premise correction ~40: ~500.
# Twice that leaves room for a library's longer sentences and titles.
PROMPT_RESERVE = 1_024
# No tokenizer llama.cpp runs (byte-level BPE, SentencePiece with byte fallback) spends more than
# one token a UTF-8 byte, plus one for a leading-space marker: shorter questions are not counted.
_TOKENS_PER_BYTE_SLACK = 1

_GRAPH_VIA: tuple[str, ...] = ("graph",)
_GRAPH_WHY = "listed by the knowledge graph"
_NAMED_WHY = "named in the question"


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

    def source_text(self, organizations: tuple[str, ...], own_names: tuple[str, ...]) -> SourceText:
        return SourceText.from_paper(self.number, self.paper, self.passage, organizations,
                                     own_names)  # fmt: skip


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
        return "\n".join(_entry_text(p) for p in self.kg.corpus.papers).casefold()

    def sentences(self, paper: Paper) -> list[str]:
        """The paper's influence note and abstract sentences (what evidence is chosen from)."""
        if paper.id not in self._sentences:
            self._sentences[paper.id] = paper_sentences(paper.influence, paper.abstract)
        return self._sentences[paper.id]

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


_DEFAULT: list[Engine] = []


def default_engine() -> Engine:
    """The process-wide engine over the configured corpus and models."""
    if not _DEFAULT:
        from rag.engine import build_engine
        from rag.settings import Settings

        _DEFAULT.append(build_engine(Settings.from_env()))
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
    premise = _false_premise(engine.kg, analysis)
    if premise:
        # the question is about the paper it names; its wrong organisation or date is no filter
        analysis = replace(analysis, kind=RAG, intent="", organizations=(), dates=None)
    if analysis.kind == GRAPH:
        graph = answer_from_graph(engine.kg, analysis)
        if graph is not None:
            yield graph.text
            yield _graph_answer(question, graph)
            return
        analysis = replace(analysis, kind=RAG)
    if may_be_clearly_outside(analysis) and clearly_outside(
        analysis, engine.terms(question), engine.corpus_text
    ):
        yield from _refusal(question, analysis.language, 0.0)
        return
    engine.check_question_fits(question)  # before any retrieval or embedding
    candidates = _candidates(engine, analysis)
    embedder = str(getattr(engine.embedder, "name", ""))  # whose calibrated thresholds apply
    # Refused on the similarity alone (even with every outside name found in the sources), it
    # is refused before any evidence sentence is embedded: a cold refusal waits for no more.
    if not candidates.chosen or (
        not premise
        and should_refuse(analysis, candidates.similarity, engine.policy, True, embedder)
    ):
        yield from _refusal(question, analysis.language, candidates.similarity)
        return
    contexts, similarity, evidence = _with_evidence(engine, candidates)
    named = _outside_names_in(analysis, contexts)
    if not contexts or (not premise and should_refuse(analysis, similarity, engine.policy, named,
                                                      embedder)):  # fmt: skip
        yield from _refusal(question, analysis.language, similarity)
        return
    yield from _generate(engine, question, analysis, contexts, similarity, evidence, premise)


def question_token_budget(generator: TokenCounter) -> int:
    """The most tokens a question may have: the context less the answer and `PROMPT_RESERVE`."""
    return generator.n_ctx - generator.max_tokens - PROMPT_RESERVE


def check_question_tokens(generator: object, question: str) -> None:
    """`LimitError` naming the count and the limit when `question` cannot fit the generator's
    context beside its sources and answer. A question short in bytes is not tokenized; a
    generator without a context window (a scripted one) is not asked."""
    if not isinstance(generator, TokenCounter):
        return
    budget = question_token_budget(generator)
    if len(question.encode("utf-8")) + _TOKENS_PER_BYTE_SLACK <= budget:
        return
    tokens = generator.count_tokens(question)
    if tokens > budget:
        raise LimitError(
            f"the question is {tokens:,} tokens for the model; the limit is {budget:,} (its "
            f"{generator.n_ctx:,}-token context also holds the sources and the answer). Ask a "
            "shorter question."
        )


def _refusal(question: str, language: str, similarity: float) -> Iterator[str | Answer]:
    text = prompts.render("refusal", language)
    yield text
    yield Answer(question, text, NONE, similarity=similarity)


@dataclass(frozen=True)
class _Premise:
    """A fact the question takes for granted that the graph contradicts."""

    paper: Paper
    field: str  # organization | date
    claimed: str


def _false_premise(kg: KnowledgeGraph, analysis: Route) -> list[_Premise]:
    """The question names one paper together with an organisation or a date the graph gives
    differently ("Google's Medusa", "the 2021 GPTQ paper"): the structured fields correct it."""
    papers = [w for w in analysis.works if w.kind == "paper" and w.paper_id]
    if len(papers) != 1 or analysis.intent in _LINEAGE_INTENTS:
        return []
    paper = kg.corpus.by_id().get(papers[0].paper_id or "")
    if paper is None:
        return []
    out = []
    own = {f"org:{o}" for o in paper.organizations}
    own |= {f"org:{kg.graph.nodes[o].get('part_of')}" for o in own if o in kg.graph}
    wrong = [o.label for o in analysis.organizations if o.id not in own]
    if wrong and not any(o.id in own for o in analysis.organizations):
        out.append(_Premise(paper, "organization", ", ".join(wrong)))
    dates = analysis.dates
    if dates is not None and not (dates.since or "") <= paper.date <= (dates.until or "9999"):
        out.append(_Premise(paper, "date", analysis.question[dates.start : dates.end].strip()))
    return out


def _correction(premise: _Premise, contexts: Sequence[_Context], language: str) -> str:
    paper = premise.paper
    number = next(c.number for c in contexts if c.paper.id == paper.id)
    name = _short_name(paper)
    if premise.field == "organization":
        return prompts.render("premise_org", language, paper=name, date=paper.date,
                              actual=", ".join(paper.organizations), claimed=premise.claimed,
                              number=number)  # fmt: skip
    return prompts.render("premise_date", language, paper=name, date=paper.date,
                          claimed=premise.claimed, number=number)  # fmt: skip


def _generate(
    engine: Engine,
    question: str,
    analysis: Route,
    contexts: list[_Context],
    similarity: float,
    evidence: Evidence,
    premises: Sequence[_Premise] = (),
) -> Iterator[str | Answer]:
    language = analysis.language
    lead = _join_text([_correction(p, contexts, language) for p in premises], language)
    if lead:
        yield lead + ("" if language == "zh" else " ")
    # the model reads the question with its premise already corrected, so it cannot repeat it
    asked = _corrected_question(engine.kg, analysis.question, premises)
    messages = build_messages(asked, language, contexts, lead)
    pieces: list[str] = []
    for piece in engine.generator.stream(messages):
        pieces.append(piece)
        yield piece
    sources = [c.source_text(engine.organization_aliases(c.paper), engine.own_names(c.paper))
               for c in contexts]  # fmt: skip
    raw = "".join(pieces)
    said_not_stated = bool(_SAYS_NOT_STATED.search(raw))
    claims = " ".join(s for s in split_sentences(raw) if not _SAYS_NOT_STATED.search(s))
    checked = check_answer(claims, sources, engine.checker, asked)
    if checked.text.strip() and not adds_to(asked, checked.text):
        checked = replace(checked, text="", cited=())  # restates the question: not an answer
    if said_not_stated or not checked.text.strip():
        checked = _without_answer(analysis, contexts, sources, evidence, checked, engine,
                                  said_not_stated)  # fmt: skip
    if lead:
        numbers = tuple(dict.fromkeys((*cited_numbers(lead), *checked.cited)))
        checked = replace(checked, text=_join_text([lead, checked.text], language), cited=numbers)
    yield _rag_answer(question, analysis, contexts, checked, similarity)


def _without_answer(
    analysis: Route,
    contexts: Sequence[_Context],
    sources: Sequence[SourceText],
    evidence: Evidence,
    checked: CheckedText,
    engine: Engine,
    said_not_stated: bool,
) -> CheckedText:
    """Nothing verifiable was generated, or the model said the sources lack the answer: say the
    corpus does not state it (a figure was asked for, or the model said so) or quote the
    sentence that best answers the question; either way cite it and invent nothing."""
    quotes = {c.number: best.text for c in contexts
              if (best := evidence.best(c.paper.id)) is not None}  # fmt: skip
    top = contexts[0]
    figure_missing = asks_for_figure(analysis.question) and not any(
        _DIGITS.search(c.passage) for c in contexts
    )  # a figure was asked for and the evidence holds none
    if (said_not_stated or figure_missing) and top.number in quotes:
        note = prompts.render("not_stated", analysis.language, paper=_short_name(top.paper),
                              quote=quotes[top.number], number=top.number)  # fmt: skip
        text = _join_text([checked.text, note], analysis.language) if checked.text else note
        cited = tuple(dict.fromkeys((*checked.cited, top.number)))
        return replace(checked, text=text, cited=cited, extractive=not checked.text.strip())
    fallback = extractive_answer(analysis.question, sources, engine.checker, analysis.language,
                                 quotes=quotes)  # fmt: skip
    return replace(fallback, removed_citations=checked.removed_citations,
                   unsupported_sentences=checked.unsupported_sentences)  # fmt: skip


def build_messages(
    question: str, language: str, contexts: Sequence[_Context], note: str = ""
) -> list[Message]:
    """The chat messages for a retrieval answer: the fixed system message first (its evaluated
    tokens are reused between questions), then the sources, the question and the form."""
    blocks = [
        prompts.render(
            "source",
            language,
            number=c.number,
            title=_short_name(c.paper),
            passage=c.passage,
        )
        for c in contexts
    ]
    extra = prompts.render("premise_note", language, correction=note) if note else ""
    user = prompts.render("user", language, sources="\n\n".join(blocks), question=question,
                          note=extra)  # fmt: skip
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


@dataclass(frozen=True)
class _Candidates:
    """The papers that may answer, before any sentence is chosen from them."""

    query: str
    chosen: dict[str, tuple[Paper, tuple[str, ...], str]]  # id → (paper, via, why)
    similarity: float  # the best question-to-passage cosine: the refusal signal


def _contexts(
    engine: Engine, analysis: Route, budget: int | None = None
) -> tuple[list[_Context], float, Evidence]:
    """The numbered sources for the prompt, the best question-to-passage cosine, and the chosen
    evidence (see `_candidates` and `_with_evidence`)."""
    return _with_evidence(engine, _candidates(engine, analysis), budget)


def _candidates(engine: Engine, analysis: Route) -> _Candidates:
    """The retrieval hits (restricted to the graph's candidates for a hybrid question), a paper
    the question names first."""
    by_id = engine.kg.corpus.by_id()
    query = analysis.question
    allowed: set[str] | None = None
    if analysis.kind == HYBRID:
        allowed = {p.id for p in candidate_papers(engine.kg, analysis)}
        if analysis.topic:
            query = f"{analysis.topic} {analysis.question}"
    hits, similarity = _search(engine, query, _SEARCH_K if allowed is None else _SEARCH_K * 2)
    chosen: dict[str, tuple[Paper, tuple[str, ...], str]] = {}
    for work in analysis.works:
        if work.kind == "paper" and work.paper_id in by_id and len(chosen) < SOURCES_SHOWN:
            chosen[work.paper_id] = (by_id[work.paper_id], _GRAPH_VIA, _NAMED_WHY)
    for hit in hits:
        if len(chosen) == SOURCES_SHOWN:
            break
        if hit.paper_id not in by_id or (allowed is not None and hit.paper_id not in allowed):
            continue
        if tuple(hit.via) == ("graph",):
            continue  # expansion neighbours are context for retrieval, not evidence here
        # a named paper found by retrieval too says how retrieval found it
        chosen[hit.paper_id] = (by_id[hit.paper_id], tuple(hit.via), str(hit.why or ""))
    if allowed and not chosen:
        chosen = {
            pid: (by_id[pid], _GRAPH_VIA, _GRAPH_WHY) for pid in sorted(allowed)[:SOURCES_SHOWN]
        }
    return _Candidates(query, chosen, similarity)


def _with_evidence(
    engine: Engine, candidates: _Candidates, budget: int | None = None
) -> tuple[list[_Context], float, Evidence]:
    """`rag.answering.evidence` picks the candidates' answering sentences and which of them to show."""
    chosen, query = candidates.chosen, candidates.query
    papers = [paper for paper, _, _ in chosen.values()]
    evidence = select_evidence(query, [(p.id, engine.sentences(p)) for p in papers],
                               engine.similarity, budget or EVIDENCE_TOKENS)  # fmt: skip
    shown = [pid for pid in chosen if pid in evidence.papers]
    contexts = [_Context(i + 1, chosen[pid][0], evidence.text_for(pid), chosen[pid][1],
                         chosen[pid][2]) for i, pid in enumerate(shown)]  # fmt: skip
    return contexts, candidates.similarity, evidence


def _search(engine: Engine, query: str, k: int) -> tuple[list[RetrievedHit], float]:
    """Hits and the top dense cosine of the query to any passage (the refusal signal)."""
    found = engine.retriever.retrieve(query, k)
    return list(found.hits), float(found.top_similarity)


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


def _extends(name: str, keys: set[str]) -> bool:
    """`Medusa-2` extends `Medusa` (a shorter name of the set, then a version or variant)."""
    match = re.match(r"(.+?)[\s\-_]*(?:\d+(?:\.\d+)?|v\d+|[a-z])$", name.casefold())
    return match is not None and re.sub(r"[\s\-_]", "", match[1]) in keys


def _outside_names_in(analysis: Route, contexts: Sequence[_Context]) -> bool:
    """Every name the graph holds outside the corpus (unknown names, reference-only works)
    occurs as a whole word in the retrieved papers' entries."""
    names = [*analysis.unknown_names, *(w.label for w in analysis.works if w.kind == "work")]
    if not names or not contexts:
        return False
    text = " ".join(_entry_text(c.paper) for c in contexts)
    return all(
        re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", text, re.IGNORECASE)
        for n in names
    )


def _entry_text(paper: Paper) -> str:
    orgs = " ".join(paper.organizations)
    return f"{paper.title} {orgs} {paper.organizations_raw} {paper.influence} {paper.abstract}"


def _short_name(paper: Paper) -> str:
    """`Medusa` for "Medusa: Simple LLM Inference …" (the whole title when it has no colon)."""
    return paper.title.split(":", 1)[0].strip()


def _join_text(parts: Sequence[str], language: str = "en") -> str:
    return ("" if language == "zh" else " ").join(p.strip() for p in parts if p and p.strip())


def _corrected_question(kg: KnowledgeGraph, question: str, premises: Sequence[_Premise]) -> str:
    """The question with a wrong organisation or date replaced by the paper's own."""
    for premise in premises:
        paper = premise.paper
        if premise.field == "date" and premise.claimed:
            question = question.replace(premise.claimed, paper.date)
        elif premise.field == "organization":
            for mention in reversed(find_mentions(kg, question, ("organization",))):
                if mention.node.label in premise.claimed:
                    question = question[: mention.start] + paper.organizations[0] + \
                        question[mention.end :]  # fmt: skip
    return question


def _tidy(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()

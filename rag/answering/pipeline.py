"""Answer a question from the corpus with checked citations: the flow from question to `Answer`.

`stream(question, engine)` yields the answer text as it is produced and ends with the checked
`Answer`; `ask(question, engine)` returns only the `Answer`. Structural questions are answered
exactly from the graph (`rag.answering.graph_answer`), everything else through retrieval + the
LLM, whose citations are verified sentence by sentence (`rag.checking.cite`). The engine is the
caller's (`rag.engine.build_engine` assembles one from the settings); the LLM and the embedder
load only when a question needs them. The pieces live beside this module: the records
(`records`), the engine (`engine`), the sources shown (`sources`), false premises (`premise`),
the token limit (`limits`), the texts (`prompts`) and when to refuse (`refusal`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from kg.names import find_mentions
from rag.answering import prompts
from rag.answering.engine import Engine, entry_text
from rag.answering.evidence import Evidence, asks_for_figure, states_what_is_asked
from rag.answering.extractive import extractive_answer
from rag.answering.graph_answer import GraphAnswer, answer_from_graph
from rag.answering.premise import Premise, corrected_question, correction, false_premises
from rag.answering.records import Answer, Citation, Source
from rag.answering.refusal import clearly_outside, may_be_clearly_outside, should_refuse
from rag.answering.route import GRAPH, HYBRID, NONE, RAG, Route, route
from rag.answering.sources import (
    GRAPH_VIA,
    GRAPH_WHY,
    Context,
    find_candidates,
    with_evidence,
)
from rag.checking.citations import CITATION
from rag.checking.cite import (
    CheckedText,
    SourceText,
    adds_to,
    check_answer,
    cited_numbers,
    split_sentences,
)
from rag.checking.figures import figures
from rag.protocols import Message

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

# The records and the engine are re-exported: callers of the flow find them here.
__all__ = ["Answer", "Citation", "Engine", "Source", "ask", "build_messages", "stream"]

SNIPPET_CHARS = 160
# The model saying the sources lack the answer: replaced by kgrag's own wording and a quote.
_SAYS_NOT_STATED = re.compile(
    r"(?:do|does|did)\s+not\s+(?:state|say|mention|specify|provide|give|include|contain)|"
    r"not\s+(?:stated|mentioned|specified|provided)|no information|"
    r"没有(?:说明|提及|提到|给出|明确|具体)|未(?:说明|提及|提到|给出)|并未|无法确定",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
# A question leaning on an earlier one: a pronoun or a continuation ("and …", "what about …").
_FOLLOW_UP = re.compile(
    r"\b(it|its|this|that|they|them|their|these|those|the same|the former|the latter)\b"
    r"|^\s*(and|also|what about|how about|then)\b|它|其|这个|那个|这篇|该|它们|他们|还有|那么|呢",
    re.IGNORECASE,
)


def ask(question: str, engine: Engine, history: Sequence[str] = ()) -> Answer:
    """Answer a question; see `stream` for the text as it is generated."""
    for item in stream(question, engine, history):
        if isinstance(item, Answer):
            return item
    raise RuntimeError("stream() ended without an Answer")  # pragma: no cover


def stream(question: str, engine: Engine, history: Sequence[str] = ()) -> Iterator[str | Answer]:
    """Yield the answer text in pieces as it is produced, then the checked `Answer`.

    `history` holds the earlier questions of a conversation (oldest first): a follow-up such as
    "and what came after it?" is read against the last earlier question that named something.
    """
    question = question.strip()
    analysis = _route_with_history(engine.kg, question, tuple(history))
    premise = false_premises(engine.kg, analysis)
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
    candidates = find_candidates(engine, analysis)
    embedder = str(getattr(engine.embedder, "name", ""))  # whose calibrated thresholds apply
    # Refused on the similarity alone (even with every outside name found in the sources), it
    # is refused before any evidence sentence is embedded: a cold refusal waits for no more.
    if not candidates.chosen or (
        not premise
        and should_refuse(analysis, candidates.similarity, engine.policy, True, embedder)
    ):
        yield from _refusal(question, analysis.language, candidates.similarity)
        return
    contexts, similarity, evidence = with_evidence(engine, candidates)
    named = _outside_names_in(analysis, contexts)
    if not contexts or (not premise and should_refuse(analysis, similarity, engine.policy, named,
                                                      embedder)):  # fmt: skip
        yield from _refusal(question, analysis.language, similarity)
        return
    yield from _generate(engine, question, analysis, contexts, similarity, evidence, premise)


def _generate(
    engine: Engine,
    question: str,
    analysis: Route,
    contexts: list[Context],
    similarity: float,
    evidence: Evidence,
    premises: Sequence[Premise] = (),
) -> Iterator[str | Answer]:
    language = analysis.language
    lead = _join_text([correction(p, contexts, language) for p in premises], language)
    if lead:
        yield lead + ("" if language == "zh" else " ")
    # the model reads the question with its premise already corrected, so it cannot repeat it
    asked = corrected_question(engine.kg, analysis.question, premises)
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
    support = _supporting_sentences(engine, checked.text, contexts)
    yield _rag_answer(question, analysis, contexts, checked, similarity, support)


# A source sentence this long found whole in the answer is quoted there, not met by chance.
QUOTE_MIN_CHARS = 20


def _supporting_sentences(
    engine: Engine, text: str, contexts: Sequence[Context]
) -> dict[int, tuple[str, int | None]]:
    """Per cited source number, the shown sentence of that source closest (the embedder's
    cosine, so across languages too) to the answer's sentences citing it, with its page: what
    the citation's page is, and what the card marks."""
    by_number = {c.number: c for c in contexts}
    claims: dict[int, list[str]] = {}
    for sentence in split_sentences(text):
        for number in cited_numbers(sentence):
            claims.setdefault(number, []).append(CITATION.sub("", sentence).strip())
    out: dict[int, tuple[str, int | None]] = {}
    whole = _squashed(text)
    for number, said in claims.items():
        context = by_number.get(number)
        if context is None or not context.sentences:
            continue
        quoted = [
            s
            for s in context.sentences
            if len(_squashed(s[0])) >= QUOTE_MIN_CHARS and _squashed(s[0]) in whole
        ]
        if quoted:  # a quote (an extractive answer): the sentence quoted, whatever it says
            out[number] = quoted[0]
            continue
        # a sentence stating the cited figures supports them; among those, the closest
        stated = {v for f in figures(" ".join(said)) for v in f.values}
        pool = [s for s in context.sentences
                if stated <= {v for f in figures(s[0]) for v in f.values}] or context.sentences  # fmt: skip
        scores = engine.similarity(" ".join(said), [t for t, _ in pool])
        out[number] = pool[int(scores.argmax())]
    return out


def _squashed(text: str) -> str:
    return "".join(text.split())


def _without_answer(
    analysis: Route,
    contexts: Sequence[Context],
    sources: Sequence[SourceText],
    evidence: Evidence,
    checked: CheckedText,
    engine: Engine,
    said_not_stated: bool,
) -> CheckedText:
    """Nothing verifiable was generated, or the model said the sources lack the answer: say the
    corpus does not state it (a figure was asked for and the evidence holds none, or the model
    said so and the best sentence does not name what was asked) or quote the sentence that best
    answers the question; either way cite it and invent nothing."""
    quotes = {c.number: best.text for c in contexts
              if (best := evidence.best(c.paper.id)) is not None}  # fmt: skip
    top = contexts[0]
    figure_missing = asks_for_figure(analysis.question) and not any(
        _DIGITS.search(c.passage) for c in contexts
    )  # a figure was asked for and the evidence holds none
    answered = top.number in quotes and states_what_is_asked(analysis.question, quotes[top.number])
    if (said_not_stated and not answered or figure_missing) and top.number in quotes:
        note = prompts.render("not_stated", analysis.language, paper=top.paper.short_name,
                              quote=quotes[top.number], number=top.number)  # fmt: skip
        text = _join_text([checked.text, note], analysis.language) if checked.text else note
        cited = tuple(dict.fromkeys((*checked.cited, top.number)))
        return replace(checked, text=text, cited=cited, extractive=not checked.text.strip())
    fallback = extractive_answer(analysis.question, sources, engine.checker, analysis.language,
                                 quotes=quotes)  # fmt: skip
    return replace(fallback, removed_citations=checked.removed_citations,
                   unsupported_sentences=checked.unsupported_sentences)  # fmt: skip


def build_messages(
    question: str, language: str, contexts: Sequence[Context], note: str = ""
) -> list[Message]:
    """The chat messages for a retrieval answer: the fixed system message first (its evaluated
    tokens are reused between questions), then the sources, the question and the form."""
    blocks = [
        prompts.render(
            "source",
            language,
            number=c.number,
            title=c.paper.short_name,
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


def _refusal(question: str, language: str, similarity: float) -> Iterator[str | Answer]:
    text = prompts.render("refusal", language)
    yield text
    yield Answer(question, text, NONE, similarity=similarity)


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
    sources = tuple(Source(p.id, p.title, _clip(_paper_passage(p), SNIPPET_CHARS), GRAPH_VIA,
                           GRAPH_WHY) for p in graph.papers)  # fmt: skip
    return Answer(question, graph.text, GRAPH, citations, sources)


def _citation(context: Context, support: tuple[str, int | None] | None) -> Citation:
    """A cited source: its page is the supporting sentence's (else the best evidence's)."""
    if support is None:
        return Citation(context.paper.id, context.paper.title, context.page)
    sentence, page = support
    return Citation(context.paper.id, context.paper.title, page, sentence)


def _rag_answer(
    question: str,
    analysis: Route,
    contexts: list[Context],
    checked: CheckedText,
    similarity: float,
    support: Mapping[int, tuple[str, int | None]] | None = None,
) -> Answer:
    by_number = {c.number: c for c in contexts}
    support = support or {}
    citations = tuple(_citation(by_number[n], support.get(n)) for n in checked.cited)
    sources = tuple(Source(c.paper.id, c.paper.title, _clip(c.passage, SNIPPET_CHARS), c.via,
                           c.why, c.page, c.section) for c in contexts)  # fmt: skip
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


def _outside_names_in(analysis: Route, contexts: Sequence[Context]) -> bool:
    """Every name the graph holds outside the corpus (unknown names, reference-only works)
    occurs as a whole word in the retrieved papers' entries or the passages shown (a PDF's
    body names its models: "Halyard-1.3B")."""
    names = [*analysis.unknown_names, *(w.label for w in analysis.works if w.kind == "work")]
    if not names or not contexts:
        return False
    text = " ".join(f"{entry_text(c.paper)} {c.passage}" for c in contexts)
    return all(
        re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", text, re.IGNORECASE)
        for n in names
    )


def _join_text(parts: Sequence[str], language: str = "en") -> str:
    return ("" if language == "zh" else " ").join(p.strip() for p in parts if p and p.strip())


def _tidy(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()

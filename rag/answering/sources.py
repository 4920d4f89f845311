"""The sources an answer is drawn from: the candidate papers, then the numbered contexts shown.

`find_candidates` takes the retrieval hits (restricted to the graph's candidates for a hybrid
question), a paper the question names first, with the best question-to-passage cosine (the
refusal signal); `with_evidence` picks each candidate's answering sentences
(`rag.answering.evidence`) and numbers the papers shown as `[P1]`, `[P2]`, … (`Context`).

A paper with a full text (a PDF) is found by its body passages too: the body passages retrieval
found for it add their sentences to the ones evidence is chosen from, and a context whose best
sentence is from one of them carries that passage's `page` and `section` (shown as `[P1, p. 4]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.answering.evidence import EVIDENCE_TOKENS, Evidence, select_evidence
from rag.answering.graph_answer import candidate_papers
from rag.answering.route import HYBRID, Route
from rag.checking.cite import SourceText
from rag.passages import Passage, paper_sentences
from rag.protocols import Retrieval, RetrievedHit

if TYPE_CHECKING:
    from kg.corpus import Paper
    from rag.answering.engine import Engine

__all__ = [
    "GRAPH_VIA",
    "GRAPH_WHY",
    "SOURCES_SHOWN",
    "Candidates",
    "Context",
    "contexts_for",
    "find_candidates",
    "search",
    "with_evidence",
]

# Papers whose sentences compete for the evidence budget (rag.answering.evidence decides how many are shown).
SOURCES_SHOWN = 3
_SEARCH_K = 8
# Body passages (of PDF papers) per candidate whose sentences compete as evidence.
BODY_PASSAGES = 3
GRAPH_VIA: tuple[str, ...] = ("graph",)
GRAPH_WHY = "listed by the knowledge graph"
NAMED_WHY = "named in the question"


@dataclass(frozen=True)
class Context:
    """One numbered source as shown to the model: `[P{number}]`."""

    number: int
    paper: Paper
    passage: str
    via: tuple[str, ...] = ()
    why: str = ""
    page: int | None = None
    """The PDF page the best evidence sentence is on (None: the paper has no PDF, or the
    sentence is its influence note)."""
    section: str | None = None
    sentences: tuple[tuple[str, int | None], ...] = ()
    """The evidence sentences shown for this source, each with its PDF page (None: not from a
    PDF)."""

    def source_text(self, organizations: tuple[str, ...], own_names: tuple[str, ...]) -> SourceText:
        return SourceText.from_paper(self.number, self.paper, self.passage, organizations,
                                     own_names)  # fmt: skip


@dataclass(frozen=True)
class Candidates:
    """The papers that may answer, before any sentence is chosen from them."""

    query: str
    chosen: dict[str, tuple[Paper, tuple[str, ...], str]]  # id → (paper, via, why)
    similarity: float  # the best question-to-passage cosine: the refusal signal
    body: dict[str, tuple[Passage, ...]] = field(default_factory=dict)
    """Per chosen paper, the body passages (with pages) retrieval found, best first."""


def contexts_for(
    engine: Engine, analysis: Route, budget: int | None = None
) -> tuple[list[Context], float, Evidence]:
    """The numbered sources for the prompt, the best question-to-passage cosine, and the chosen
    evidence (see `find_candidates` and `with_evidence`)."""
    return with_evidence(engine, find_candidates(engine, analysis), budget)


def find_candidates(engine: Engine, analysis: Route) -> Candidates:
    """The retrieval hits (restricted to the graph's candidates for a hybrid question), a paper
    the question names first."""
    by_id = engine.kg.corpus.by_id()
    query = analysis.question
    allowed: set[str] | None = None
    if analysis.kind == HYBRID:
        allowed = {p.id for p in candidate_papers(engine.kg, analysis)}
        if analysis.topic:
            query = f"{analysis.topic} {analysis.question}"
    found = engine.retriever.retrieve(query, _SEARCH_K if allowed is None else _SEARCH_K * 2)
    hits, similarity = list(found.hits), float(found.top_similarity)
    chosen: dict[str, tuple[Paper, tuple[str, ...], str]] = {}
    for work in analysis.works:
        if work.kind == "paper" and work.paper_id in by_id and len(chosen) < SOURCES_SHOWN:
            chosen[work.paper_id] = (by_id[work.paper_id], GRAPH_VIA, NAMED_WHY)
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
            pid: (by_id[pid], GRAPH_VIA, GRAPH_WHY) for pid in sorted(allowed)[:SOURCES_SHOWN]
        }
    return Candidates(query, chosen, similarity, _body_passages(found, set(chosen)))


def _body_passages(found: Retrieval, papers: set[str]) -> dict[str, tuple[Passage, ...]]:
    """The body passages (those with a page) retrieval ranked for each of `papers`, best first:
    every fused passage when the retrieval lists them, else each hit's own passage."""
    from rag.retrieval.retrieve import Retrieval as Ranked

    ranked: list[object] = [h.passage for h in found.passages] if isinstance(found, Ranked) else []
    ranked += [h.passage for h in found.hits]
    out: dict[str, list[Passage]] = {}
    for passage in ranked:
        if not isinstance(passage, Passage) or passage.page is None:
            continue
        mine = out.setdefault(passage.paper_id, [])
        if passage.paper_id in papers and passage not in mine and len(mine) < BODY_PASSAGES:
            mine.append(passage)
    return {pid: tuple(ps) for pid, ps in out.items() if ps}


def with_evidence(
    engine: Engine, candidates: Candidates, budget: int | None = None
) -> tuple[list[Context], float, Evidence]:
    """`rag.answering.evidence` picks the candidates' answering sentences and which of them to show."""
    chosen, query = candidates.chosen, candidates.query
    papers = [paper for paper, _, _ in chosen.values()]
    pools = {p.id: _sentence_pool(engine.sentences(p), candidates.body.get(p.id, ()),
                                  engine.abstract_page(p), bool(p.influence.strip()))
             for p in papers}  # fmt: skip
    evidence = select_evidence(query, [(p.id, pools[p.id][0]) for p in papers],
                               engine.similarity, budget or EVIDENCE_TOKENS)  # fmt: skip
    shown = [pid for pid in chosen if pid in evidence.papers]
    contexts = []
    for i, pid in enumerate(shown):
        best = evidence.best(pid)
        where = pools[pid][1].get(best.position) if best is not None else None
        page, section = where or (None, None)
        shown_sentences = tuple((e.text, pools[pid][1].get(e.position, (None, None))[0])
                                for e in sorted(evidence.sentences, key=lambda e: e.position)
                                if e.paper_id == pid)  # fmt: skip
        contexts.append(Context(i + 1, chosen[pid][0], evidence.text_for(pid), chosen[pid][1],
                                chosen[pid][2], page, section, shown_sentences))  # fmt: skip
    return contexts, candidates.similarity, evidence


def _sentence_pool(
    own: list[str],
    body: tuple[Passage, ...],
    abstract: tuple[int | None, str | None] = (None, None),
    has_influence: bool = False,
) -> tuple[list[str], dict[int, tuple[int | None, str | None]]]:
    """The paper's own sentences (influence note, abstract), then its retrieved body passages'
    in document order; and the (page, section) of each sentence from the PDF by its position:
    the abstract's sentences are on the page its Abstract section starts (`abstract`), the
    influence note is in no PDF."""
    sentences = list(own)
    where: dict[int, tuple[int | None, str | None]] = {}
    if abstract[0] is not None:
        where.update((i, abstract) for i in range(1 if has_influence else 0, len(own)))
    for passage in sorted(body, key=lambda p: p.ordinal):
        for sentence in paper_sentences("", passage.body):
            where[len(sentences)] = (passage.page, passage.section)
            sentences.append(sentence)
    return sentences, where


def search(engine: Engine, query: str, k: int) -> tuple[list[RetrievedHit], float]:
    """Hits and the top dense cosine of the query to any passage (the refusal signal)."""
    found = engine.retriever.retrieve(query, k)
    return list(found.hits), float(found.top_similarity)

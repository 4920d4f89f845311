"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank, then graph expansion.

Both retrievers score passages; a paper ranks by its best passage. Reciprocal-rank fusion
(`weight / (rrf_k + rank)` summed over retrievers) needs no score calibration between cosine and
BM25. After fusion, lineage neighbours and same-technique papers of the top hits are added below
the direct hits, each saying why ("parent of Code Llama").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from rag.embedding.embedders import Embedder
from rag.indexing.index import VectorIndex
from rag.passages import Passage
from rag.retrieval.bm25 import Bm25Index

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = [
    "SYSTEMS",
    "Hit",
    "PassageHit",
    "Retrieval",
    "RetrievalConfig",
    "Retriever",
    "System",
    "rrf",
]

System = Literal["dense", "bm25", "hybrid"]
SYSTEMS: tuple[System, ...] = ("dense", "bm25", "hybrid")
Neighbours = Callable[["KnowledgeGraph", str], list[tuple[str, str]]]
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion and expansion settings (general; not tuned to particular questions)."""

    rrf_k: float = 60.0
    dense_weight: float = 1.0
    bm25_weight: float = 0.3
    # A retriever votes only for its plausible papers: dense within `dense_window` cosine of its
    # best, BM25 at least `bm25_floor` × its best score. Without this, the long tail of weak
    # keyword matches (an English query against Chinese abstracts) outvotes a clear dense winner.
    dense_window: float = 0.1
    bm25_floor: float = 0.5
    candidates: int = 50
    expand_from: int = 3
    max_expansions: int = 3


@dataclass(frozen=True)
class PassageHit:
    """One passage in the fused ranking: each retriever's raw score (None: not retrieved) and
    the retrievers that voted for its paper."""

    passage: Passage
    score: float
    dense: float | None
    bm25: float | None
    via: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """A paper in the results. `via` ⊆ (dense, bm25, graph); `why` says why it is here."""

    paper_id: str
    title: str
    score: float
    via: tuple[str, ...]
    why: str
    snippet: str
    passage: Passage
    similarity: float = 0.0


@dataclass(frozen=True)
class Retrieval:
    """Everything one query retrieved: papers, passages, and the raw scores used for refusals."""

    query: str
    hits: tuple[Hit, ...]
    passages: tuple[PassageHit, ...]
    top_similarity: float
    top_bm25: float

    @property
    def direct(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.via != ("graph",))


@dataclass(frozen=True)
class _Scored:
    dense: dict[str, float]
    bm25: dict[str, float]


class Retriever:
    """Searches one index: `Retriever(kg, index, embedder)`; `kg=None` turns graph expansion off."""

    def __init__(
        self,
        kg: KnowledgeGraph | None,
        index: VectorIndex,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
        neighbours: Neighbours | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.kg = kg
        self.config = config or RetrievalConfig()
        self.bm25 = Bm25Index.build(index.passages)
        self.neighbours = neighbours or _graph_neighbours
        self._by_id = {p.id: p for p in index.passages}

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The top `k` papers for `query`, followed by graph-expanded ones."""
        return list(self.retrieve(query, k).hits)

    def retrieve(self, query: str, k: int = 5, expand: bool = True) -> Retrieval:
        scored = self._score(query)
        fused = self._fuse_passages(scored)
        direct = self._paper_hits(fused, k)
        hits = self._expand(direct) if expand and self.kg is not None else direct
        return Retrieval(
            query=query,
            hits=tuple(hits),
            passages=tuple(fused),
            top_similarity=max(scored.dense.values(), default=0.0),
            top_bm25=max(scored.bm25.values(), default=0.0),
        )

    def rankings(self, query: str) -> dict[System, list[str]]:
        """Paper ids best first for each system (dense only, BM25 only, hybrid), for evaluation."""
        scored = self._score(query)
        dense = _papers_by_best(scored.dense, self._by_id)
        bm25 = _papers_by_best(scored.bm25, self._by_id)
        hybrid = _papers_by_best(
            {p.passage.id: p.score for p in self._fuse_passages(scored)}, self._by_id
        )
        return {"dense": dense, "bm25": bm25, "hybrid": hybrid}

    # -------------------------------------------------------------- scoring

    def _score(self, query: str) -> _Scored:
        n = self.config.candidates
        vector = self.embedder.encode_queries([query])
        dense = {p.id: s for p, s in self.index.search(vector, n)[0]}
        bm25 = {p.id: s for p, s in self.bm25.search(query, n)}
        return _Scored(dense, bm25)

    def _fuse_passages(self, scored: _Scored) -> list[PassageHit]:
        """Passages by fused score. A paper's rank in each system comes from its best passage,
        so a paper split into several passages gets no extra weight; a tiny dense term orders
        the rest and a paper's own passages."""
        cfg = self.config
        dense_order = _papers_by_best(scored.dense, self._by_id)
        bm25_order = _papers_by_best(scored.bm25, self._by_id)
        dense_best = _best_by_paper(scored.dense, self._by_id)
        bm25_best = _best_by_paper(scored.bm25, self._by_id)
        votes: dict[str, list[str]] = {}
        fused: dict[str, float] = {}
        for name, order, best, weight, plausible in (
            ("dense", dense_order, dense_best, cfg.dense_weight,
             lambda s, top: s >= top - cfg.dense_window),
            ("bm25", bm25_order, bm25_best, cfg.bm25_weight,
             lambda s, top: s > 0 and s >= cfg.bm25_floor * top),
        ):  # fmt: skip
            top = best[order[0]] if order else 0.0
            for paper, value in rrf(order, cfg.rrf_k, weight).items():
                if plausible(best[paper], top):
                    fused[paper] = fused.get(paper, 0.0) + value
                    votes.setdefault(paper, []).append(name)
        hits = [
            PassageHit(
                passage=passage,
                score=fused.get(passage.paper_id, 0.0) + _tie_break(scored, passage.id),
                dense=scored.dense.get(passage.id),
                bm25=scored.bm25.get(passage.id),
                via=tuple(votes.get(passage.paper_id, ())),
            )
            for passage in self.index.passages
            if passage.id in scored.dense or passage.id in scored.bm25
        ]
        return sorted(hits, key=lambda h: -h.score)

    def _paper_hits(self, fused: Sequence[PassageHit], k: int) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[str] = set()
        for ph in fused:
            if ph.passage.paper_id in seen:
                continue
            seen.add(ph.passage.paper_id)
            hits.append(_direct_hit(ph))
            if len(hits) == k:
                break
        return hits

    # -------------------------------------------------------------- expansion

    def _expand(self, direct: list[Hit]) -> list[Hit]:
        """Label direct hits that are graph neighbours of better hits; append new neighbours."""
        assert self.kg is not None
        cfg = self.config
        hits = {h.paper_id: h for h in direct}
        added: list[Hit] = []
        floor = min((h.score for h in direct), default=1.0)
        first_passage = _first_passages(self.index.passages)
        for source in direct[: cfg.expand_from]:
            for paper_id, why in self.neighbours(self.kg, source.paper_id):
                if paper_id in hits and "graph" not in hits[paper_id].via:
                    if direct.index(hits[paper_id]) > direct.index(source):
                        hits[paper_id] = replace(
                            hits[paper_id],
                            via=(*hits[paper_id].via, "graph"),
                            why=f"{why}; {hits[paper_id].why}",
                        )
                elif (
                    paper_id not in hits
                    and paper_id in first_passage
                    and len(added) < cfg.max_expansions
                ):
                    passage = first_passage[paper_id]
                    hit = Hit(
                        paper_id=paper_id,
                        title=passage.title,
                        score=_below(floor, len(added) + 1),
                        via=("graph",),
                        why=why,
                        snippet=snippet(passage),
                        passage=passage,
                    )
                    hits[paper_id] = hit
                    added.append(hit)
        return [hits[h.paper_id] for h in direct] + added


def rrf(order: Sequence[str], k: float, weight: float = 1.0) -> dict[str, float]:
    """Reciprocal-rank scores of ids listed best first (rank 1 scores `weight / (k + 1)`)."""
    return {item: weight / (k + rank) for rank, item in enumerate(order, start=1)}


def snippet(passage: Passage, limit: int = SNIPPET_CHARS) -> str:
    """The start of the passage's abstract text, or its header when it has none."""
    body = passage.body if passage.header and passage.body else passage.text.replace("\n", " · ")
    body = " ".join(body.split())
    return body if len(body) <= limit else body[: limit - 1].rstrip() + "…"


def _direct_hit(ph: PassageHit) -> Hit:
    parts = []
    if ph.dense is not None:
        parts.append(f"dense similarity {ph.dense:.2f}")
    if ph.bm25 is not None:
        parts.append(f"BM25 {ph.bm25:.1f}")
    return Hit(
        paper_id=ph.passage.paper_id,
        title=ph.passage.title,
        score=ph.score,
        via=ph.via or (("dense",) if ph.dense is not None else ("bm25",)),
        why="matches the query: " + ", ".join(parts),
        snippet=snippet(ph.passage),
        passage=ph.passage,
        similarity=ph.dense or 0.0,
    )


def _best_by_paper(scores: dict[str, float], by_id: dict[str, Passage]) -> dict[str, float]:
    best: dict[str, float] = {}
    for pid, score in scores.items():
        paper = by_id[pid].paper_id
        best[paper] = max(best.get(paper, -np.inf), score)
    return best


def _papers_by_best(scores: dict[str, float], by_id: dict[str, Passage]) -> list[str]:
    """Paper ids ordered by their best passage's score."""
    best = _best_by_paper(scores, by_id)
    return sorted(best, key=lambda paper: -best[paper])


def _tie_break(scored: _Scored, passage_id: str) -> float:
    """A tiny dense-similarity term orders a paper's own passages without changing paper ranks."""
    return 1e-6 * scored.dense.get(passage_id, -1.0)


def _below(floor: float, n: int) -> float:
    """The score of the n-th expanded hit: under every direct hit, decreasing with n."""
    return floor * 0.5**n if floor > 0 else floor - n


def _first_passages(passages: Sequence[Passage]) -> dict[str, Passage]:
    first: dict[str, Passage] = {}
    for p in passages:
        first.setdefault(p.paper_id, p)
    return first


def _graph_neighbours(kg: KnowledgeGraph, paper_id: str) -> list[tuple[str, str]]:
    from kg.queries import neighbours_for_expansion

    return neighbours_for_expansion(kg, paper_id)

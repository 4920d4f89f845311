"""Retrieval evaluation: recall@1/3/5 and MRR of dense, BM25 and hybrid rankings on a question file.

The question file is JSONL, one `{"question": str, "gold": [str, ...], "part"?: "tune" | "report"}`
a line. A gold string is a paper id, or a case-insensitive substring of exactly one paper's title. A
question's rank in a system is the position of its best-ranked gold paper (None when none was
retrieved); recall@k is the share of its gold papers in the top k, averaged over questions; MRR
averages 1/rank. Scores are given for the whole file and for each part it holds (`report`: never
tuned on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.corpus import Corpus
from kg.tables import DATA_DIR
from rag.evaluation.questions import (
    PARTS,
    QuestionFileError,
    line_part,
    read_question_lines,
    resolve_gold,
)
from rag.retrieval.retrieve import SYSTEMS, Retriever, System

__all__ = [
    "DEV_QUESTIONS",
    "EvalQuestion",
    "PartScores",
    "QuestionFileError",
    "QuestionResult",
    "RetrievalReport",
    "SystemScores",
    "evaluate",
    "format_table",
    "load_questions",
    "resolve_gold",
    "report_json",
]

DEV_QUESTIONS = DATA_DIR / "eval" / "retrieval_dev.jsonl"
CUTOFFS = (1, 3, 5)


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    gold: tuple[str, ...]
    gold_ids: tuple[str, ...]
    line: int
    part: str | None = None


@dataclass(frozen=True)
class QuestionResult:
    question: EvalQuestion
    ranks: dict[System, int | None]
    recalls: dict[System, dict[int, float]]


@dataclass(frozen=True)
class SystemScores:
    recall: dict[int, float]
    mrr: float


@dataclass(frozen=True)
class PartScores:
    """The scores of one part of the question file."""

    n: int
    systems: dict[System, SystemScores]


@dataclass(frozen=True)
class RetrievalReport:
    n: int
    systems: dict[System, SystemScores]
    per_question: tuple[QuestionResult, ...]
    embedder: str

    def parts(self) -> dict[str, PartScores]:
        """The scores of each part the questions hold (`PARTS` order; none for a file without
        parts)."""
        out = {}
        for part in PARTS:
            results = [r for r in self.per_question if r.question.part == part]
            if results:
                out[part] = PartScores(len(results), _scores(results))
        return out


def load_questions(path: Path, corpus: Corpus) -> list[EvalQuestion]:
    """Parse and resolve a question file; raise `QuestionFileError` naming the bad line."""
    return [_question(where, record, corpus) for where, record in read_question_lines(path)]


def _question(where: str, record: Any, corpus: Corpus) -> EvalQuestion:
    question, gold = (
        (record.get("question"), record.get("gold")) if isinstance(record, dict) else (None, None)
    )
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f'{where}: needs a non-empty "question" string.')
    if not isinstance(gold, list) or not gold or not all(isinstance(g, str) for g in gold):
        raise QuestionFileError(f'{where}: needs "gold": a non-empty list of paper ids or titles.')
    ids = tuple(dict.fromkeys(resolve_gold(g, corpus, where) for g in gold))
    line = int(where.rsplit(":", 1)[1])
    return EvalQuestion(question, tuple(gold), ids, line, line_part(where, record))


def evaluate(retriever: Retriever, questions: Sequence[EvalQuestion]) -> RetrievalReport:
    """Rank every question with each system and score the rankings."""
    results = [_score_question(q, retriever.rankings(q.question)) for q in questions]
    return RetrievalReport(len(results), _scores(results), tuple(results), retriever.embedder.name)


def _score_question(question: EvalQuestion, rankings: dict[System, list[str]]) -> QuestionResult:
    ranks: dict[System, int | None] = {}
    recalls: dict[System, dict[int, float]] = {}
    gold = set(question.gold_ids)
    for system in SYSTEMS:
        order = rankings[system]
        positions = [i for i, paper in enumerate(order, start=1) if paper in gold]
        ranks[system] = min(positions, default=None)
        recalls[system] = {k: len(gold & set(order[:k])) / len(gold) for k in CUTOFFS}
    return QuestionResult(question, ranks, recalls)


def _scores(results: Sequence[QuestionResult]) -> dict[System, SystemScores]:
    return {system: _aggregate(results, system) for system in SYSTEMS}


def _aggregate(results: Sequence[QuestionResult], system: System) -> SystemScores:
    n = max(len(results), 1)
    recall = {k: sum(r.recalls[system][k] for r in results) / n for k in CUTOFFS}
    mrr = sum(1.0 / rank for r in results if (rank := r.ranks[system])) / n
    return SystemScores(recall, mrr)


def report_json(report: RetrievalReport) -> dict[str, Any]:
    """The documented `kgrag eval retrieval --json` shape: the whole file's scores and each
    question's ranks; when the questions carry parts, each row also names its part and `parts`
    holds each part's `n` and scores."""
    parts = report.parts()
    rows: list[dict[str, Any]] = [
        {"question": r.question.question, "gold": list(r.question.gold), "ranks": dict(r.ranks)}
        for r in report.per_question
    ]
    out: dict[str, Any] = {
        "n": report.n,
        "systems": _systems_json(report.systems),
        "per_question": rows,
    }
    if parts:
        for row, result in zip(rows, report.per_question, strict=True):
            row["part"] = result.question.part
        out["parts"] = {
            part: {"n": scores.n, "systems": _systems_json(scores.systems)}
            for part, scores in parts.items()
        }
    return out


def _systems_json(systems: dict[System, SystemScores]) -> dict[str, dict[str, float]]:
    return {
        system: {
            **{f"recall@{k}": round(scores.recall[k], 4) for k in CUTOFFS},
            "mrr": round(scores.mrr, 4),
        }
        for system, scores in systems.items()
    }


def format_table(report: RetrievalReport) -> str:
    """A plain-text table of the scores: per system, a row for each part, then the whole."""
    parts = report.parts()
    blocks = [*((part, scores.systems) for part, scores in parts.items()), ("all", report.systems)]
    header = (f"{'system':<8}{'part':<8}" + "".join(f"{f'recall@{k}':>10}" for k in CUTOFFS)
              + f"{'MRR':>8}")  # fmt: skip
    rows = [
        f"{system:<8}{part:<8}"
        + "".join(f"{systems[system].recall[k]:>10.3f}" for k in CUTOFFS)
        + f"{systems[system].mrr:>8.3f}"
        for system in report.systems
        for part, systems in blocks
    ]
    sizes = "".join(f", {part} {scores.n}" for part, scores in parts.items())
    title = f"retrieval on {report.n} questions{sizes}, embedder {report.embedder}"
    return "\n".join([title, header, *rows])


def misses(report: RetrievalReport, system: System = "hybrid") -> list[str]:
    """Questions whose gold paper did not come first in `system` (for the CLI's detail)."""
    lines = []
    for result in report.per_question:
        rank = result.ranks[system]
        if rank is None or rank > 1:
            lines.append(f"  rank {rank or '-'}: {result.question.question}")
    return lines

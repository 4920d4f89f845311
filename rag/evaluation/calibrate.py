"""Per-embedder calibration of the cosine thresholds: `python -m rag.evaluation.calibrate [--embedder NAME]`.

Each embedder spreads cosines its own way, so the refusal and support thresholds
(`rag.models.catalogue.Thresholds`, in the embedder's spec) hold for one embedder only. This scores the
`tune` part of the shipped eval sets (`data/eval/*.jsonl`; the `report` part is never tuned on) over
the shipped corpus with one embedder and writes the per-question scores, grouped, to
`data/calibration/<embedder>.json`: the data its thresholds were chosen on, and the values a fixed
rule suggests from them (for a new embedder, the values to put in its spec). The `report` part is
scored too, under `"report"`, with the report questions the suggested values would misjudge: how
the thresholds hold on questions they were not fitted on.

Refusal: each question's cosine to its best passage (what `Retriever.retrieve` reports as
`top_similarity`), in three groups: `out_of_domain` (route none, naming nothing outside the
corpus), `near_miss` (route none, naming something the corpus does not hold) and `in_corpus`
(route rag): the answer sets' questions, asked as `kgrag ask` is. Support: each retrieval question (a
paraphrase of one paper's content, standing in for an answer sentence) against its own paper's
source as the citation checker measures it (`SupportChecker.closeness`: the cosine to the source
text — title, organisations, date, entry — or to its closest sentence, whichever is higher) and
against the closest other paper's. The suggested values follow `RULE`.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.tables import DATA_DIR
from rag.evaluation.questions import QuestionFileError

__all__ = [
    "CALIBRATION_DIR",
    "FORMAT",
    "RULE",
    "Scored",
    "calibrate",
    "calibration_path",
    "main",
    "misjudged",
    "suggest",
]

FORMAT = "kgrag-calibration v1"
CALIBRATION_DIR = DATA_DIR / "calibration"
ANSWER_SETS = ("answers_dev.jsonl", "answer_facts_dev.jsonl")
RETRIEVAL_SET = "retrieval_dev.jsonl"
PART = "tune"  # thresholds are fitted on the tune part only: the report part stays unseen
REPORT = "report"  # scored after fitting, to show how the thresholds hold on unseen questions
GROUPS = ("out_of_domain", "near_miss", "in_corpus")
RULE = (
    "min_similarity: midway between the highest out-of-domain and the lowest in-corpus score; "
    "named_outside_similarity: midway between the highest near miss and the highest in-corpus "
    "score; support: midway between the mean own-paper and the mean closest-other-paper score; "
    "extractive_margin is not calibrated (a small gap between two sources' best sentences)"
)


@dataclass(frozen=True)
class Scored:
    """One question's score: the cosine to its best passage (refusal) or to a paper (support)."""

    question: str
    source: str
    score: float
    group: str
    other: float | None = None
    paper: str = ""


def calibration_path(embedder: str) -> Path:
    """Where an embedder's calibration file lives (`data/calibration/<embedder>.json`; a
    folder-named embedder's name is made a file name)."""
    return CALIBRATION_DIR / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', embedder).strip('-')}.json"


def calibrate(embedder: Any) -> dict[str, Any]:
    """Score the shipped eval sets with `embedder` (an `Embedder`): the calibration file's JSON."""
    from kg.corpus import SHIPPED_CORPUS, load_corpus
    from kg.graph import build_graph
    from rag.evaluation.answers import load_questions
    from rag.evaluation.retrieval import load_questions as load_retrieval_questions
    from rag.passages import passages

    corpus = load_corpus(SHIPPED_CORPUS)
    kg = build_graph(corpus)
    texts = [p.text for p in passages(corpus)]
    documents = embedder.encode_documents(texts)
    asked: list[tuple[str, str, str, str | None]] = []  # (question, file, group, part)
    for name in ANSWER_SETS:
        for q in load_questions(DATA_DIR / "eval" / name):
            group = _refusal_group(kg, q.question, q.route)
            if group:
                asked.append((q.question, name, group, q.part))
    best = (embedder.encode_queries([q for q, *_ in asked]) @ documents.T).max(axis=1)
    scored = [(Scored(q, f, _round(s), g), p) for (q, f, g, p), s in zip(asked, best, strict=True)]
    refusal, held_refusal = ([s for s, p in scored if p == part] for part in (PART, REPORT))
    retrieval = load_retrieval_questions(DATA_DIR / "eval" / RETRIEVAL_SET, corpus)
    support, held_support = (
        _support(embedder, corpus, [(q.question, q.gold_ids) for q in retrieval if q.part == part])
        for part in (PART, REPORT)
    )
    suggested = suggest(refusal, support)
    return {
        "format": FORMAT,
        "embedder": embedder.name,
        "dim": embedder.dim,
        "corpus": SHIPPED_CORPUS.name,
        "corpus_sha256": corpus.sha256,
        "question_sets": [f"eval/{name}" for name in (*ANSWER_SETS, RETRIEVAL_SET)],
        "part": PART,
        "rule": RULE,
        "suggested": suggested,
        "refusal": _groups(refusal, GROUPS),
        "support": _groups(support, ("own",)),
        REPORT: {
            "misjudged": misjudged(suggested, held_refusal, held_support),
            "refusal": _groups(held_refusal, GROUPS),
            "support": _groups(held_support, ("own",)),
        },
    }


def suggest(refusal: Sequence[Scored], support: Sequence[Scored]) -> dict[str, float]:
    """The thresholds `RULE` gives for these scores.

    Example:
        >>> r = [Scored("a", "", 0.1, "out_of_domain"), Scored("b", "", 0.4, "near_miss"),
        ...      Scored("c", "", 0.5, "in_corpus"), Scored("d", "", 0.8, "in_corpus")]
        >>> suggest(r, [Scored("e", "", 0.6, "own", other=0.3)])
        {'min_similarity': 0.3, 'named_outside_similarity': 0.6, 'support': 0.45}
    """
    by_group = {g: [s.score for s in refusal if s.group == g] for g in GROUPS}
    own = [s.score for s in support]
    other = [s.other for s in support if s.other is not None]
    empty = [g for g, scores in {**by_group, "support": own}.items() if not scores]
    if empty:
        raise QuestionFileError(f"no {PART} question falls in {', '.join(empty)}: add one to the "
                         f"{PART} part of data/eval/ before calibrating.")  # fmt: skip
    return {
        "min_similarity": _round((max(by_group["out_of_domain"]) + min(by_group["in_corpus"])) / 2),
        "named_outside_similarity": _round(
            (max(by_group["near_miss"]) + max(by_group["in_corpus"])) / 2
        ),
        "support": _round((statistics.fmean(own) + statistics.fmean(other)) / 2),
    }


def misjudged(
    thresholds: dict[str, float], refusal: Sequence[Scored], support: Sequence[Scored]
) -> dict[str, int]:
    """How many questions `thresholds` put on the wrong side: in-corpus ones refused,
    out-of-domain ones or near misses answered, own papers not supporting.

    Example:
        >>> t = {"min_similarity": 0.3, "named_outside_similarity": 0.6, "support": 0.45}
        >>> misjudged(t, [Scored("a", "", 0.2, "in_corpus"), Scored("b", "", 0.7, "near_miss")],
        ...           [Scored("c", "", 0.5, "own", other=0.3)])
        {'in_corpus_refused': 1, 'out_of_domain_answered': 0, 'near_miss_answered': 1, 'own_unsupported': 0}
    """

    def count(group: str, wrong: Any) -> int:
        return sum(bool(wrong(s.score)) for s in refusal if s.group == group)

    low, named = thresholds["min_similarity"], thresholds["named_outside_similarity"]
    return {
        "in_corpus_refused": count("in_corpus", lambda x: x < low),
        "out_of_domain_answered": count("out_of_domain", lambda x: x >= low),
        "near_miss_answered": count("near_miss", lambda x: x >= named),
        "own_unsupported": sum(s.score < thresholds["support"] for s in support),
    }


def _refusal_group(kg: Any, question: str, expected_route: str) -> str:
    """Which refusal group a question of an answer set falls in ('' for graph and hybrid)."""
    from rag.answering.route import route

    if expected_route == "none":
        return "near_miss" if route(kg, question).names_outside_corpus else "out_of_domain"
    return "in_corpus" if expected_route == "rag" else ""


def _support(
    embedder: Any, corpus: Any, questions: Sequence[tuple[str, tuple[str, ...]]]
) -> list[Scored]:
    """Each single-paper question against its paper's source text and the closest other one."""
    from rag.checking.cite import SourceText, SupportChecker

    papers = corpus.papers
    sources = [SourceText.from_paper(i + 1, p) for i, p in enumerate(papers)]
    single = [(q, gold[0]) for q, gold in questions if len(gold) == 1]
    # the checker's own measure: the whole source or its closest sentence, whichever is closer
    sims = SupportChecker(embedder, threshold=0.0).closeness([q for q, _ in single], sources)
    position = {p.id: i for i, p in enumerate(papers)}
    out = []
    for (question, paper_id), row in zip(single, sims, strict=True):
        own = position[paper_id]
        other = max(float(s) for i, s in enumerate(row) if i != own)
        out.append(
            Scored(question, RETRIEVAL_SET, _round(row[own]), "own", _round(other), paper_id)
        )
    return out


def _groups(scored: Sequence[Scored], groups: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in groups:
        rows = [s for s in scored if s.group == group]
        if not rows:
            continue
        scores = [s.score for s in rows]
        entry: dict[str, Any] = {"range": [min(scores), max(scores)], "mean": _mean(scores)}
        others = [s.other for s in rows if s.other is not None]
        if others:
            entry["closest_other_range"] = [min(others), max(others)]
            entry["closest_other_mean"] = _mean(others)
        entry["questions"] = [_row(s) for s in rows]
        out[group] = entry
    return out


def _row(s: Scored) -> dict[str, Any]:
    row: dict[str, Any] = {"question": s.question, "set": s.source, "score": s.score}
    if s.paper:
        row["paper"] = s.paper
    if s.other is not None:
        row["closest_other"] = s.other
    return row


def _mean(values: Sequence[float]) -> float:
    return _round(statistics.fmean(values))


def _round(value: Any) -> float:
    return round(float(value), 4)


def main(argv: Sequence[str] | None = None) -> int:
    from kg.fsutil import atomic_write_text
    from rag.embedding.embedders import load_embedder
    from rag.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m rag.evaluation.calibrate", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--embedder", help="embedder spec (default: KGRAG_EMBEDDER or EmbeddingGemma)"
    )
    parser.add_argument(
        "--out", type=Path, help="file to write (default: data/calibration/<embedder>.json)"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env(embedder=args.embedder)
    embedder = load_embedder(settings.embedder, settings.embedder_backend)
    data = calibrate(embedder)
    out = args.out or calibration_path(embedder.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    print(f"{out}: suggested {data['suggested']} (fitted on the {PART} part); "
          f"misjudged in the {REPORT} part: {data[REPORT]['misjudged']}")  # fmt: skip
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""The answer evaluation harness behind `kgrag eval answers`.

Question file: JSONL, one `{"question", "gold": [paper id or title substring], "route",
"expect_any"?: [str]}` per line; `route` is graph | rag | hybrid | none ("none": the corpus
does not cover the question and kgrag must refuse).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.errors import KgragError
from kg.tables import DATA_DIR
from rag.answer import Answer, ask
from rag.route import detect_language

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from rag.answer import Engine

__all__ = [
    "EvalReport",
    "Question",
    "QuestionResult",
    "default_questions_path",
    "evaluate",
    "format_report",
    "load_questions",
]

ROUTES = ("graph", "rag", "hybrid", "none")
_CITATION = re.compile(r"\[P(\d+)\]")
_PARENS = re.compile(r"[(（][^()（）]*[)）]")
_QUOTE = re.compile(r"“[^”]*”")  # quoted source sentences keep the corpus's language


@dataclass(frozen=True)
class Question:
    question: str
    gold: tuple[str, ...]
    route: str
    expect_any: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    gold_ids: tuple[str, ...]
    answer: Answer
    seconds: float

    @property
    def cited(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.answer.citations)

    @property
    def refused(self) -> bool:
        return self.answer.route == "none"

    @property
    def language_ok(self) -> bool:
        names = [s.title for s in self.answer.sources]
        expected = detect_language(self.question.question)
        return answer_language(self.answer.text, names) == expected

    @property
    def fact_ok(self) -> bool | None:
        if not self.question.expect_any:
            return None
        text = self.answer.text.casefold()
        return any(e.casefold() in text for e in self.question.expect_any)

    @property
    def invented(self) -> int:
        """Citations left in the final text to a number that is not among its sources."""
        numbers = [int(n) for n in _CITATION.findall(self.answer.text)]
        return sum(1 for n in numbers if not 1 <= n <= len(self.answer.sources))


@dataclass(frozen=True)
class EvalReport:
    results: tuple[QuestionResult, ...]

    def metrics(self) -> dict[str, float]:
        answered = [r for r in self.results if r.question.route != "none"]
        outside = [r for r in self.results if r.question.route == "none"]
        cited = [(c, r) for r in answered for c in r.cited]
        gold = [(g, r) for r in answered for g in r.gold_ids]
        graph = [r for r in self.results if r.question.route == "graph"]
        facts = [r.fact_ok for r in self.results if r.fact_ok is not None]
        all_cited = sum(len(r.cited) for r in self.results)
        return {
            "citation_precision": _ratio(sum(c in r.gold_ids for c, r in cited), len(cited)),
            "citation_recall": _ratio(sum(g in r.cited for g, r in gold), len(gold)),
            "refusal_accuracy": _ratio(
                sum(r.refused and not r.cited for r in outside), len(outside)
            ),  # fmt: skip
            "false_refusals": float(sum(r.refused for r in answered)),
            "route_accuracy": _ratio(
                sum(r.answer.route == r.question.route for r in self.results), len(self.results)
            ),  # fmt: skip
            "structural_complete": _ratio(
                sum(set(r.gold_ids) <= set(r.cited) for r in graph), len(graph)
            ),  # fmt: skip
            # a structural answer is exact when it came from the graph citing exactly the gold
            "exactness": _ratio(
                sum(r.answer.route == "graph" and set(r.gold_ids) == set(r.cited) for r in graph),
                len(graph),
            ),  # fmt: skip
            "language_match": _ratio(sum(r.language_ok for r in self.results), len(self.results)),
            "key_fact_match": _ratio(sum(bool(f) for f in facts), len(facts)),
            "invented_citation_rate": _ratio(sum(r.invented for r in self.results), all_cited),
            "removed_citations": float(sum(r.answer.removed_citations for r in self.results)),
            "unsupported_sentences": float(
                sum(r.answer.unsupported_sentences for r in self.results)
            ),  # fmt: skip
            "extractive_answers": float(sum(r.answer.extractive for r in self.results)),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "n": len(self.results),
            "metrics": self.metrics(),
            "per_question": [
                {
                    "question": r.question.question,
                    "expected_route": r.question.route,
                    "route": r.answer.route,
                    "gold": list(r.gold_ids),
                    "cited": list(r.cited),
                    "language_ok": r.language_ok,
                    "fact_ok": r.fact_ok,
                    "similarity": r.answer.similarity,
                    "removed_citations": r.answer.removed_citations,
                    "unsupported_sentences": r.answer.unsupported_sentences,
                    "extractive": r.answer.extractive,
                    "seconds": round(r.seconds, 2),
                    "answer": r.answer.text,
                }
                for r in self.results
            ],
        }


def default_questions_path() -> Path:
    return DATA_DIR / "eval" / "answers_dev.jsonl"


def load_questions(path: Path | str) -> list[Question]:
    """Read a JSONL question file; a malformed line is an error naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KgragError(f"cannot read the question file {path}: {exc.strerror or exc}.") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            question = Question(
                question=str(raw["question"]),
                gold=tuple(str(g) for g in raw.get("gold", [])),
                route=str(raw["route"]),
                expect_any=tuple(str(e) for e in raw.get("expect_any", [])),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise KgragError(f"{path}:{number}: not a question line ({exc}); each line must be "
                             '{"question", "gold": [...], "route", "expect_any"?: [...]}.') from exc  # fmt: skip
        if question.route not in ROUTES:
            raise KgragError(f"{path}:{number}: route must be one of {', '.join(ROUTES)}.")
        questions.append(question)
    if not questions:
        raise KgragError(f"{path} holds no questions.")
    return questions


def resolve_gold(corpus: Corpus, gold: Sequence[str]) -> tuple[str, ...]:
    """Paper ids for gold entries given as ids or case-insensitive title substrings."""
    ids = {p.id for p in corpus.papers}
    out = []
    for entry in gold:
        if entry in ids:
            out.append(entry)
            continue
        matches = [p.id for p in corpus.papers if entry.casefold() in p.title.casefold()]
        if len(matches) != 1:
            raise KgragError(f"gold {entry!r} matches {len(matches)} papers; use a paper id "
                             "(`kgrag papers --json` lists them).")  # fmt: skip
        out.append(matches[0])
    return tuple(out)


def evaluate(questions: Sequence[Question], engine: Engine, progress: bool = True) -> EvalReport:
    """Ask every question and collect the results (the LLM runs for rag and hybrid routes)."""
    from tqdm import tqdm

    results = []
    for q in tqdm(questions, desc="Answering", unit="question", disable=not progress):
        gold = resolve_gold(engine.kg.corpus, q.gold)
        start = time.perf_counter()
        answer = ask(q.question, engine)
        results.append(QuestionResult(q, gold, answer, time.perf_counter() - start))
    return EvalReport(tuple(results))


def answer_language(text: str, names: Sequence[str] = ()) -> str:
    """`zh` when the answer is mainly Chinese prose, else `en`. Paper titles, quoted source
    sentences and parenthesised details (organisations, dates) are names, not prose."""
    prose = _QUOTE.sub("", _CITATION.sub("", text))
    for name in sorted(names, key=len, reverse=True):
        prose = prose.replace(name, " ")
    prose = _PARENS.sub(" ", prose)
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in prose)
    # English prose is carried by lowercase words; capitalised ones are mostly names.
    latin_words = len(re.findall(r"(?<![A-Za-z])[a-z]{2,}", prose))
    return "zh" if cjk >= max(2, latin_words) else "en"


def format_report(report: EvalReport) -> str:
    metrics = report.metrics()
    lines = [f"Answers evaluated: {len(report.results)} questions", ""]
    lines += [f"  {name:<24} {value:.3f}" for name, value in metrics.items()]
    lines += ["", "Per question (expected → got, cited, sim):"]
    for r in report.results:
        flag = "ok " if r.answer.route == r.question.route else "ROUTE"
        sim = f"{r.answer.similarity:.3f}" if r.answer.similarity is not None else "  -  "
        lines.append(f"  {flag} {r.question.route:>6} → {r.answer.route:<6} sim {sim} "
                     f"{r.seconds:5.1f}s  {r.question.question}  cited={list(r.cited)}")  # fmt: skip
    return "\n".join(lines) + "\n"


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / denominator if denominator else 1.0

"""The answer evaluation harness behind `kgrag eval answers`.

Question file: JSONL, one `{"question", "gold": [paper id or title substring], "route",
"expect_any"?: [str], "forbid"?: [str], "kind"?: str}` per line; `route` is graph | rag | hybrid |
none ("none": the corpus does not cover the question and kgrag must refuse). `expect_any` holds the
asked fact in its written forms (one must appear); `forbid` the plausible inventions that must
not (unstated facts, false premises, injected claims); `kind` (fact | unstated | false_premise |
injection | …) groups the report; `part` (tune | report) says whether the line may be tuned on.
Metrics are given for the whole file and for each part it holds (`report`: never tuned on).

`evaluate(..., baseline="naive")` also runs the naive pipeline (`rag.evaluation.naive`) on every question
that is not out of corpus, in the same process, and reports both side by side.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.errors import KgragError
from kg.lang import han_count
from kg.tables import DATA_DIR
from rag.answering.pipeline import Answer, stream
from rag.answering.route import detect_language
from rag.checking.citations import CITATION, cited_numbers
from rag.evaluation.questions import PARTS, QuestionFileError, line_part, read_question_lines
from rag.evaluation.questions import resolve_gold as resolve_one

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from rag.answering.pipeline import Engine

__all__ = [
    "states",
    "Comparison",
    "EvalReport",
    "Question",
    "QuestionResult",
    "default_questions_path",
    "compare",
    "evaluate",
    "format_comparison",
    "format_report",
    "load_questions",
]

ROUTES = ("graph", "rag", "hybrid", "none")
# A forbidden phrase right after a negation is the correction of the claim, not the claim:
# "published in 2023-03, not in 2021" does not say "in 2021", nor "by Google, not by
# Anthropic" that Anthropic published it.
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot(?:\s+(?:by|in|from))?|\bnever|\bno longer|\brather than|\binstead of|不是|并非|"
    r"而非|并不是|不)\s*$",
    re.I,
)
_PARENS = re.compile(r"[(（][^()（）]*[)）]")
_QUOTE = re.compile(r"“[^”]*”")  # quoted source sentences keep the corpus's language


@dataclass(frozen=True)
class Question:
    question: str
    gold: tuple[str, ...]
    route: str
    expect_any: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    kind: str = ""
    part: str | None = None


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    gold_ids: tuple[str, ...]
    answer: Answer
    seconds: float
    first_token_seconds: float | None = None

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
    def forbidden(self) -> tuple[str, ...]:
        """The `forbid` strings the answer states (each one an invented or injected claim)."""
        return tuple(f for f in self.question.forbid if states(self.answer.text, f))

    @property
    def invented(self) -> int:
        """Citations left in the final text to a number that is not among its sources."""
        numbers = cited_numbers(self.answer.text, repeats=True)
        return sum(1 for n in numbers if not 1 <= n <= len(self.answer.sources))


@dataclass(frozen=True)
class EvalReport:
    results: tuple[QuestionResult, ...]

    def parts(self) -> dict[str, EvalReport]:
        """The report of each part the questions hold (`PARTS` order; none for a file without
        parts)."""
        out = {}
        for part in PARTS:
            results = tuple(r for r in self.results if r.question.part == part)
            if results:
                out[part] = EvalReport(results)
        return out

    def metrics(self) -> dict[str, float]:
        answered = [r for r in self.results if r.question.route != "none"]
        outside = [r for r in self.results if r.question.route == "none"]
        cited = [(c, r) for r in answered for c in r.cited]
        gold = [(g, r) for r in answered for g in r.gold_ids]
        graph = [r for r in self.results if r.question.route == "graph"]
        facts = [r.fact_ok for r in self.results if r.fact_ok is not None]
        kinds = {r.question.kind for r in self.results if r.question.kind}
        by_kind = {
            f"{kind}_key_fact": _ratio(
                sum(bool(r.fact_ok) for r in self.results if r.question.kind == kind),
                sum(r.fact_ok is not None for r in self.results if r.question.kind == kind),
            )
            for kind in sorted(kinds)
            if any(r.fact_ok is not None for r in self.results if r.question.kind == kind)
        }
        forbidding = [r for r in self.results if r.question.forbid]
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
            "key_fact_count": float(sum(bool(f) for f in facts)),
            **by_kind,
            "forbidden_claims": float(sum(bool(r.forbidden) for r in forbidding)),
            "gold_cited": _ratio(
                sum(bool(set(r.gold_ids) & set(r.cited)) for r in answered if r.gold_ids),
                sum(bool(r.gold_ids) for r in answered),
            ),  # fmt: skip
            "invented_citation_rate": _ratio(sum(r.invented for r in self.results), all_cited),
            "removed_citations": float(sum(r.answer.removed_citations for r in self.results)),
            "unsupported_sentences": float(
                sum(r.answer.unsupported_sentences for r in self.results)
            ),  # fmt: skip
            "extractive_answers": float(sum(r.answer.extractive for r in self.results)),
        }

    def to_json(self) -> dict[str, Any]:
        """The documented `kgrag eval answers --json` shape; a file whose lines carry parts also
        gets each row's `part` and `parts`: each part's `n` and metrics."""
        out: dict[str, Any] = {
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
                    "first_token_seconds": _rounded(r.first_token_seconds),
                    "kind": r.question.kind,
                    "forbidden": list(r.forbidden),
                    "answer": r.answer.text,
                }
                for r in self.results
            ],
        }
        parts = self.parts()
        if parts:  # only a file whose lines carry parts: the shape of any other stays as it was
            for row, result in zip(out["per_question"], self.results, strict=True):
                row["part"] = result.question.part
            out["parts"] = {
                part: {"n": len(report.results), "metrics": report.metrics()}
                for part, report in parts.items()
            }
        return out


@dataclass(frozen=True)
class Comparison:
    """kgrag and a baseline on the same questions, from one run."""

    kgrag: EvalReport
    baseline: EvalReport
    baseline_name: str

    def to_json(self) -> dict[str, Any]:
        out = self.kgrag.to_json()
        out["baseline"] = {"name": self.baseline_name, **self.baseline.to_json()}
        return out


def default_questions_path() -> Path:
    return DATA_DIR / "eval" / "answers_dev.jsonl"


def states(text: str, phrase: str) -> bool:
    """`text` states `phrase` somewhere other than right after a negation (case-insensitive)."""
    folded, wanted = text.casefold(), phrase.casefold()
    start = folded.find(wanted)
    while start >= 0:
        if not _NEGATION_BEFORE.search(folded[max(0, start - 16) : start]):
            return True
        start = folded.find(wanted, start + 1)
    return False


def load_questions(path: Path | str) -> list[Question]:
    """Read a JSONL question file (`rag.evaluation.questions`); a malformed line is a
    `QuestionFileError` naming the file and line."""
    return [_question(where, record) for where, record in read_question_lines(path)]


def _question(where: str, raw: Any) -> Question:
    try:
        question = Question(
            question=str(raw["question"]),
            gold=tuple(str(g) for g in raw.get("gold", [])),
            route=str(raw["route"]),
            expect_any=tuple(str(e) for e in raw.get("expect_any", [])),
            forbid=tuple(str(f) for f in raw.get("forbid", [])),
            kind=str(raw.get("kind", "")),
            part=line_part(where, raw),
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise QuestionFileError(f"{where}: not a question line ({exc}); each line must be "
                                '{"question", "gold": [...], "route", "expect_any"?: [...]}.') from exc  # fmt: skip
    if question.route not in ROUTES:
        raise QuestionFileError(f"{where}: route must be one of {', '.join(ROUTES)}.")
    return question


def resolve_gold(corpus: Corpus, gold: Sequence[str]) -> tuple[str, ...]:
    """Paper ids for gold entries given as ids or case-insensitive title substrings
    (`rag.evaluation.questions.resolve_gold`, entry by entry)."""
    return tuple(resolve_one(entry, corpus) for entry in gold)


def evaluate(
    questions: Sequence[Question],
    engine: Engine,
    progress: bool = True,
    answerer: Callable[[str, Engine], Iterator[str | Answer]] | None = None,
) -> EvalReport:
    """Ask every question and collect the results (the LLM runs for rag and hybrid routes).
    `answerer` replaces kgrag's `stream` (the naive baseline)."""
    from tqdm import tqdm

    run = answerer or (lambda question, eng: stream(question, eng))
    results = []
    for q in tqdm(questions, desc="Answering", unit="question", disable=not progress):
        gold = resolve_gold(engine.kg.corpus, q.gold)
        answer, seconds, first = timed(run(q.question, engine))
        results.append(QuestionResult(q, gold, answer, seconds, first))
    return EvalReport(tuple(results))


def compare(
    questions: Sequence[Question], engine: Engine, baseline: str, progress: bool = True
) -> Comparison:
    """kgrag on every question, then the baseline on the same questions (out-of-corpus ones
    are left out of the baseline: it has no refusal), in one process."""
    from rag.evaluation.naive import naive_stream

    if baseline != "naive":
        raise KgragError(f"unknown baseline {baseline!r}: the only baseline is `naive`.")
    ours = evaluate(questions, engine, progress)
    covered = [q for q in questions if q.route != "none"]
    theirs = evaluate(covered, engine, progress, answerer=naive_stream)
    return Comparison(ours, theirs, baseline)


def timed(items: Iterator[str | Answer]) -> tuple[Answer, float, float | None]:
    """Drain an answer stream: the Answer, total seconds, seconds to the first text piece."""
    start = time.perf_counter()
    first: float | None = None
    answer: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
        elif first is None and item.strip():
            first = time.perf_counter() - start
    if answer is None:  # pragma: no cover - every stream ends with an Answer
        raise RuntimeError("the answer stream ended without an Answer")
    return answer, time.perf_counter() - start, first


def answer_language(text: str, names: Sequence[str] = ()) -> str:
    """`zh` when the answer is mainly Chinese prose, else `en`. Paper titles, quoted source
    sentences and parenthesised details (organisations, dates) are names, not prose."""
    prose = _QUOTE.sub("", CITATION.sub("", text))
    for name in sorted(names, key=len, reverse=True):
        prose = prose.replace(name, " ")
    prose = _PARENS.sub(" ", prose)
    cjk = han_count(prose)
    # English prose is carried by lowercase words; capitalised ones are mostly names.
    latin_words = len(re.findall(r"(?<![A-Za-z])[a-z]{2,}", prose))
    return "zh" if cjk >= max(2, latin_words) else "en"


def format_report(report: EvalReport) -> str:
    """The metrics, a column for each part and one for the whole, then a line per question."""
    columns = {**{p: r.metrics() for p, r in report.parts().items()}, "all": report.metrics()}
    sizes = "".join(f", {p} {len(r.results)}" for p, r in report.parts().items())
    lines = [f"Answers evaluated: {len(report.results)} questions{sizes}", ""]
    lines.append(f"  {'metric':<24}" + "".join(f" {name:>8}" for name in columns))
    for metric in columns["all"]:
        lines.append(f"  {metric:<24}" + "".join(_cell(c.get(metric)) for c in columns.values()))
    lines += ["", "Per question (expected → got, cited, sim):"]
    for r in report.results:
        flag = "ok " if r.answer.route == r.question.route else "ROUTE"
        sim = f"{r.answer.similarity:.3f}" if r.answer.similarity is not None else "  -  "
        lines.append(f"  {flag} {r.question.route:>6} → {r.answer.route:<6} sim {sim} "
                     f"{r.seconds:5.1f}s  {r.question.question}  cited={list(r.cited)}")  # fmt: skip
    return "\n".join(lines) + "\n"


def format_comparison(comparison: Comparison) -> str:
    """Both systems' metrics side by side, for each part and the whole, then kgrag's
    per-question lines."""
    name = comparison.baseline_name
    ours = {**comparison.kgrag.parts(), "all": comparison.kgrag}
    theirs = {**comparison.baseline.parts(), "all": comparison.baseline}
    blocks = {part: (report.metrics(), theirs[part].metrics() if part in theirs else {})
              for part, report in ours.items()}  # fmt: skip
    lines = [f"Answers evaluated: {len(comparison.kgrag.results)} questions "
             f"(baseline `{name}` on the {len(comparison.baseline.results)} in-corpus ones)", "",
             f"  {'':<28}" + "".join(f" {part:>17}" for part in blocks),
             f"  {'metric':<28}" + f" {'kgrag':>8} {name:>8}" * len(blocks)]  # fmt: skip
    for metric in blocks["all"][0]:
        cells = [_cell(m.get(metric)) + _cell(t.get(metric)) for m, t in blocks.values()]
        lines.append(f"  {metric:<28}" + "".join(cells))
    for label, report in (("kgrag", comparison.kgrag), (name, comparison.baseline)):
        timing = _timing(report)
        lines.append(f"  {label:<8} answer p50 {timing[0]:.1f} s, first text p50 {timing[1]:.1f} s "
                     "(retrieval questions)")  # fmt: skip
    return "\n".join(lines) + "\n\n" + format_report(comparison.kgrag).split("\n\n", 2)[-1]


def _timing(report: EvalReport) -> tuple[float, float]:
    import statistics

    rows = [r for r in report.results if r.answer.route not in ("graph", "none")]
    if not rows:
        return 0.0, 0.0
    firsts = [r.first_token_seconds or r.seconds for r in rows]
    return statistics.median(r.seconds for r in rows), statistics.median(firsts)


def _cell(value: float | None) -> str:
    """A table cell: the value to three places, or `-` where the metric does not apply."""
    return f" {value:8.3f}" if value is not None else f" {'-':>8}"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / denominator if denominator else 1.0

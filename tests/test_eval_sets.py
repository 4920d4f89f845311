"""The answer dev sets can fail: key facts are the asked figure or name, never words of the
question; every paper is asked about; unstated and false-premise questions list what must not
appear. Every dev set is split into a tune and a report part that no paraphrase family straddles;
the held-out set is all report."""

from __future__ import annotations

import doctest
import json
from collections import Counter
from pathlib import Path

import pytest

import rag.evaluation.split
from kg.corpus import Corpus
from kg.graph import KnowledgeGraph
from kg.lang import detect_language
from kg.tables import DATA_DIR
from rag.answering.pipeline import Engine
from rag.evaluation.answers import (
    Comparison,
    Question,
    evaluate,
    format_comparison,
    format_report,
    load_questions,
    resolve_gold,
    states,
)
from rag.evaluation.questions import PARTS, QuestionFileError
from rag.evaluation.split import DEV_SETS, DevLine, dev_lines

HELDOUT = "answers_heldout.jsonl"
SETS = ("answers_dev.jsonl", "answer_facts_dev.jsonl", "injection_dev.jsonl", HELDOUT)


@pytest.mark.parametrize("name", SETS)
def test_no_key_fact_is_written_in_its_question(name: str) -> None:
    for q in load_questions(DATA_DIR / "eval" / name):
        loose = [e for e in q.expect_any if e.casefold() in q.question.casefold()]
        assert not loose, (q.question, loose)


def _facts() -> list[Question]:
    return load_questions(DATA_DIR / "eval" / "answer_facts_dev.jsonl")


def test_the_fact_set_has_the_sizes_the_issue_asks_for() -> None:
    kinds = Counter(q.kind for q in _facts())
    assert kinds["fact"] >= 60 and kinds["unstated"] >= 15 and kinds["false_premise"] >= 10
    chinese = [q for q in _facts() if any("\u4e00" <= c <= "\u9fff" for c in q.question)]
    assert len(chinese) >= len(_facts()) // 3


def test_every_paper_is_asked_about(corpus: Corpus) -> None:
    asked = {g for q in _facts() if q.kind == "fact" for g in resolve_gold(corpus, q.gold)}
    assert asked == {p.id for p in corpus.papers}


def test_unstated_and_false_premise_questions_say_what_must_not_appear() -> None:
    for q in _facts():
        if q.kind in ("unstated", "false_premise"):
            assert q.forbid, q.question


@pytest.mark.parametrize(
    ("answer", "stated"),
    [
        ("GPTQ was published in 2021.", True),
        ("GPTQ was published in 2023-03, not in 2021 [P1].", False),
        ("It came out in 2023, rather than in 2021; in 2021 it did not exist.", True),
        ("GPTQ 发表于 2023 年,不是 2021 年。", False),
        ("GPTQ 于 2021 年发表。", True),
    ],
)
def test_a_forbidden_claim_counts_unless_it_is_negated(answer: str, stated: bool) -> None:
    phrase = "2021 年" if "年" in answer else "in 2021"
    assert states(answer, phrase) is stated


def test_the_split_docstring_examples_run() -> None:
    assert doctest.testmod(rag.evaluation.split).failed == 0


@pytest.fixture(scope="module")
def lines(corpus: Corpus) -> list[DevLine]:
    return dev_lines(corpus)


def test_every_dev_line_is_in_a_part(lines: list[DevLine]) -> None:
    assert {line.file for line in lines} == set(DEV_SETS)
    assert [line.where for line in lines if line.part not in PARTS] == []


def test_no_family_straddles_the_parts(lines: list[DevLine]) -> None:
    """Paraphrases share their gold papers (or a family name): tuning on one would lift the
    others, so a family lies wholly in tune or wholly in report, across all the dev sets."""
    parts: dict[str, set[str | None]] = {}
    for line in lines:
        parts.setdefault(line.family, set()).add(line.part)
    assert {family for family, seen in parts.items() if len(seen) > 1} == set()
    asked = {line.question for line in lines if line.family == "family:mamba"}
    assert len(asked) == 2, "the gold-less Mamba paraphrases are one family"


def test_each_dev_set_reports_about_a_third_in_each_language(lines: list[DevLine]) -> None:
    groups: dict[tuple[str, ...], list[DevLine]] = {}
    for line in lines:
        for key in ((line.file,), (line.file, line.language)):
            groups.setdefault(key, []).append(line)
    shares = {key: sum(x.part == "report" for x in group) / len(group)
              for key, group in groups.items()}  # fmt: skip
    assert {key: share for key, share in shares.items() if not 0.25 <= share <= 0.45} == {}


def test_a_part_other_than_tune_or_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "q", "gold": [], "route": "none", "part": "dev"}))
    with pytest.raises(QuestionFileError, match=r"q.jsonl:1: .*tune, report"):
        load_questions(path)


def test_the_heldout_set_is_report_only_in_english_and_chinese_pairs(corpus: Corpus) -> None:
    questions = load_questions(DATA_DIR / "eval" / HELDOUT)
    rows = [
        json.loads(line) for line in (DATA_DIR / "eval" / HELDOUT).read_text("utf-8").splitlines()
    ]
    assert len(questions) == 40 and {q.part for q in questions} == {"report"}
    pairs: dict[str, list[str]] = {}
    for row in rows:
        pairs.setdefault(row["family"], []).append(detect_language(row["question"]))
    assert all(sorted(languages) == ["en", "zh"] for languages in pairs.values()), pairs
    kinds = Counter(q.kind for q in questions)
    assert kinds == {"fact": 16, "structural": 12, "out_of_corpus": 6, "false_premise": 6}
    for q in questions:
        assert (q.route == "none") == (q.kind == "out_of_corpus") == (not q.gold), q
        assert q.expect_any or q.kind == "out_of_corpus", q
        assert bool(q.forbid) == (q.kind == "false_premise"), q
        resolve_gold(corpus, q.gold)


def test_the_heldout_set_repeats_no_dev_question(lines: list[DevLine]) -> None:
    def folded(text: str) -> str:
        return "".join(text.casefold().split())

    seen = {folded(line.question) for line in lines}
    heldout = load_questions(DATA_DIR / "eval" / HELDOUT)
    assert [q.question for q in heldout if folded(q.question) in seen] == []


def _never(*_: object) -> object:
    raise AssertionError("a graph-route question must not load the LLM, embedder or index")


def test_the_answer_report_shows_each_part_and_the_whole(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    path = tmp_path / "q.jsonl"
    records = [
        {"question": "Which papers did Meta publish?", "gold": ["llama", "llama-2", "code-llama"],
         "route": "graph", "expect_any": ["Code Llama"], "part": "tune"},
        {"question": "Who published Medusa?", "gold": ["medusa"], "route": "graph",
         "expect_any": ["no such organisation"], "part": "tune"},
        {"question": "清华发表了哪些论文?", "gold": ["toolllm", "cogagent", "Tool Learning"],
         "route": "graph", "expect_any": ["CogAgent"], "part": "report"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    engine = Engine(kg, retriever_factory=_never, embedder_factory=_never, generator_factory=_never)
    report = evaluate(load_questions(path), engine, progress=False)
    out = report.to_json()
    assert list(out["parts"]) == ["tune", "report"]
    assert (out["parts"]["tune"]["n"], out["parts"]["report"]["n"], out["n"]) == (2, 1, 3)
    assert out["parts"]["tune"]["metrics"]["key_fact_match"] == 0.5
    assert out["parts"]["report"]["metrics"]["key_fact_match"] == 1.0
    assert out["metrics"]["key_fact_match"] == pytest.approx(2 / 3), "the whole file, as before"
    assert [row["part"] for row in out["per_question"]] == ["tune", "tune", "report"]
    table = format_report(report)
    assert table.startswith("Answers evaluated: 3 questions, tune 2, report 1")
    header = next(line for line in table.splitlines() if line.strip().startswith("metric"))
    assert header.split() == ["metric", "tune", "report", "all"]
    assert any(line.split()[:4] == ["key_fact_match", "0.500", "1.000", "0.667"]
               for line in table.splitlines())  # fmt: skip
    side_by_side = format_comparison(Comparison(report, report, "naive"))
    assert side_by_side.splitlines()[2].split() == ["tune", "report", "all"]


def test_a_file_without_parts_keeps_the_answer_json_shape(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "Who published Medusa?", "gold": ["medusa"],
                                "route": "graph"}), "utf-8")  # fmt: skip
    engine = Engine(kg, retriever_factory=_never, embedder_factory=_never, generator_factory=_never)
    out = evaluate(load_questions(path), engine, progress=False).to_json()
    assert list(out) == ["n", "metrics", "per_question"] and "part" not in out["per_question"][0]


@pytest.mark.parametrize(
    ("answer", "stated"),
    [
        ("TaskLAMA was published by Anthropic [P1].", True),
        ("TaskLAMA was published by Google (2023-08), not by Anthropic [P1].", False),
        ("Not by Google: Anthropic published TaskLAMA.", True),
    ],
)
def test_an_organisation_refuted_is_not_stated(answer: str, stated: bool) -> None:
    assert states(answer, "Anthropic") is stated

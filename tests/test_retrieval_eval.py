"""The retrieval evaluation: question files are validated line by line, gold strings resolve to
exactly one paper, and the metrics follow their definitions, for the whole file and each of its
parts; the shipped dev set is bilingual."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kg.corpus import Corpus
from rag.evaluation.retrieval import (
    DEV_QUESTIONS,
    QuestionFileError,
    evaluate,
    format_table,
    load_questions,
    report_json,
    resolve_gold,
)
from rag.indexing.index import open_index
from rag.retrieval.retrieve import Retriever


def write_questions(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    return path


def test_gold_is_a_paper_id_or_a_unique_title_substring(corpus: Corpus) -> None:
    assert resolve_gold("gptq", corpus) == "gptq"
    assert resolve_gold("lookahead decoding", corpus) == (
        "break-the-sequential-dependency-of-llm-inference-using"
    )
    assert resolve_gold("MIXTRAL", corpus) == "mixtral-of-experts"


def test_an_ambiguous_or_unknown_gold_names_the_line(corpus: Corpus, tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match=r"questions.jsonl:2: .*several titles"):
        load_questions(write_questions(tmp_path, {"question": "q", "gold": ["gptq"]},
                                       {"question": "q", "gold": ["Foundation"]}), corpus)  # fmt: skip
    with pytest.raises(QuestionFileError, match="neither a paper id"):
        load_questions(write_questions(tmp_path, {"question": "q", "gold": ["Mamba"]}), corpus)


@pytest.mark.parametrize(
    "record", [{"question": "q"}, {"question": "", "gold": ["gptq"]}, {"gold": ["gptq"]}, [1]]
)
def test_malformed_lines_are_refused(record: object, corpus: Corpus, tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="questions.jsonl:1"):
        load_questions(write_questions(tmp_path, record), corpus)


def test_metrics_follow_their_definitions(corpus: Corpus, hashing_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    retriever = Retriever(None, index, hashing_embedder)
    questions = load_questions(
        write_questions(
            tmp_path,
            {"question": "GPTQ quantization GPT", "gold": ["gptq"]},
            {"question": "zzzz qqqq", "gold": ["gemini", "medusa"]},
        ),
        corpus,
    )
    report = evaluate(retriever, questions)
    out = report_json(report)
    for system in ("dense", "bm25", "hybrid"):
        ranks = [q["ranks"][system] for q in out["per_question"]]
        mrr = sum(1 / r for r in ranks if r) / 2
        assert out["systems"][system]["mrr"] == pytest.approx(mrr, abs=1e-4)
        assert out["systems"][system]["recall@1"] <= out["systems"][system]["recall@5"]
    assert out["per_question"][0]["ranks"]["hybrid"] == 1
    assert out["per_question"][1]["ranks"]["bm25"] is None, "no keyword matches: not retrieved"
    assert "recall@5" in format_table(report)


def test_the_dev_set_is_bilingual_and_large_enough(corpus: Corpus) -> None:
    questions = load_questions(DEV_QUESTIONS, corpus)
    chinese = [q for q in questions if re.search(r"[\u4e00-\u9fff]", q.question)]
    assert len(questions) >= 40
    assert abs(len(chinese) - len(questions) / 2) <= 2
    assert {p.id for p in corpus.papers} <= {g for q in questions for g in q.gold_ids}


def test_the_report_shows_each_part_and_the_whole(
    corpus: Corpus,
    hashing_embedder,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    index = open_index(corpus, hashing_embedder, tmp_path / "ix", progress=False)
    retriever = Retriever(None, index, hashing_embedder)
    records = [
        {"question": "GPTQ quantization GPT", "gold": ["gptq"], "part": "tune"},
        {"question": "zzzz qqqq", "gold": ["gemini"], "part": "report"},
    ]
    whole = evaluate(retriever, load_questions(write_questions(tmp_path, *records), corpus))
    out = report_json(whole)
    assert list(out) == ["n", "systems", "per_question", "parts"], "new keys come last"
    assert list(out["parts"]) == ["tune", "report"]
    assert [row["part"] for row in out["per_question"]] == ["tune", "report"]
    tune, report = out["parts"]["tune"], out["parts"]["report"]
    assert (tune["n"], report["n"]) == (1, 1)
    assert tune["systems"]["hybrid"]["mrr"] == 1.0 and report["systems"]["bm25"]["mrr"] == 0.0
    for system, scores in out["systems"].items():  # the whole file's scores, as before
        assert scores["mrr"] == pytest.approx(
            (tune["systems"][system]["mrr"] + report["systems"][system]["mrr"]) / 2, abs=1e-4
        )
    table = format_table(whole)
    assert table.splitlines()[0].startswith("retrieval on 2 questions, tune 1, report 1")
    assert [line.split()[:2] for line in table.splitlines()[2:5]] == [
        ["dense", "tune"],
        ["dense", "report"],
        ["dense", "all"],
    ]


def test_a_part_other_than_tune_or_report_names_the_line(corpus: Corpus, tmp_path: Path) -> None:
    with pytest.raises(
        QuestionFileError, match=r"questions.jsonl:1: .*must be one of tune, report"
    ):
        load_questions(write_questions(tmp_path, {"question": "q", "gold": ["gptq"],
                                                  "part": "holdout"}), corpus)  # fmt: skip

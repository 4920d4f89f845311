"""`kgrag ask` and `kgrag eval answers` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

ASK_KEYS = {"question", "answer", "route", "citations", "sources", "removed_citations",
            "unsupported_sentences"}  # fmt: skip

Run = Callable[..., CompletedProcess[str]]


def test_ask_json_has_the_documented_shape(run_kgrag: Run) -> None:
    done = run_kgrag("ask", "What did Meta publish?", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == ASK_KEYS
    assert answer["route"] == "graph"
    assert answer["question"] == "What did Meta publish?"
    assert all(set(c) == {"id", "title", "page"} for c in answer["citations"])
    assert all(set(s) == {"id", "title", "snippet", "page", "section"} for s in answer["sources"])
    # a graph answer over abstracts cites no page
    assert all(c["page"] is None for c in answer["citations"])
    assert "code-llama" in [c["id"] for c in answer["citations"]]
    assert answer["removed_citations"] == answer["unsupported_sentences"] == 0


def test_ask_prints_the_answer_then_its_sources(run_kgrag: Run) -> None:
    done = run_kgrag("ask", "Meta发表了几篇论文?")
    assert done.returncode == 0, done.stderr
    assert "共 3 篇" in done.stdout
    assert "Sources:" in done.stdout and "[P1]" in done.stdout


def test_eval_answers_json_reports_every_metric(run_kgrag: Run, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    lines = [
        {
            "question": "谷歌发表了几篇论文?",
            "gold": ["gemini"],
            "route": "graph",
            "expect_any": ["篇"],
        },
        {"question": "What is Code Llama based on?", "gold": ["Llama 2"], "route": "graph"},
    ]
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines), "utf-8")
    done = run_kgrag("eval", "answers", "--questions", str(questions), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 2
    assert {"citation_precision", "citation_recall", "refusal_accuracy", "route_accuracy",
            "language_match", "key_fact_match", "invented_citation_rate"} <= set(report["metrics"])  # fmt: skip
    assert report["metrics"]["route_accuracy"] == 1.0
    assert report["metrics"]["citation_recall"] == 1.0


def test_bad_question_file_is_one_clear_error(run_kgrag: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n', "utf-8")
    done = run_kgrag("eval", "answers", "--questions", str(bad))
    assert done.returncode != 0
    assert "bad.jsonl:1" in done.stderr
    assert "Traceback" not in done.stderr

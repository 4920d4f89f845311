"""`kgrag search`, `kgrag index` and `kgrag eval retrieval` run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from rag.indexing.index import VectorIndex

RESULT_KEYS = ["id", "title", "score", "via", "why", "snippet", "page", "section"]
METRICS = ["recall@1", "recall@3", "recall@5", "mrr"]


def test_search_json_has_the_documented_shape(run_kgrag, index: VectorIndex) -> None:  # type: ignore[no-untyped-def]
    result = run_kgrag(
        "search", "Gemini 多模态", "-k", "3", "--json", "--index-dir", str(index.path)
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["query", "results"] and out["query"] == "Gemini 多模态"
    assert out["results"][0]["id"] == "gemini"
    assert len([r for r in out["results"] if r["via"] != ["graph"]]) == 3
    for row in out["results"]:
        assert list(row) == RESULT_KEYS
        assert set(row["via"]) <= {"dense", "bm25", "graph"} and row["why"]
        assert row["page"] is None and row["section"] is None  # abstracts: no page
    assert "index" not in result.stderr, "the fresh test index is reused, not rebuilt"


def test_index_builds_once_then_reuses(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ("index", "--embedder", "use-multilingual", "--index-dir", str(tmp_path / "ix"))
    first = run_kgrag(*args, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["action"] == "built"
    assert "Embedding passages" in first.stderr, "a progress bar shows long work"
    second = run_kgrag(*args)
    assert second.returncode == 0 and second.stdout.startswith("index reused")


def test_eval_retrieval_json_has_the_documented_shape(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"question": "4-bit weight quantization", "gold": ["gptq"]}\n'
        '{"question": "视觉语言模型操作手机界面", "gold": ["CogAgent"]}\n',
        "utf-8",
    )
    result = run_kgrag("eval", "retrieval", "--questions", str(questions), "--json",
                       "--embedder", "use-multilingual", "--index-dir", str(tmp_path / "ix"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["n", "systems", "per_question"] and out["n"] == 2
    assert list(out["systems"]) == ["dense", "bm25", "hybrid"]
    assert all(list(m) == METRICS for m in out["systems"].values())
    row = out["per_question"][1]
    assert list(row) == ["question", "gold", "ranks"] and row["gold"] == ["CogAgent"]
    assert list(row["ranks"]) == ["dense", "bm25", "hybrid"]


def test_a_bad_question_file_is_one_clear_line(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "x", "gold": ["no such paper"]}\n', "utf-8")
    result = run_kgrag("eval", "retrieval", "--questions", str(questions),
                       "--embedder", "use-multilingual", "--index-dir", str(tmp_path / "ix"))  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("kgrag: error: ") and "q.jsonl:1" in result.stderr
    assert "Traceback" not in result.stderr

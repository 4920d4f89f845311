"""The answer dev sets can fail: key facts are the asked figure or name, never words of the
question; every paper is asked about; unstated and false-premise questions list what must not
appear."""

from __future__ import annotations

from collections import Counter

import pytest

from kg.corpus import Corpus
from kg.tables import DATA_DIR
from rag.evaluation.answers import Question, load_questions, resolve_gold, states

SETS = ("answers_dev.jsonl", "answer_facts_dev.jsonl", "injection_dev.jsonl")


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

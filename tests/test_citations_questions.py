"""Citation questions (data/eval/citation_questions_dev.jsonl, English and Chinese paraphrase
families) routed to the citation question type and answered from the graph of the PDF
fixtures, every paper cited; the expected papers come from the reference gold
(data/eval/pdf_references_dev.json), not from the questions. Both parts are scored; the
`report` part was never tuned on."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache

import pytest

from kg.graph import KnowledgeGraph, build_graph
from rag.answering.intents import answer_from_graph, detect
from rag.answering.question import analyse
from tests.citation_corpus import fixture_corpus
from tests.fixtures.pdf import EVAL, gold

DEV = gold("pdf_references_dev.json")
LINES = [json.loads(line) for line in (EVAL / "citation_questions_dev.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]  # fmt: skip


@cache
def graph() -> KnowledgeGraph:
    return build_graph(fixture_corpus())


def _id(name: str) -> str:
    return next(pid for pid, doc in fixture_corpus().documents if doc.path.endswith(name))


def expected(line: dict) -> set[str]:
    """The fixture papers the gold says cite the line's paper, or that it cites."""
    refs = DEV["references"]
    if line["intent"] == "cited_by":
        return {
            _id(f)
            for f, entries in refs.items()
            if any(e["cites"] == line["paper"] for e in entries)
        }
    return {_id(e["cites"]) for e in refs[line["paper"]] if e["cites"]}


def right(line: dict) -> bool:
    kg = graph()
    route = detect(analyse(kg, line["question"]))
    if (route.kind, route.intent) != ("graph", line["intent"]):
        return False
    found = answer_from_graph(kg, route)
    if found is None:
        return False
    cited = {p.id for p in found.papers} - {_id(line["paper"])}
    numbers = {int(n) for n in re.findall(r"\[P(\d+)\]", found.text)}
    return cited == expected(line) and numbers == set(range(1, len(found.papers) + 1))


def test_the_dev_set_has_both_languages_and_a_report_part_of_whole_families() -> None:
    assert Counter(line["lang"] for line in LINES).keys() == {"en", "zh"}
    parts = {line["family"]: set() for line in LINES}
    for line in LINES:
        parts[line["family"]].add(line["part"])
    assert all(len(p) == 1 for p in parts.values())
    share = sum(line["part"] == "report" for line in LINES) / len(LINES)
    assert 0.25 <= share <= 0.45


@pytest.mark.parametrize("line", LINES, ids=lambda line: f"{line['part']}-{line['question']}")
def test_each_citation_question_is_answered_exactly_from_the_graph(line: dict) -> None:
    assert right(line), line


def test_questions_about_lineage_and_authors_keep_their_own_type() -> None:
    kg = graph()
    assert detect(analyse(kg, "What is Halyard based on?")).intent == "ancestors"
    assert detect(analyse(kg, "Which papers build on Quillwort?")).intent == "descendants"

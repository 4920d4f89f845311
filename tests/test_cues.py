"""Cue files: every rule's words are data in `data/`, read by one loader (`kg.cues`), and each
kind of entry compiles and does what its reader expects; adding a cue is a data edit."""

from __future__ import annotations

import ast
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import kg.tables
from kg import cues as cue_module
from kg.corpus import Corpus
from kg.cues import cue_file, load_cues
from kg.errors import KgragError
from kg.graph import KnowledgeGraph
from kg.lexicon import load_lexicon
from kg.tables import DATA_DIR
from rag.answering.dates import find_date_range
from rag.answering.route import route
from rag.checking.echo import adds_to
from rag.checking.figures import figure_supported, figures, measured
from rag.checking.support import SourceText, SupportChecker

ROOT = Path(__file__).resolve().parent.parent
CUE_BOOKS = ("route_cues", "figure_cues", "comparison_cues", "citation_cues", "date_cues",
             "system_name_cues")  # fmt: skip
# The modules whose rules are data: none may hold a word alternation in a string.
RULE_MODULES = sorted(
    [*(ROOT / "rag" / "answering" / "intents").glob("*.py")]
    + [ROOT / "rag" / "answering" / f"{m}.py" for m in ("route", "question", "dates", "graph_answer",
                                                       "graph_common", "extractive")]
    + [*(ROOT / "rag" / "checking").glob("*.py")]
    + [ROOT / "kg" / "cues.py"]
)  # fmt: skip
_WORD = r"(?:[A-Za-z]{2,}|[\u4e00-\u9fff]+)"
_WORD_ALTERNATION = re.compile(rf"{_WORD}(?:s\?|\?|\\b|\))*\|(?:\\b|\(\?:|\()*{_WORD}")


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module (f-string parts included), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


# --- the files and the loader ---------------------------------------------------------------


@pytest.mark.parametrize("name", CUE_BOOKS)
def test_each_cue_file_has_its_header_and_compiles(name: str) -> None:
    raw = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert raw["format"] == f"kgrag-{name.replace('_', '-')} v1"
    assert "kg.cues" in raw["about"] and "rag." in raw["about"]  # what reads it, what it feeds
    book = load_cues(name)
    assert set(book.cues) | set(book.rule_lists) | set(book.tables) | set(book.templates) == set(
        raw["cues"]
    )
    for cue in book.cues.values():
        assert cue.regex.pattern.startswith(("(?i:", "(?-i:"))  # each carries its case flag


def test_the_lineage_and_claim_cue_files_go_through_the_same_reader() -> None:
    assert cue_file("lineage_cues")["format"] == "kgrag-lineage-cues v1"
    assert cue_file("claim_cues")["format"] == "kgrag-claim-cues v1"
    assert len(load_lexicon().cues) == len(cue_file("lineage_cues")["cues"])


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_rule_module_spells_out_word_alternatives(path: Path) -> None:
    found = [(line, s) for line, s in _strings(path) if _WORD_ALTERNATION.search(s)]
    assert not found, f"{path.name}: word lists belong in data/*_cues.json: {found}"


def test_the_word_alternation_check_would_see_one() -> None:
    assert _WORD_ALTERNATION.search(r"\b(first|earliest|oldest)\b|最早|第一")
    assert _WORD_ALTERNATION.search(r"\bwho\b|\bwhose\b")
    assert not _WORD_ALTERNATION.search(r"[A-Za-z]+|[\u4e00-\u9fff]{1,3}")
    assert not _WORD_ALTERNATION.search("graph | rag | hybrid")


# --- the entry kinds, compiled --------------------------------------------------------------


def _book(tmp_path: Path, cues: dict[str, object], name: str = "test_cues") -> cue_module.CueBook:
    doc = {"format": f"kgrag-{name.replace('_', '-')} v1", "about": "a test file", "cues": cues}
    (tmp_path / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return load_cues(name, tmp_path)


def test_terms_are_literal_words_with_latin_word_edges(tmp_path: Path) -> None:
    book = _book(tmp_path, {
        "words": {"terms": ["how many", "c++", "最早", "influen*"]},
        "stems": {"bounds": "none", "terms": ["param"]},
        "cased": {"case": "keep", "bounds": "none", "terms": ["B", "k"]},
    })  # fmt: skip
    words = book.regex("words")
    assert words.search("HOW  many papers")  # any whitespace, any case
    assert not words.search("somehow many")  # a Latin edge is a word edge
    assert words.search("c++ code") and not words.search("c+ code")  # nothing is a regex
    assert words.search("哪篇最早发表")  # a Chinese edge is no word edge
    assert words.search("influential") and not words.search("uninfluenced")
    assert book.regex("stems").search("parameters")
    assert book.regex("cased").fullmatch("B") and not book.regex("cased").fullmatch("b")
    assert book.words("words") == {"how many", "c++", "最早", "influen*"}


def test_patterns_include_other_entries_and_keep_quantifiers(tmp_path: Path) -> None:
    book = _book(tmp_path, {
        "nouns": {"terms": ["paper", "papers"]},
        "list": {"pattern": [r"\bwhich\b.{0,20}{nouns}", "哪些"]},
        "asked": {"slots": ["what"], "pattern": r"\bwhich\s+{what}"},
    })  # fmt: skip
    assert book.regex("list").search("Which of the 2023 papers")
    assert not book.regex("list").search("Which of the 2023 models")
    assert book.fill("asked", what=book.source("nouns")).search("which papers")
    with pytest.raises(KgragError, match="slots"):
        book.fill("asked")


def test_rules_keep_their_order_and_tables_their_values(tmp_path: Path) -> None:
    book = _book(tmp_path, {
        "order": {"rules": [{"then": "first", "terms": ["a b"]}, {"then": "second", "terms": ["b"]}]},
        "scale": {"table": {"b": 1e9}},
    })  # fmt: skip
    assert [r.then for r in book.rules("order") if r.cue.regex.search("a b")] == ["first", "second"]
    assert book.table("scale")["b"] == 1e9


@pytest.mark.parametrize(
    ("cues", "message"),
    [
        ({"x": {"pattern": "{missing}"}}, "no word list or pattern"),
        ({"x": {"pattern": "{x}"}}, "includes itself"),
        ({"x": {"pattern": "(unclosed"}}, "no valid regular expression"),
        ({"x": {"terms": ["a"], "bounds": "sideways"}}, "bounds"),
        ({"x": {"terms": ["a"], "pattern": "b"}}, "exactly one of"),
        ({"x": {"rules": [{"terms": ["a"]}]}}, '"then"'),
        ({"x": {"terms": ["a"], "case": "upper"}}, "case"),
    ],
)
def test_a_broken_entry_is_an_error_naming_the_file_and_the_entry(
    tmp_path: Path, cues: dict[str, object], message: str
) -> None:
    with pytest.raises(KgragError, match=rf"test_cues\.json: entry 'x' .*{re.escape(message)}"):
        _book(tmp_path, cues)


def test_a_file_of_another_format_version_is_refused(tmp_path: Path) -> None:
    doc = {"format": "kgrag-test-cues v2", "about": "", "cues": {}}
    (tmp_path / "test_cues.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(KgragError, match="kgrag-test-cues v1"):
        load_cues("test_cues", tmp_path)


# --- one sample cue per kind, as its reader uses it -----------------------------------------


@pytest.mark.parametrize(
    ("question", "intent", "detail"),
    [
        ("How many papers did Meta publish?", "count", ""),  # terms: count
        ("Which models were fine-tuned from LLaMA?", "descendants", ""),  # rules: direction
        ("Who published Medusa?", "attribute", "organization"),  # rules: attributes (pattern)
        ("Which month had the most papers?", "most", "month"),  # rules with slots: groups
        ("Which papers did Google publish about code?", "papers", "code"),  # pattern: topic
    ],
)
def test_a_route_cue_of_each_kind_routes(
    kg: KnowledgeGraph, question: str, intent: str, detail: str
) -> None:
    analysis = route(kg, question)
    assert analysis.intent == intent
    assert detail in (*analysis.attributes, analysis.group, analysis.topic)


def test_date_cues_read_months_quarters_and_range_words() -> None:
    assert find_date_range("papers since May 2023", 2023).since == "2023-05"  # type: ignore[union-attr]
    assert find_date_range("2023年下半年", 2023).since == "2023-07"  # type: ignore[union-attr]
    assert find_date_range("the third quarter", 2023).until == "2023-09"  # type: ignore[union-attr]


def test_figure_cues_read_units_measures_and_counts(corpus: Corpus) -> None:
    size = figures("a 70B model")[0]
    assert size.values == (70e9,) and size.unit == "B"  # terms (units) and table (scales)
    assert figures("2.2x faster")[0].kind == "multiple"  # table: unit kinds
    assert measured("it is 2.2x faster", figures("it is 2.2x faster")[0]) == {"speed"}  # rules
    mixtral = corpus.by_id()["mixtral-of-experts"]
    evidence = f"{mixtral.influence}\n{mixtral.abstract}"
    claim = "The Mixtral model has 8 layers."
    assert not figure_supported(figures(claim)[0], claim, evidence)  # rules: counted things


def test_comparison_cues_are_shared_by_lineage_and_the_figure_checker(corpus: Corpus) -> None:
    book = load_cues("comparison_cues")
    assert book.regex("comparison_before").search("优于") and book.regex("against_words").search(
        "比"
    )
    paper = corpus.by_id()["flashattention-2"]
    claim = "FlashAttention-2 is 2-4 times faster than the original FlashAttention."
    evidence = f"{paper.influence}\n{paper.abstract}"
    assert not figure_supported(figures(claim)[0], claim, evidence, ("FlashAttention-2",))


def test_citation_cues_read_pointer_and_maker_words(corpus: Corpus) -> None:
    assert not adds_to("What does Medusa add?", "It is described in the paper [P1].")  # pointers
    assert adds_to("What does Medusa add?", "Medusa adds decoding heads [P1].")
    paper = corpus.by_id()["medusa"]
    medusa = SourceText.from_paper(1, paper, organizations=paper.organizations)
    checker = SupportChecker(object(), threshold=0.0, extractive_margin=0.0)
    # a maker claim must name the paper's own organisation
    assert not checker.facts_supported("Medusa was published by its authors.", [medusa])
    assert checker.facts_supported("Medusa was published by Princeton University.", [medusa])


# --- adding a cue is a data edit ------------------------------------------------------------


@pytest.fixture
def edited_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of data/*.json in which a test may edit a cue; every cue file is read afresh."""
    for path in DATA_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(kg.tables, "DATA_DIR", tmp_path)
    cue_module._load.cache_clear()
    yield tmp_path
    cue_module._load.cache_clear()


def test_a_new_cue_word_is_a_data_edit(kg: KnowledgeGraph, edited_data: Path) -> None:
    question = "Trace the ancestry of Llama 2"
    assert route(kg, question).intent == ""
    path = edited_data / "route_cues.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["cues"]["lineage"]["terms"].append("ancestry")
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    cue_module._load.cache_clear()
    assert route(kg, question).intent == "lineage"

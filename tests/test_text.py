"""The one sentence splitter (kg/text.py), mirroring its doctest examples."""

from __future__ import annotations

import doctest

import kg.text
from kg.text import ANSWER_SENTENCE_END, sentence_spans, split_sentences
from rag.passages import split_sentences as passage_sentences


def test_docstring_examples_run() -> None:
    assert doctest.testmod(kg.text).failed == 0


def test_abbreviations_decimals_and_initials_stay_whole() -> None:
    text = "It beats GPT-3.5 on U.S. exams, e.g. the bar. Then 基于 LLaMA。"
    assert split_sentences(text) == [
        "It beats GPT-3.5 on U.S. exams, e.g. the bar.",
        "Then 基于 LLaMA。",
    ]


def test_spans_point_into_the_text_without_surrounding_space() -> None:
    text = "  第一句。  Second one!\n third"
    assert [text[a:b] for a, b in sentence_spans(text)] == ["第一句。", "Second one!", "third"]


def test_passages_read_line_breaks_as_spaces() -> None:
    assert passage_sentences("A model that\nwraps. Next one.") == [
        "A model that wraps.",
        "Next one.",
    ]


def test_answers_end_a_sentence_at_every_full_stop_before_a_space() -> None:
    # a model's answer names models ending in capitals ("Meta AI.") and cites after the stop
    text = "LLaMA is by Meta AI. It is open. [P1] 它很快。"
    assert split_sentences(text, ANSWER_SENTENCE_END) == [
        "LLaMA is by Meta AI.",
        "It is open.",
        "[P1] 它很快。",
    ]
    assert split_sentences(text) == ["LLaMA is by Meta AI. It is open. [P1] 它很快。"]

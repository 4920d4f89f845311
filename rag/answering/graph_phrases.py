"""The sentences graph answers are written in, English and Chinese (no LLM sees these).

The one home of every graph answer's wording is a data file, `data/graph_phrases.json` (read
through `kg.cues.cue_file`): the sentences (`phrase`), the short phrases describing a question's
filters inside them (`word`), the names of lineage relations (`relation`) and of the groups a
superlative counts (`group_word`). Kept apart from `rag.answering.prompts` (the LLM's
templates): these state facts read from the graph, answer first ("Medusa was published by
Princeton University (2024-01) [P1]."). A new question type's sentences are a data edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from kg.cues import cue_file

__all__ = ["group_word", "phrase", "phrases", "relation", "word"]

Table = Mapping[str, Mapping[str, str]]


@lru_cache(maxsize=1)
def phrases() -> Mapping[str, Table]:
    """The tables of `data/graph_phrases.json`: `phrases`, `words`, `relations`, `group_words`,
    each name → {"en": …, "zh": …}."""
    raw = cue_file("graph_phrases")
    return {table: raw[table] for table in ("phrases", "words", "relations", "group_words")}


def phrase(name: str, language: str, /, **values: object) -> str:
    """Fill sentence `name` in `language` ("en" or "zh")."""
    return phrases()["phrases"][name][language].format(**values)


def word(name: str, language: str, /, **values: object) -> str:
    """A short phrase (`published by Meta`, `Meta发表`) used inside the sentences."""
    return phrases()["words"][name][language].format(**values)


def relation(name: str, language: str) -> str:
    """How a lineage relation is named in an answer (the relation's own name if unknown)."""
    return phrases()["relations"].get(name, {}).get(language, name)


def group_word(group: str, language: str) -> str:
    """What a group a superlative counts is called: organisation, 机构, month, …"""
    return phrases()["group_words"][group][language]

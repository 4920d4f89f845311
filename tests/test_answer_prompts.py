"""Prompt templates: every placeholder is filled, in both languages."""

from __future__ import annotations

import pytest

from rag.answering import prompts


@pytest.mark.parametrize("name", sorted(prompts.TEMPLATES))
@pytest.mark.parametrize("language", prompts.LANGUAGES)
def test_every_template_placeholder_is_filled(name: str, language: str) -> None:
    template = prompts.TEMPLATES[name][language]
    values = {field: f"<{field}>" for field in prompts.placeholders(template)}
    text = prompts.render(name, language, **values)
    assert "{" not in text and "}" not in text
    assert all(value in text for value in values.values())


def test_rendering_with_a_missing_value_fails_loudly() -> None:
    with pytest.raises(KeyError, match="question"):
        prompts.render("user", "en", sources="[P1] x", note="")


def test_each_template_exists_in_both_languages() -> None:
    for name, versions in prompts.TEMPLATES.items():
        assert set(versions) == set(prompts.LANGUAGES), name


# --- graph answers' sentences: data/graph_phrases.json ----------------------------------------


def test_graph_phrases_are_data_in_both_languages() -> None:
    from kg.cues import cue_file
    from rag.answering.graph_phrases import phrases

    assert cue_file("graph_phrases")["format"] == "kgrag-graph-phrases v1"
    tables = phrases()
    assert set(tables) == {"phrases", "words", "relations", "group_words"}
    assert {"papers_header", "lineage_up", "citation_line"} <= set(tables["phrases"])
    for table in tables.values():
        for name, versions in table.items():
            assert set(versions) == set(prompts.LANGUAGES), name
            assert all(text.strip() for text in versions.values()), name


def test_a_graph_sentence_is_filled_from_its_data() -> None:
    from rag.answering.graph_phrases import group_word, phrase, relation, word

    assert phrase("path", "en", start="LLaMA", end="Code Llama", chain="LLaMA → Llama 2") == (
        "Path from LLaMA to Code Llama: LLaMA → Llama 2."
    )
    assert word("published_by", "zh", value="Meta") == "Meta发表"
    assert relation("fine_tuned_from", "zh") == "微调自" and relation("unknown", "en") == "unknown"
    assert group_word("organization", "zh") == "机构"

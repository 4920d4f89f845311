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

"""Every piece of text kgrag sends to the LLM or writes into an answer, in English and Chinese.

Templates use `str.format` placeholders; `render` fills them and refuses to leave one empty.
The sources and the instruction go in the user message: the small default model cites `[P3]`
far more reliably there than when they sit in the system message, and more often still when
the requirements come last, after the question.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

__all__ = ["LANGUAGES", "TEMPLATES", "WORDS", "placeholders", "render", "word"]

LANGUAGES = ("en", "zh")

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "system": {
        "en": "You are a careful research assistant. You answer only from the sources you are "
        "given and you cite them.",
        "zh": "你是一名严谨的科研助手。你只根据给定的资料回答,并注明出处。",
    },
    "source": {
        "en": "[P{number}] {title} ({organizations}, {date})\n{passage}",
        "zh": "[P{number}] {title}({organizations},{date})\n{passage}",
    },
    "user": {
        "en": "Sources:\n{sources}\n\nQuestion: {question}\n\n"
        "Requirements: answer only from the sources, in English, in at most {max_sentences} "
        "sentences. End every sentence with the number of its source, in the form [P1] or [P2]. "
        "Cite only the numbers listed above.",
        "zh": "资料:\n{sources}\n\n问题:{question}\n\n"
        "要求:只根据资料回答,用中文,最多 {max_sentences} 句话。每句话都要以出处编号结尾,"
        "格式为 [P1] 或 [P2],只能引用上面列出的编号。",
    },
    "history": {
        "en": "(Earlier question in this conversation: {previous})",
        "zh": "(本次对话中之前的问题:{previous})",
    },
    "refusal": {
        "en": "The paper collection does not cover this question, so I cannot answer it from "
        "the corpus.",
        "zh": "论文库中没有涉及这个问题的内容,无法根据语料回答。",
    },
    "extractive": {
        "en": "Extractive answer (sentences quoted from the sources, the generated answer could "
        "not be verified):",
        "zh": "摘录式回答(生成的回答未能通过核验,以下句子直接摘自资料):",
    },
    "papers_header": {
        "en": "{count} paper(s) {description}:",
        "zh": "{description}的论文共 {count} 篇:",
    },
    "paper_line": {
        "en": "- {title} ({organizations}, {date}) [P{number}]",
        "zh": "- {title}({organizations},{date})[P{number}]",
    },
    "count": {
        "en": "{count} paper(s) {description}.",
        "zh": "{description}的论文共 {count} 篇。",
    },
    "extreme": {
        "en": "The {which} paper {description} is {title} ({organizations}, {date}) [P{number}].",
        "zh": "{description}{which}的论文是 {title}({organizations},{date})[P{number}]。",
    },
    "no_papers": {
        "en": "The corpus has no paper {description}.",
        "zh": "论文库中没有{description}的论文。",
    },
    "lineage_up": {
        "en": "{work} builds on: {chain}.",
        "zh": "{work} 基于:{chain}。",
    },
    "lineage_down": {
        "en": "Works that build on {work}: {chain}.",
        "zh": "基于 {work} 的工作:{chain}。",
    },
    "lineage_none_up": {
        "en": "The corpus records no work that {work} builds on.",
        "zh": "论文库中没有记录 {work} 所基于的工作。",
    },
    "lineage_none_down": {
        "en": "The corpus records no work that builds on {work}.",
        "zh": "论文库中没有记录基于 {work} 的工作。",
    },
    "path": {
        "en": "Path from {start} to {end}: {chain}.",
        "zh": "从 {start} 到 {end} 的演进路径:{chain}。",
    },
    "no_path": {
        "en": "The corpus records no lineage path between {start} and {end}.",
        "zh": "论文库中没有记录 {start} 与 {end} 之间的演进路径。",
    },
    "evidence_line": {
        "en": "- {child} → {parent} ({relation}): “{evidence}” [P{number}]",
        "zh": "- {child} → {parent}({relation}):“{evidence}”[P{number}]",
    },
}

WORDS: Mapping[str, Mapping[str, str]] = {
    "first": {"en": "first", "zh": "最早"},
    "last": {"en": "latest", "zh": "最新"},
    "published_by": {"en": "published by {value}", "zh": "{value}发表"},
    "in_category": {"en": "in the {value} category", "zh": "{value}类别"},
    "in_month": {"en": "from {value}", "zh": "{value}发布"},
    "between": {"en": "between {start} and {end}", "zh": "{start}至{end}期间发布"},
    "since": {"en": "since {start}", "zh": "{start}以来发布"},
    "until": {"en": "up to {end}", "zh": "{end}之前发布"},
    "with_technique": {"en": "using {value}", "zh": "使用{value}"},
    "in_corpus": {"en": "in the corpus", "zh": "论文库中"},
    "joiner": {"en": " and ", "zh": "、"},
}


def placeholders(template: str) -> set[str]:
    """The names of the `{placeholders}` a template needs."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(name: str, language: str, **values: object) -> str:
    """Fill template `name` in `language` ("en" or "zh"); every placeholder must be given."""
    template = TEMPLATES[name][language]
    missing = placeholders(template) - values.keys()
    if missing:
        raise KeyError(f"template {name!r} needs {sorted(missing)}")
    return template.format(**values)


def word(name: str, language: str, **values: object) -> str:
    """A short phrase (`published by Meta`, `Meta发表`) used inside templates."""
    return WORDS[name][language].format(**values)

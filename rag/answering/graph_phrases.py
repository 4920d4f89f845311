"""The sentences graph answers are written in, English and Chinese (no LLM sees these).

Kept apart from `rag.answering.prompts` (the LLM's templates): these state facts read from the graph,
answer first ("Medusa was published by Princeton University (2024-01) [P1].").
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["PHRASES", "phrase"]

PHRASES: Mapping[str, Mapping[str, str]] = {
    "attr_organization": {
        "en": "{work} was published by {organizations} ({date}) [P{number}].",
        "zh": "{work} 由 {organizations} 发表({date})[P{number}]。",
    },
    "attr_date": {
        "en": "{work} was published in {date} by {organizations} [P{number}].",
        "zh": "{work} 发表于 {date}({organizations})[P{number}]。",
    },
    "attr_category": {
        "en": "{work} is in the {category} category ({date}) [P{number}].",
        "zh": "{work} 属于{category}类别({date})[P{number}]。",
    },
    "attr_techniques": {
        "en": "{work} uses: {techniques} [P{number}].",
        "zh": "{work} 用到的技术:{techniques}[P{number}]。",
    },
    "attr_no_techniques": {
        "en": "The graph records no technique for {work} [P{number}].",
        "zh": "知识图谱中没有记录 {work} 用到的技术[P{number}]。",
    },
    "attr_influence": {
        "en": "{work} is noted for (influence note): “{influence}” [P{number}].",
        "zh": "{work} 的影响力:“{influence}”[P{number}]。",
    },
    "attr_abstract": {
        "en": "The abstract of {work}: “{abstract}” [P{number}]",
        "zh": "{work} 的摘要:“{abstract}”[P{number}]",
    },
    "attr_title": {
        "en": "Full title: {title}.",
        "zh": "完整标题:{title}。",
    },
    "labs_note": {
        "en": "{value} ({count} of them by {labs})",
        "zh": "{value}(其中 {count} 篇由 {labs} 发表)",
    },
    "most": {
        "en": "{groups} {have} the most papers{scope}: {count}.",
        "zh": "{scope}论文最多的{group}是 {groups},共 {count} 篇。",
    },
    "fewest": {
        "en": "{groups} {have} the fewest papers{scope}: {count}.",
        "zh": "{scope}论文最少的{group}是 {groups},共 {count} 篇。",
    },
    "group_line": {
        "en": "{group}: {count} paper(s)",
        "zh": "{group}:{count} 篇",
    },
    "siblings": {
        "en": "Works that also build on {parent}, like {work}: {chain}.",
        "zh": "与 {work} 一样基于 {parent} 的工作:{chain}。",
    },
    "no_siblings": {
        "en": "The corpus records no other work sharing a parent with {work}.",
        "zh": "论文库中没有记录与 {work} 共享上游模型的其他工作。",
    },
    "quarter": {"en": "Q{quarter} {year}", "zh": "{year}年第{quarter_zh}季度"},
}

GROUP_WORDS: Mapping[str, Mapping[str, str]] = {
    "organization": {"en": "organisation", "zh": "机构"},
    "category": {"en": "category", "zh": "类别"},
    "month": {"en": "month", "zh": "月份"},
    "quarter": {"en": "quarter", "zh": "季度"},
    "year": {"en": "year", "zh": "年份"},
    "technique": {"en": "technique", "zh": "技术"},
}


def phrase(name: str, language: str, **values: object) -> str:
    """Fill phrase `name` in `language` ("en" or "zh")."""
    return PHRASES[name][language].format(**values)

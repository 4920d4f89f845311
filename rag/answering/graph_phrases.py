"""The sentences graph answers are written in, English and Chinese (no LLM sees these).

The one home of every graph answer's wording: the sentences (`phrase`), the short phrases
describing a question's filters inside them (`word`), the names of lineage relations
(`relation`) and of the groups a superlative counts (`group_word`). Kept apart from
`rag.answering.prompts` (the LLM's templates): these state facts read from the graph, answer
first ("Medusa was published by Princeton University (2024-01) [P1].").
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "GROUP_WORDS",
    "PHRASES",
    "RELATIONS",
    "WORDS",
    "group_word",
    "phrase",
    "relation",
    "word",
]

PHRASES: Mapping[str, Mapping[str, str]] = {
    # --- papers a question's filters allow (`intents.papers`) --------------------------------
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
    # --- lineage (`intents.lineage`) ---------------------------------------------------------
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
    "siblings": {
        "en": "Works that also build on {parent}, like {work}: {chain}.",
        "zh": "与 {work} 一样基于 {parent} 的工作:{chain}。",
    },
    "no_siblings": {
        "en": "The corpus records no other work sharing a parent with {work}.",
        "zh": "论文库中没有记录与 {work} 共享上游模型的其他工作。",
    },
    # --- citations (`intents.citations`) ----------------------------------------------------
    "cited_by": {
        "en": "{count} paper(s) of the corpus cite {work}: {chain}.",
        "zh": "论文库中有 {count} 篇论文引用了 {work}:{chain}。",
    },
    "cited_by_none": {
        "en": "No paper of the corpus cites {work} (only papers added with their full text count).",
        "zh": "论文库中没有论文引用 {work}(只统计以全文加入的论文)。",
    },
    "cites": {
        "en": "{work} cites {count} paper(s) of the corpus: {chain}.",
        "zh": "{work} 引用了论文库中的 {count} 篇论文:{chain}。",
    },
    "cites_none": {
        "en": "{work} cites no paper of the corpus.",
        "zh": "{work} 没有引用论文库中的论文。",
    },
    "cites_outside": {
        "en": "Its reference list has {count} more entry(ies) outside the corpus.",
        "zh": "其参考文献中另有 {count} 条不在论文库中。",
    },
    "cites_unknown": {
        "en": "The corpus has no full text of {work}, so its references are not known.",
        "zh": "论文库中没有 {work} 的全文,无法得知其参考文献。",
    },
    "citation_line": {
        "en": "- {citing} → {cited}, p. {page}: “{sentence}” [P{number}]",
        "zh": "- {citing} → {cited},第 {page} 页:“{sentence}”[P{number}]",
    },
    # --- one paper's attributes (`intents.attributes`) ---------------------------------------
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
    # --- superlatives over groups (`intents.groups`) -----------------------------------------
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
    "quarter": {"en": "Q{quarter} {year}", "zh": "{year}年第{quarter_zh}季度"},
    # --- people (`intents.authors`) ----------------------------------------------------------
    "authors": {"en": "{work} was written by {names}.", "zh": "{work} 的作者是 {names}。"},
    "author_papers": {
        "en": "{name} wrote {n} paper(s): {papers}.",
        "zh": "{name} 的论文（{n} 篇）：{papers}。",
    },
    "authors_else": {
        "en": "Besides {work}, its authors ({names}) wrote: {papers}.",
        "zh": "除 {work} 外，其作者（{names}）还写了：{papers}。",
    },
    "authors_else_none": {
        "en": "The authors of {work} ({names}) wrote no other paper in the corpus.",
        "zh": "{work} 的作者（{names}）在语料中没有其他论文。",
    },
    "coauthors": {
        "en": "{name} has written with {names}.",
        "zh": "与 {name} 合作过的有：{names}。",
    },
    "coauthors_none": {
        "en": "{name} has no co-author in the corpus.",
        "zh": "{name} 在语料中没有合作者。",
    },
    "coauthor_with": {"en": "{name} ({n} paper(s) {refs})", "zh": "{name}（{n} 篇 {refs}）"},
}

# Short phrases used inside the sentences: `published by Meta`, `Meta发表`.
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

RELATIONS: Mapping[str, Mapping[str, str]] = {
    "successor": {"en": "successor", "zh": "后继版本"},
    "fine_tuned_from": {"en": "fine-tuned from", "zh": "微调自"},
    "same_architecture": {"en": "same architecture", "zh": "相同架构"},
    "extends": {"en": "extends", "zh": "扩展"},
}

GROUP_WORDS: Mapping[str, Mapping[str, str]] = {
    "organization": {"en": "organisation", "zh": "机构"},
    "category": {"en": "category", "zh": "类别"},
    "month": {"en": "month", "zh": "月份"},
    "quarter": {"en": "quarter", "zh": "季度"},
    "year": {"en": "year", "zh": "年份"},
    "technique": {"en": "technique", "zh": "技术"},
}


def phrase(name: str, language: str, /, **values: object) -> str:
    """Fill sentence `name` in `language` ("en" or "zh")."""
    return PHRASES[name][language].format(**values)


def word(name: str, language: str, /, **values: object) -> str:
    """A short phrase (`published by Meta`, `Meta发表`) used inside the sentences."""
    return WORDS[name][language].format(**values)


def relation(name: str, language: str) -> str:
    """How a lineage relation is named in an answer (the relation's own name if unknown)."""
    return RELATIONS.get(name, {}).get(language, name)


def group_word(group: str, language: str) -> str:
    """What a group a superlative counts is called: organisation, 机构, month, …"""
    return GROUP_WORDS[group][language]

"""Exact answers to structural questions, read from the graph (`kg.queries`); no LLM.

Every paper an answer lists is cited `[Pn]`, numbered in the order of `GraphAnswer.papers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg import queries
from kg.errors import KgragError
from kg.lang import has_han
from kg.records import LineageEdge, Node
from kg.tables import load_category_table
from rag.answering import prompts
from rag.answering.graph_phrases import GROUP_WORDS, phrase
from rag.answering.route import Route

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["GraphAnswer", "answer_from_graph", "candidate_papers"]

_RELATIONS = {
    "successor": {"en": "successor", "zh": "后继版本"},
    "fine_tuned_from": {"en": "fine-tuned from", "zh": "微调自"},
    "same_architecture": {"en": "same architecture", "zh": "相同架构"},
    "extends": {"en": "extends", "zh": "扩展"},
}


@dataclass(frozen=True)
class GraphAnswer:
    text: str
    papers: tuple[Paper, ...]


@dataclass
class _Citer:
    """Numbers papers `[P1]`, `[P2]`… in the order they are first cited."""

    kg: KnowledgeGraph
    papers: list[Paper] = field(default_factory=list)

    def number(self, paper: Paper) -> int:
        if paper not in self.papers:
            self.papers.append(paper)
        return self.papers.index(paper) + 1

    def node_ref(self, node: Node) -> str:
        """`Llama 2 (2023-07) [P2]` for a paper, `GPT-3 (2020-05)` for an outside work."""
        date = f" ({node.date})" if node.date else ""
        if node.paper_id:
            return f"{node.label}{date} [P{self.number(self.kg.paper(node.paper_id))}]"
        return f"{node.label}{date}"


def candidate_papers(kg: KnowledgeGraph, route: Route) -> list[Paper]:
    """The papers every filter of the question allows (organisation, category, date, technique)."""
    since = route.dates.since if route.dates else None
    until = route.dates.until if route.dates else None
    orgs: list[str | None] = [n.label for n in route.organizations] or [None]
    cats: list[str | None] = [n.id.removeprefix("category:") for n in route.categories] or [None]
    found: dict[str, Paper] = {}
    for org in orgs:
        for cat in cats:
            for paper in queries.papers_by(kg, org=org, category=cat, since=since, until=until):
                found[paper.id] = paper
    for technique in route.techniques:
        users = {use.paper.id for use in queries.papers_with_technique(kg, technique)}
        found = {pid: p for pid, p in found.items() if pid in users}
    return sorted(found.values(), key=lambda p: (p.date, p.line))


def answer_from_graph(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    """The exact answer for a graph-routed question, or None when the graph cannot give one."""
    try:
        if route.intent in ("ancestors", "descendants", "lineage"):
            return _lineage_answer(kg, route)
        if route.intent == "path":
            return _path_answer(kg, route)
        if route.intent == "siblings":
            return _siblings_answer(kg, route)
        if route.intent == "attribute":
            return _attribute_answer(kg, route)
        if route.intent in ("most", "fewest"):
            return _group_answer(kg, route)
        if route.intent in ("papers", "count", "earliest", "latest"):
            return _papers_answer(kg, route)
        if route.intent in ("coauthors", "author_papers", "authors"):
            return _author_answer(kg, route)
    except KgragError:
        return None  # an ambiguous or unknown name: let retrieval try
    return None


def _papers_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang = route.language
    papers = candidate_papers(kg, route)
    description = _description(kg, route, papers)
    citer = _Citer(kg)
    if not papers:
        return GraphAnswer(prompts.render("no_papers", lang, description=description), ())
    if route.intent in ("earliest", "latest"):
        pick = min if route.intent == "earliest" else max
        date = pick(p.date for p in papers)
        chosen = [p for p in papers if p.date == date]
        which = prompts.word("first" if route.intent == "earliest" else "last", lang)
        lines = [
            prompts.render(
                "extreme",
                lang,
                which=which,
                description=description,
                title=p.title,
                organizations=", ".join(p.organizations),
                date=p.date,
                number=citer.number(p),
            )  # fmt: skip
            for p in chosen
        ]
        return GraphAnswer("\n".join(lines), tuple(citer.papers))
    header_name = "count" if route.intent == "count" else "papers_header"
    header = prompts.render(header_name, lang, count=len(papers), description=description)
    if route.intent == "count":
        header = header.rstrip(".。") + (":" if lang == "en" else ":")
    lines = [header] + [_paper_line(p, lang, citer) for p in papers]
    return GraphAnswer("\n".join(lines), tuple(citer.papers))


def _paper_line(paper: Paper, lang: str, citer: _Citer) -> str:
    return prompts.render("paper_line", lang, title=paper.title, date=paper.date,
                          organizations=", ".join(paper.organizations),
                          number=citer.number(paper))  # fmt: skip


def _lineage_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    lang = route.language
    root = route.works[0]
    citer = _Citer(kg)
    family = queries.lineage(kg, root)
    if root.kind == "work" and not (family.ancestors or family.descendants):
        return None  # a work the corpus only names: nothing to answer from the graph
    if route.intent == "ancestors" and not family.ancestors:
        # what the paper builds on may be outside the corpus ("built on REINFORCE"): only its
        # abstract can say, so retrieval answers (the graph holds no in-corpus parent)
        return None
    lines: list[str] = []
    work = citer.node_ref(root)
    parts = []
    if route.intent in ("ancestors", "lineage"):
        parts.append(("up", family.ancestors))
    if route.intent in ("descendants", "lineage"):
        parts.append(("down", family.descendants))
    for direction, nodes in parts:
        if nodes:
            chain = ("、" if lang == "zh" else ", ").join(citer.node_ref(n) for n in nodes)
            lines.append(prompts.render(f"lineage_{direction}", lang, work=work, chain=chain))
        else:
            lines.append(prompts.render(f"lineage_none_{direction}", lang, work=work))
    shown = {root.id} | {n.id for _, nodes in parts for n in nodes}
    edges = [e for e in family.edges if e.source.id in shown and e.target.id in shown]
    lines.extend(_evidence_lines(kg, edges, lang, citer))
    return GraphAnswer("\n".join(lines), tuple(citer.papers))


def _path_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang = route.language
    start, end = route.works[0], route.works[1]
    citer = _Citer(kg)
    edges = queries.path_between(kg, start, end)
    if not edges:
        text = prompts.render("no_path", lang, start=citer.node_ref(start), end=citer.node_ref(end))
        return GraphAnswer(text, tuple(citer.papers))
    nodes = [start]
    for edge in edges:
        nodes.append(edge.target if edge.source.id == nodes[-1].id else edge.source)
    chain = " → ".join(citer.node_ref(n) for n in nodes)
    lines = [prompts.render("path", lang, start=start.label, end=end.label, chain=chain)]
    lines.extend(_evidence_lines(kg, edges, lang, citer))
    return GraphAnswer("\n".join(lines), tuple(citer.papers))


def _evidence_lines(
    kg: KnowledgeGraph, edges: list[LineageEdge], lang: str, citer: _Citer
) -> list[str]:
    """One line per lineage edge with the sentence it was derived from and its paper cited."""
    by_id = kg.corpus.by_id()
    lines = []
    for edge in edges:
        paper = by_id.get(edge.paper)
        if paper is None or not edge.evidence:
            continue
        relation = _RELATIONS.get(edge.relation, {}).get(lang, edge.relation)
        evidence = edge.evidence if len(edge.evidence) <= 120 else edge.evidence[:118] + "…"
        lines.append(prompts.render("evidence_line", lang, child=edge.source.label,
                                    parent=edge.target.label, relation=relation,
                                    evidence=evidence, number=citer.number(paper)))  # fmt: skip
    return lines


def _description(kg: KnowledgeGraph, route: Route, papers: list[Paper] | None = None) -> str:
    lang = route.language
    parts = []
    if route.organizations:
        names = prompts.word("joiner", lang).join(n.label for n in route.organizations)
        parts.append(
            _labs_note(route, papers or [], prompts.word("published_by", lang, value=names))
        )
    if route.categories:
        table = load_category_table()
        labels = [_category_label(table, n, lang) for n in route.categories]
        parts.append(
            prompts.word("in_category", lang, value=prompts.word("joiner", lang).join(labels))
        )
    if route.techniques:
        names = prompts.word("joiner", lang).join(
            _technique_label(kg, n, lang) for n in route.techniques
        )
        parts.append(prompts.word("with_technique", lang, value=names))
    if route.dates:
        parts.append(_date_words(route, lang))
    if not parts:
        parts.append(prompts.word("in_corpus", lang))
    return (" " if lang == "en" else ",").join(parts)


def _date_words(route: Route, lang: str) -> str:
    dates = route.dates
    assert dates is not None
    if dates.month:
        return prompts.word("in_month", lang, value=dates.month)
    if dates.since and dates.until:
        return prompts.word("between", lang, start=dates.since, end=dates.until)
    if dates.since:
        return prompts.word("since", lang, start=dates.since)
    return prompts.word("until", lang, end=dates.until)


def _category_label(table: object, node: Node, lang: str) -> str:
    key = node.id.removeprefix("category:")
    try:
        category = table.get(key)  # type: ignore[attr-defined]
    except KgragError:
        return node.label
    return category.label_zh if lang == "zh" else category.label_en


def _technique_label(kg: KnowledgeGraph, node: Node, lang: str) -> str:
    if lang == "zh":
        chinese = [a for a in kg.names.aliases_of(node.id) if has_han(a)]
        if chinese:
            return chinese[0]
    return node.label


def _labs_note(route: Route, papers: list[Paper], text: str) -> str:
    """ "published by Google (1 of them by Google DeepMind)": an organisation's papers include
    its labs', and the answer says how many came from them."""
    named = {n.label for n in route.organizations}
    by_labs = [p for p in papers if not named & set(p.organizations)]
    if not by_labs:
        return text
    labs = sorted({o for p in by_labs for o in p.organizations})
    joined = prompts.word("joiner", route.language).join(labs)
    return phrase("labs_note", route.language, value=text, count=len(by_labs), labs=joined)


def _attribute_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    """The asked facts about one paper, the first sentence stating the answer."""
    node = route.works[0]
    if node.paper_id is None:
        return None
    paper = kg.paper(node.paper_id)
    lang, citer = route.language, _Citer(kg)
    number = citer.number(paper)
    values = {"work": node.label, "date": paper.date, "number": number,
              "organizations": prompts.word("joiner", lang).join(paper.organizations)}  # fmt: skip
    lines = [_attribute_line(kg, paper, name, lang, values) for name in route.attributes]
    if paper.title != node.label:
        lines.append(phrase("attr_title", lang, title=paper.title))
    return GraphAnswer("\n".join(lines), tuple(citer.papers))


def _attribute_line(
    kg: KnowledgeGraph, paper: Paper, name: str, lang: str, values: dict[str, object]
) -> str:
    if name == "category":
        label = paper.category_label if lang == "zh" else _category_label(
            load_category_table(), kg.node(f"category:{paper.category}"), lang)  # fmt: skip
        return phrase("attr_category", lang, category=f"{label} ({paper.category})", **values)
    if name == "techniques":
        uses = queries.techniques_of(kg, f"paper:{paper.id}")
        if not uses:
            return phrase("attr_no_techniques", lang, **values)
        joiner = prompts.word("joiner", lang) if lang == "zh" else ", "
        names = joiner.join(_technique_label(kg, u.technique, lang) + _also(u, lang) for u in uses)
        return phrase("attr_techniques", lang, techniques=names, **values)
    if name == "influence":
        return phrase("attr_influence", lang, influence=paper.influence, **values)
    if name == "abstract":
        text = paper.abstract or paper.influence
        return phrase("attr_abstract", lang, abstract=text, **values)
    return phrase(f"attr_{name}", lang, **values)


def _also(use: queries.TechniqueUse, lang: str) -> str:
    """The English name after a Chinese one, so either language finds it."""
    return f" ({use.technique.label})" if lang == "zh" else ""


def _group_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    """The group (organisation, month, quarter, …) with the most or fewest papers, and them."""
    lang = route.language
    papers = candidate_papers(kg, route)
    summaries = queries.summarize_by(kg, route.group, papers)
    if not summaries:
        return GraphAnswer(
            prompts.render("no_papers", lang, description=_description(kg, route)), ()
        )
    pick = max if route.intent == "most" else min
    count = pick(s.count for s in summaries)
    winners = [s.group for s in summaries if s.count == count]
    scope = _scope(kg, route)
    labels = [_group_label(kg, route.group, g, lang) for g in winners]
    names = ("、" if lang == "zh" else ", ").join(labels)
    citer = _Citer(kg)
    have = "has" if len(winners) == 1 else "have"
    lines = [phrase(route.intent, lang, groups=names, have=have, count=count, scope=scope,
                    group=GROUP_WORDS[route.group][lang])]  # fmt: skip
    chosen = [p for p in papers if set(queries.group_keys(kg, route.group, p)) & set(winners)]
    lines += [_paper_line(p, lang, citer) for p in chosen]
    return GraphAnswer("\n".join(lines), tuple(citer.papers))


def _scope(kg: KnowledgeGraph, route: Route) -> str:
    if not route.has_filters:
        return ""
    description = _description(kg, route)
    return f" ({description})" if route.language == "en" else f"{description}的"


def _group_label(kg: KnowledgeGraph, group: str, key: str, lang: str) -> str:
    if group == "quarter":
        year, quarter = key.split("-Q")
        return phrase(
            "quarter", lang, year=year, quarter=quarter, quarter_zh="一二三四"[int(quarter) - 1]
        )
    if group == "category":
        return _category_label(load_category_table(), kg.node(f"category:{key}"), lang)
    return key


def _siblings_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer | None:
    """Works that share a parent with the named work, per parent, with the parent cited."""
    lang, root, citer = route.language, route.works[0], _Citer(kg)
    parents = [e.target for e in queries.lineage_edges(kg) if e.source.id == root.id]
    if not parents:
        return None
    work = citer.node_ref(root)
    lines = []
    for parent in parents:
        children = [e.source for e in queries.lineage_edges(kg)
                    if e.target.id == parent.id and e.source.id != root.id]  # fmt: skip
        if children:
            chain = ("、" if lang == "zh" else ", ").join(citer.node_ref(n) for n in children)
            lines.append(phrase("siblings", lang, parent=citer.node_ref(parent), work=work,
                                chain=chain))  # fmt: skip
    if not lines:
        lines.append(phrase("no_siblings", lang, work=work))
    return GraphAnswer("\n".join(lines), tuple(citer.papers))


# --- authors (papers added from a library: `kg.library`) --------------------------------

_AUTHOR_PHRASES = {
    "authors": {"en": "{work} was written by {names}.", "zh": "{work} 的作者是 {names}。"},
    "papers": {"en": "{name} wrote {n} paper(s): {papers}.",
               "zh": "{name} 的论文（{n} 篇）：{papers}。"},
    "else": {"en": "Besides {work}, its authors ({names}) wrote: {papers}.",
             "zh": "除 {work} 外，其作者（{names}）还写了：{papers}。"},
    "else_none": {"en": "The authors of {work} ({names}) wrote no other paper in the corpus.",
                  "zh": "{work} 的作者（{names}）在语料中没有其他论文。"},
    "coauthors": {"en": "{name} has written with {names}.", "zh": "与 {name} 合作过的有：{names}。"},
    "coauthors_none": {"en": "{name} has no co-author in the corpus.",
                       "zh": "{name} 在语料中没有合作者。"},
    "with": {"en": "{name} ({n} paper(s) {refs})", "zh": "{name}（{n} 篇 {refs}）"},
}  # fmt: skip


def _author_answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang = "zh" if route.language == "zh" else "en"
    citer = _Citer(kg)
    join = "、" if lang == "zh" else ", "

    def say(key: str, **values: object) -> str:
        return _AUTHOR_PHRASES[key][lang].format(**values)

    def refs(papers: list[Paper]) -> str:
        return join.join(f"{p.title} ({p.date}) [P{citer.number(p)}]" for p in papers)

    if route.intent == "coauthors":
        author = route.authors[0]
        own = {p.id for p in queries.papers_of_author(kg, author)}
        parts = []
        for other, count in queries.coauthors(kg, author):
            shared = [p for p in queries.papers_of_author(kg, other) if p.id in own]
            marks = "".join(f"[P{citer.number(p)}]" for p in shared)
            parts.append(say("with", name=other.label, n=count, refs=marks))
        if not parts:
            return GraphAnswer(say("coauthors_none", name=author.label), ())
        return GraphAnswer(say("coauthors", name=author.label, names=join.join(parts)),
                           tuple(citer.papers))  # fmt: skip
    if route.authors:
        author = route.authors[0]
        papers = queries.papers_of_author(kg, author)
        text = say("papers", name=author.label, n=len(papers), papers=refs(papers))
        return GraphAnswer(text, tuple(citer.papers))
    work = route.works[0]
    names = join.join(a.label for a in queries.authors_of(kg, work))
    ref = citer.node_ref(work)
    if route.intent == "authors":
        return GraphAnswer(say("authors", work=ref, names=names), tuple(citer.papers))
    others: dict[str, Paper] = {}
    for author in queries.authors_of(kg, work):
        for paper in queries.papers_of_author(kg, author):
            if paper.id != work.paper_id:
                others[paper.id] = paper
    listed = sorted(others.values(), key=lambda p: (p.date, p.line))
    if not listed:
        return GraphAnswer(say("else_none", work=ref, names=names), tuple(citer.papers))
    text = say("else", work=ref, names=names, papers=refs(listed))
    return GraphAnswer(text, tuple(citer.papers))

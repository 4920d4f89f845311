"""False premises: a question that names one paper with an organisation or a date the graph
gives differently ("Google's Medusa", "the 2021 GPTQ paper").

The graph's structured fields correct it: the answer opens with the correction (cited), and the
model reads the question with the premise already corrected, so it cannot repeat it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.names import find_mentions
from kg.tables import fold, load_org_table
from rag.answering import prompts
from rag.answering.question import route_cues
from rag.answering.route import Route
from rag.answering.sources import Context

if TYPE_CHECKING:
    from kg.corpus import Paper
    from kg.graph import KnowledgeGraph

__all__ = ["Premise", "correction", "corrected_question", "false_premises"]

_LINEAGE_INTENTS = frozenset({"ancestors", "descendants", "lineage", "path"})


@dataclass(frozen=True)
class Premise:
    """A fact the question takes for granted that the graph contradicts."""

    paper: Paper
    field: str  # organization | date
    claimed: str


def false_premises(kg: KnowledgeGraph, analysis: Route) -> list[Premise]:
    """The question names one paper together with an organisation or a date the graph gives
    differently ("Google's Medusa", "the 2021 GPTQ paper"): the structured fields correct it."""
    papers = [w for w in analysis.works if w.kind == "paper" and w.paper_id]
    if len(papers) != 1 or analysis.intent in _LINEAGE_INTENTS:
        return []
    paper = kg.corpus.by_id().get(papers[0].paper_id or "")
    if paper is None:
        return []
    out = []
    own = {f"org:{o}" for o in paper.organizations}
    own |= {f"org:{kg.graph.nodes[o].get('part_of')}" for o in own if o in kg.graph}
    wrong = [o.label for o in analysis.organizations if o.id not in own]
    if not analysis.organizations:  # none of the graph's: one it does not hold is wrong too
        wrong = _organizations_outside(kg, analysis.question)
    if wrong and not any(o.id in own for o in analysis.organizations):
        out.append(Premise(paper, "organization", ", ".join(wrong)))
    dates = analysis.dates
    if dates is not None and not (dates.since or "") <= paper.date <= (dates.until or "9999"):
        out.append(Premise(paper, "date", analysis.question[dates.start : dates.end].strip()))
    return out


def _organizations_outside(kg: KnowledgeGraph, question: str) -> list[str]:
    """Organisations the question names that publish nothing in the corpus: those of the alias
    data (`data/organizations.json`: "Baidu", "百度"), else names shaped like one ("Acme
    Labs", `organization_shape`)."""
    folded = fold(question)
    named = [canonical for alias, canonical in load_org_table().aliases().items()
             if f"org:{canonical}" not in kg.graph and _as_word(alias).search(folded)]  # fmt: skip
    if named:
        return list(dict.fromkeys(named))
    return [m[0] for m in route_cues().regex("organization_shape").finditer(question)]


def _as_word(name: str) -> re.Pattern[str]:
    """`name` as a whole word, any case (a Chinese name anywhere)."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", re.IGNORECASE)


def correction(premise: Premise, contexts: Sequence[Context], language: str) -> str:
    """The sentence that corrects `premise` from the graph, citing the paper's `[P…]`."""
    paper = premise.paper
    number = next(c.number for c in contexts if c.paper.id == paper.id)
    name = paper.short_name
    if premise.field == "organization":
        return prompts.render("premise_org", language, paper=name, date=paper.date,
                              actual=", ".join(paper.organizations), claimed=premise.claimed,
                              number=number)  # fmt: skip
    return prompts.render("premise_date", language, paper=name, date=paper.date,
                          claimed=premise.claimed, number=number)  # fmt: skip


def corrected_question(kg: KnowledgeGraph, question: str, premises: Sequence[Premise]) -> str:
    """The question with a wrong organisation or date replaced by the paper's own."""
    for premise in premises:
        paper = premise.paper
        if premise.field == "date" and premise.claimed:
            question = question.replace(premise.claimed, paper.date)
        elif premise.field == "organization":
            mentions = find_mentions(kg, question, ("organization",))
            for mention in reversed(mentions):
                if mention.node.label in premise.claimed:
                    question = question[: mention.start] + paper.organizations[0] + \
                        question[mention.end :]  # fmt: skip
            if not mentions:  # one the graph does not hold: any alias of it, or as written
                claimed = premise.claimed.split(", ")
                names = [a for a, c in load_org_table().aliases().items() if c in claimed]
                for name in sorted({*names, *claimed}, key=len, reverse=True):
                    question = _as_word(name).sub(paper.organizations[0], question)
    return question

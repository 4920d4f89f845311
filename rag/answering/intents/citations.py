"""Citations of a paper: which papers of the corpus cite it, and which it cites ("Which papers
cite Quillwort?", "Quillwort 被哪些论文引用?", "What does Brindle cite?", "Brindle 引用了哪些论文?").
Only papers added with their full text have reference lists (`kg.citations`).

Routing: `detect` reads the `citation_direction` rules of `data/route_cues.json` in the
question's shape; answer: `answer`, from the graph's `cites` edges, every paper cited, each
citing sentence quoted with its page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg import queries
from kg.queries import CitationLink
from kg.records import Node
from rag.answering.graph_common import Citer, GraphAnswer, list_joiner
from rag.answering.graph_phrases import phrase
from rag.answering.question import GRAPH, Question, Route, route_cues

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["INTENTS", "answer", "detect"]

INTENTS = ("cited_by", "cites")
_SENTENCE_CHARS = 160


def detect(question: Question) -> Route | None:
    """A question naming a paper of the corpus and asking who cites it or what it cites."""
    papers = [w for w in question.base.works if w.kind == "paper"]
    if not papers:
        return None
    for rule in route_cues().rules("citation_direction"):
        if rule.cue.regex.search(question.shape):
            return question.base.to(GRAPH, rule.then)
    return None


def answer(kg: KnowledgeGraph, route: Route) -> GraphAnswer:
    lang = "zh" if route.language == "zh" else "en"
    paper = next(w for w in route.works if w.kind == "paper")
    found = queries.paper_citations(kg, paper)
    citer = Citer(kg)
    if route.intent == "cited_by":
        return _listed(kg, citer, lang, found.paper, found.cited_by, "cited_by")
    if not found.references:
        return citer.answer([phrase("cites_unknown", lang, work=citer.node_ref(found.paper))])
    result = _listed(kg, citer, lang, found.paper, found.cites, "cites")
    outside = sum(r.paper is None for r in found.references)
    if outside:
        extra = phrase("cites_outside", lang, count=outside)
        return GraphAnswer(result.text + "\n" + extra, result.papers)
    return result


def _listed(kg: KnowledgeGraph, citer: Citer, lang: str, root: Node,
            links: tuple[CitationLink, ...], name: str) -> GraphAnswer:  # fmt: skip
    """The papers at the other end of `links` (`name`: cited_by or cites), then each citing
    sentence with its page, cited to the paper it is in."""
    work = citer.node_ref(root)
    if not links:
        return citer.answer([phrase(f"{name}_none", lang, work=work)])
    chain = list_joiner(lang).join(citer.node_ref(link.paper) for link in links)
    lines = [phrase(name, lang, count=len(links), work=work, chain=chain)]
    for link in links:
        citing, cited = (link.paper, root) if name == "cited_by" else (root, link.paper)
        number = citer.number(kg.paper(citing.paper_id or ""))
        for page, sentence in link.contexts:
            if len(sentence) > _SENTENCE_CHARS:
                sentence = sentence[: _SENTENCE_CHARS - 1] + "…"
            lines.append(phrase("citation_line", lang, citing=citing.label, cited=cited.label,
                                page=page, sentence=sentence, number=number))  # fmt: skip
    return citer.answer(lines)

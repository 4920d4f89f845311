"""Which way a question goes: exactly from the graph, through retrieval + LLM, or both.

Routing reads the graph's own vocabulary (`kg.names.find_mentions`: organisations, categories,
works, papers, techniques, bilingual) plus a few bilingual cue words for the structural intent
(list, count, earliest/latest, based on, descends from, path). Refusal ("none") needs retrieval
evidence too, so `rag.answer` decides it after this analysis (see `rag.refusal`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kg.names import Mention, find_mentions
from kg.records import Node
from rag.dates import DateRange, find_date_range

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["Route", "detect_language", "route"]

GRAPH, RAG, HYBRID, NONE = "graph", "rag", "hybrid", "none"

_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|几篇|多少|几个|数量|总数", re.I)
_EARLIEST = re.compile(r"\b(first|earliest|oldest)\b|最早|第一|最先|最初", re.I)
_LATEST = re.compile(r"\b(latest|last|newest|most recent)\b|最新|最近|最晚|最后", re.I)
_PAPER_WORD = re.compile(r"\bpapers?\b|\bworks?\b|\bpublications?\b|论文|文章|工作|成果", re.I)
_LIST = re.compile(
    r"\b(which|what|list|show|name)\b.{0,40}\b(papers?|works?|publications?)\b"
    r"|\bpublish(?:ed|es)?\b|\breleased?\b|\bput out\b|\bpapers?\s+(?:from|by|of|in|on|about)\b"
    r"|哪些|哪几篇|列出|列举|发表了|发布了|有什么论文|的论文|论文有",
    re.I,
)
_BASED_ON = re.compile(
    r"\bbased on\b|\bbuilds? (?:up)?on\b|\bbuilt (?:up)?on\b|\bderived from\b|\bfine-?tuned from\b"
    r"|\bderives? from\b|\bextends?\b|基于|为基础|基础上|源自|来源于|衍生自|继承",
    re.I,
)
_PREDECESSOR = re.compile(r"\bpredecessors?\b|\bancestors?\b|\bparents?\b|\bcame before\b|前身|祖先",
                          re.I)  # fmt: skip
_DESCENDANT = re.compile(
    r"\bdescend\w*|\bsuccessors?\b|\bcame after\b|\bcomes? after\b|\bcome next\b|\bfollow-?ups?\b"
    r"|\bchildren\b|\bbuilt from it\b|后续|衍生|继任|之后的工作|后来的工作|演化出|派生",
    re.I,
)
_PATH = re.compile(
    r"\bpath\b|\bbetween\b|\bfrom\b.+\bto\b|\bchain\b|路径|之间|演进路线|怎么演变", re.I
)
_LINEAGE = re.compile(r"\blineage\b|\bfamily\b|\bfamily tree\b|谱系|家族|演进|演化|发展脉络", re.I)
_TOPIC = re.compile(
    r"\b(?:about|on|regarding|concerning|related to|relating to|for|in the area of)\b\s+(?P<en>.+)"
    r"|(?:关于|有关|涉及|针对)(?P<zh1>.+)|(?P<zh2>[^，。？?]{1,12}?)(?:方面|相关|有关)",
    re.I,
)
_STOP_TOPIC = re.compile(
    r"^(?:the|a|an|it|them|this|that|papers?|works?|research|论文|工作|的|研究)?\W*$", re.I
)
_LATIN_NAME = re.compile(
    r"(?P<word>[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)(?P<version>\s+(?!(?:19|20)\d\d\b)\d+(?:\.\d+)?\b)?"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MONTH_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december", "jan", "feb", "mar", "apr",
                "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}  # fmt: skip


@dataclass(frozen=True)
class Route:
    """The analysis of one question. `kind` is graph | rag | hybrid (refusal is decided later)."""

    question: str
    kind: str
    intent: (
        str  # papers | count | earliest | latest | ancestors | descendants | lineage | path | ""
    )
    language: str
    organizations: tuple[Node, ...] = ()
    categories: tuple[Node, ...] = ()
    techniques: tuple[Node, ...] = ()
    works: tuple[Node, ...] = ()
    dates: DateRange | None = None
    unknown_names: tuple[str, ...] = ()
    topic: str = ""

    @property
    def has_filters(self) -> bool:
        return bool(self.organizations or self.categories or self.techniques or self.dates)

    @property
    def names_outside_corpus(self) -> bool:
        """The question names something the corpus lacks (an unknown name such as `Mamba`, or a
        work known only as a reference such as GPT-4) and no paper of the corpus: organisations,
        categories and techniques are too broad to make it about the corpus."""
        external = self.unknown_names or any(w.kind == "work" for w in self.works)
        return bool(external) and not any(w.kind == "paper" for w in self.works)


def detect_language(text: str) -> str:
    """`zh` when the question is written in Chinese, else `en`."""
    return "zh" if _CJK.search(text) else "en"


def route(kg: KnowledgeGraph, question: str) -> Route:
    """Analyse a question: its language, the graph things it names and its structural intent."""
    language = detect_language(question)
    mentions = find_mentions(kg, question)
    unknown = _unknown_names(kg, question, mentions, language)
    mentions = [m for m in mentions if not _inside_unknown(m, question, unknown)]
    mentions = _prefer_filters(mentions)
    dates = find_date_range(_blank(question, mentions), _default_year(kg))
    by_kind: dict[str, list[Node]] = {}
    for m in mentions:
        nodes = by_kind.setdefault(m.node.kind, [])
        if m.node not in nodes:
            nodes.append(m.node)
    works = tuple(by_kind.get("paper", []) + by_kind.get("work", []))
    works = tuple(sorted(works, key=lambda n: _first_start(mentions, n)))
    base = Route(
        question=question,
        kind=RAG,
        intent="",
        language=language,
        organizations=tuple(by_kind.get("organization", [])),
        categories=tuple(by_kind.get("category", [])),
        techniques=tuple(by_kind.get("technique", [])),
        works=works,
        dates=dates,
        unknown_names=tuple(unknown),
    )
    lineage = _lineage_intent(question, mentions, works)
    if lineage:
        return _with(base, GRAPH, lineage)
    return _filter_route(base, question, mentions)


def _lineage_intent(question: str, mentions: list[Mention], works: tuple[Node, ...]) -> str:
    if not works:
        return ""
    if len(works) >= 2 and _PATH.search(question):
        return "path"
    if _DESCENDANT.search(question):
        return "descendants"
    if _PREDECESSOR.search(question):
        return "ancestors"
    cue = _BASED_ON.search(question)
    if cue:
        first = min(_first_start(mentions, w) for w in works)
        return "ancestors" if first < cue.start() else "descendants"
    if _LINEAGE.search(question):
        return "lineage"
    return ""


def _filter_route(base: Route, question: str, mentions: list[Mention]) -> Route:
    paperish = bool(_PAPER_WORD.search(question))
    counting = bool(_COUNT.search(question)) and (paperish or base.has_filters)
    listing = bool(_LIST.search(question))
    extreme = _extreme(question) if (paperish or base.has_filters) else ""
    if not (base.has_filters or (counting and paperish) or (extreme and paperish)):
        return base
    if base.works and not (counting or extreme):
        return base  # a named paper or work: a question about its content
    if base.unknown_names:
        return base  # about something the graph does not know: retrieval (or refusal) decides
    topic = _topic(question, mentions, base.dates)
    if counting:
        return _with(base, GRAPH, "count")
    if extreme:
        return _with(base, HYBRID if topic else GRAPH, extreme, topic)
    if listing or paperish:
        return _with(base, HYBRID if topic else GRAPH, "papers", topic)
    if topic and base.organizations:
        return _with(base, HYBRID, "papers", topic)
    return base


def _extreme(question: str) -> str:
    earliest, latest = _EARLIEST.search(question), _LATEST.search(question)
    if earliest and latest:
        return "earliest" if earliest.start() < latest.start() else "latest"
    return "earliest" if earliest else "latest" if latest else ""


def _topic(question: str, mentions: list[Mention], dates: DateRange | None) -> str:
    """What a filtered question is about beyond its filters ("about code"), or ""."""
    blanked = _blank(question, mentions)
    if dates is not None:
        blanked = blanked[: dates.start] + " " * (dates.end - dates.start) + blanked[dates.end :]
    match = _TOPIC.search(blanked)
    if not match:
        return ""
    topic = next(g for g in match.groups() if g is not None)
    topic = re.sub(r"[?？。.!！,，]+", " ", topic)
    topic = re.sub(r"\b(in|from|by|of|during|published|papers?)\b", " ", topic, flags=re.I)
    topic = re.sub(r"的?(论文|工作|文章|研究|有哪些|哪些|是什么|发表|发布)", " ", topic)
    topic = re.sub(r"列出|列举|所有|全部|一下|给出|请|和|与|跟|同|的", " ", topic)
    topic = " ".join(topic.split())
    return "" if _STOP_TOPIC.match(topic) else topic


def _unknown_names(
    kg: KnowledgeGraph, question: str, mentions: list[Mention], language: str
) -> list[str]:
    """Names the question states (`Mamba`, `QLoRA`, `Llama 3`) that the corpus never mentions."""
    names = []
    dates = find_date_range(question, _default_year(kg))
    for match in _LATIN_NAME.finditer(question):
        word = match["word"]
        inner = any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)
        initial = _sentence_start(question, match.start())
        capitalised = word[0].isupper() and (language == "zh" or not initial)
        if not (inner or capitalised) or not any(c.isalpha() for c in word):
            continue
        if word.casefold() in _MONTH_WORDS or _overlaps(match, dates):
            continue
        name = match[0].strip() if match["version"] else word
        if _covered(match.start(), match.end(), mentions) or _in_corpus(kg, name):
            continue
        names.append(name)
    return names


def _overlaps(match: re.Match[str], dates: DateRange | None) -> bool:
    return dates is not None and match.start() < dates.end and dates.start < match.end()


def _prefer_filters(mentions: list[Mention]) -> list[Mention]:
    """A span naming a category or organisation too ("multimodal") is that filter, not a
    technique or work filter on top of it."""
    spans = {(m.start, m.end) for m in mentions if m.node.kind in ("category", "organization")}
    return [m for m in mentions
            if m.node.kind in ("category", "organization") or (m.start, m.end) not in spans]  # fmt: skip


def _covered(start: int, end: int, mentions: list[Mention]) -> bool:
    return any(m.start <= start and end <= m.end for m in mentions)


def _inside_unknown(mention: Mention, question: str, unknown: list[str]) -> bool:
    """`Llama` inside `Llama 3`: the question names a version the corpus does not hold."""
    for name in unknown:
        start = question.find(name)
        if start >= 0 and start <= mention.start and mention.end <= start + len(name):
            return True
    return False


def _in_corpus(kg: KnowledgeGraph, word: str) -> bool:
    pattern = _corpus_pattern(word)
    return pattern.search(_corpus_text(kg)) is not None


def _corpus_pattern(word: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s\-_.]+", word.casefold()) if p]
    return re.compile(r"(?<![a-z0-9])" + r"[\s\-_.]*".join(parts) + r"(?![a-z0-9])")


_TEXT_CACHE: dict[str, str] = {}


def _corpus_text(kg: KnowledgeGraph) -> str:
    key = kg.corpus.sha256
    if key not in _TEXT_CACHE:
        parts = [
            f"{p.title}\n{p.organizations_raw}\n{' '.join(p.organizations)}\n{p.influence}\n"
            f"{p.abstract}"
            for p in kg.corpus.papers
        ]
        _TEXT_CACHE[key] = "\n".join(parts).casefold()
    return _TEXT_CACHE[key]


def _sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip()
    return not before or before[-1] in '.!?。！？:"“(（'


def _default_year(kg: KnowledgeGraph) -> int:
    years = Counter(int(p.date[:4]) for p in kg.corpus.papers)
    return years.most_common(1)[0][0] if years else 2023


def _blank(text: str, mentions: list[Mention]) -> str:
    """The text with the named things blanked out (so `Llama 2` is not read as a date)."""
    chars = list(text)
    for m in mentions:
        chars[m.start : m.end] = " " * (m.end - m.start)
    return "".join(chars)


def _first_start(mentions: list[Mention], node: Node) -> int:
    return min((m.start for m in mentions if m.node == node), default=len(mentions) + 10**6)


def _with(base: Route, kind: str, intent: str, topic: str = "") -> Route:
    return replace(base, kind=kind, intent=intent, topic=topic)

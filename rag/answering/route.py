"""Which way a question goes: exactly from the graph, through retrieval + LLM, or both.

Routing reads the graph's own vocabulary (`kg.names.find_mentions`: organisations, categories,
works, papers, techniques, bilingual) plus a few bilingual cue words for the structural intent
(list, count, earliest/latest, based on, descends from, path). Refusal ("none") needs retrieval
evidence too, so `rag.answering.pipeline` decides it after this analysis (see `rag.answering.refusal`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from kg.lang import han_count, is_chinese
from kg.names import Mention, find_mentions
from kg.records import Node
from rag.answering.dates import DateRange, find_date_range

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["Route", "detect_language", "route"]

GRAPH, RAG, HYBRID, NONE = "graph", "rag", "hybrid", "none"
W = "⟨w⟩"  # a work or paper the question names, in the question's shape (see `_shape`)

_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|几篇|多少|几个|数量|总数", re.I)
# A quantity the abstract states ("how many tokens was ⟨w⟩ trained on?", "⟨w⟩ 用了多少参数?"),
# not a count of works: the lineage cue in such a question ("trained on") is no lineage question.
_WORK_NOUNS = (r"papers?|models?|works?|descendants?|successors?|variants?|versions?|"
               r"derivatives?|children|ancestors?|predecessors?|follow-?ups?|publications?")  # fmt: skip
_MEASURE = re.compile(
    rf"\bhow\s+(?:many|much)\b(?!\s+(?:\S+\s+)?(?:{_WORK_NOUNS})\b)"
    r"|(?:多少|几)(?!\s*(?:篇|个?模型|个?工作|个?后续|个?变体|个?版本|个?衍生|个?后代|个?前身))",
    re.I,
)
# The same with a filter (a technique, an organisation): "投机解码加速了多少?" and "how many
# times faster is speculative decoding?" ask a figure, not how many papers use the technique.
_MEASURE_WITH_FILTER = re.compile(
    r"\bhow\s+much\b"
    rf"|\bhow\s+many\s+(?!(?:\S+\s+)?(?:{_WORK_NOUNS})\b)"
    r"(?!(?:were|was|are|is|did|do|does|have|has|had|of|in|from|by|came|come)\b)[a-z]"
    r"|(?:加速|提速|提升|提高|减少|降低|快|慢|节省|压缩|增加|增长|达到|缩短|扩展|扩大)了?(?:多少|几)",
    re.I,
)
_EARLIEST = re.compile(r"\b(first|earliest|oldest)\b|最早|第一|最先|最初", re.I)
_LATEST = re.compile(r"\b(latest|last|newest|most recent)\b|最新|最近|最晚|最后", re.I)
_PAPER_WORD = re.compile(r"\bpapers?\b|\bworks?\b|\bpublications?\b|论文|文章|工作|成果", re.I)
_LIST = re.compile(
    r"\b(which|what|list|show|name)\b.{0,40}\b(papers?|works?|publications?)\b"
    r"|\bpublish(?:ed|es)?\b|\breleased?\b|\bput out\b|\bpapers?\s+(?:from|by|of|in|on|about)\b"
    r"|\bc[ao]mes?\s+out\b|\bappeared\b|\bwas\s+published\b"
    r"|哪些|哪几篇|列出|列举|发表了|发布了|有什么论文|的论文|论文有|发表的|发布的",
    re.I,
)
# Lineage direction. Each rule reads the question's shape, in which every named work is ⟨w⟩;
# the first rule that matches says whether the question asks what the work builds on
# ("ancestors") or what builds on it ("descendants"). Verbs point from the child to the parent
# (A based on B), so the side of the verb the work stands on decides; relation nouns
# (predecessor, successor, 前身, 后继) ask for their own direction unless the work is their
# subject ("⟨w⟩ is the successor of what?" asks for ancestors).
_UP_VERB = (r"(?:based|built|build|builds|building|derived|derives?|descend(?:s|ed)?|fine-?tuned|"
            r"initiali[sz]ed|evolved?|grew|originat\w*|stem(?:s|med)?|come|comes|came|"
            r"adapted|distilled|trained)\s+(?:up)?(?:on|from|upon|out\s+of)")  # fmt: skip
_UP_NOUN = (r"predecessors?|ancestors?|parents?|origins?|roots?|base\s+models?|"
            r"previous\s+(?:version|generation|model)|前身|祖先|父模型|上一代|上一版本?|前代|"
            r"基础模型|基座模型|底座|原型|母模型")  # fmt: skip
_DOWN_NOUN = (r"successors?|descendants?|children|child\s+models?|follow-?ups?|derivatives?|"
              r"offspring|later\s+(?:versions?|models?|works?)|next\s+(?:version|generation)|"
              r"后继|后续|继任|下一代|升级版|改进版|衍生|派生|子模型|后代")  # fmt: skip
_ZH_UP_VERB = r"基于|源自|来源于|来自|衍生自|派生自|继承自|演化自|演变自|脱胎于|改进自|升级自|微调自|沿用|是从|从"
# A part of the work is the verb's subject ("the APIs in ⟨w⟩'s dataset come from", "the reward
# model in ⟨w⟩ fine-tuned from"): a question about the work's content, not its lineage.
_PART_NOUN = rf"(?!(?:{_UP_NOUN}|{_DOWN_NOUN}|models?\b|versions?\b))[a-z][\w-]*"
_DIRECTION_RULES: tuple[tuple[str, str], ...] = (
    (rf"{W}\s*(?:'s|’s)\s+(?:\w+\s+){{0,2}}?{_PART_NOUN}.{{0,12}}?\b{_UP_VERB}\b", ""),
    (rf"\b(?:in|of)\s+{W}\s*(?:(?:is|was|are|were)\s+)?{_UP_VERB}\b", ""),
    (
        rf"{W}\s*(?:is|was)\s+(?:a|an|the)?\s*(?:direct\s+)?(?:{_DOWN_NOUN})\s+(?:of|to)",
        "ancestors",
    ),
    (
        rf"{W}\s*(?:is|was)\s+(?:a|an|the)?\s*(?:direct\s+)?(?:{_UP_NOUN})\s+(?:of|to)",
        "descendants",
    ),
    (rf"{W}\s*是\s*\S{{0,10}}的\s*(?:{_DOWN_NOUN})", "ancestors"),
    (rf"{W}\s*是\s*\S{{0,10}}的\s*(?:{_UP_NOUN})", "descendants"),
    (
        rf"(?:{_UP_NOUN})\s*(?:is|是|为)\s*{W}|has\s+{W}\s+as\s+(?:its\s+|a\s+|the\s+)?(?:{_UP_NOUN})",
        "descendants",
    ),
    (
        rf"(?:{_DOWN_NOUN})\s*(?:is|是|为)\s*{W}|has\s+{W}\s+as\s+(?:its\s+|a\s+|the\s+)?(?:{_DOWN_NOUN})",
        "ancestors",
    ),
    (rf"{W}.{{0,24}}?\b{_UP_VERB}\b", "ancestors"),
    (rf"\b{_UP_VERB}\s+(?:the\s+)?(?:top\s+of\s+)?(?:the\s+)?{W}", "descendants"),
    (
        rf"{W}.{{0,20}}?\b(?:shares?|uses?|adopts?|follows?|borrows?|reuses?)\s+(?:the\s+)?(?:same\s+)?"
        r"(?:model\s+)?architecture",
        "ancestors",
    ),
    (
        rf"{W}\s*(?:是|都是|也是)?\s*(?:在|建立在|构建在)\s*\S{{0,10}}(?:基础上|基础之上|之上)",
        "ancestors",
    ),
    (
        rf"(?:在|以)\s*{W}\s*(?:的)?\s*(?:基础上|基础之上|之上|为基础|作为基础|为基座|为底座|为骨干)",
        "descendants",
    ),
    (rf"{W}\s*(?:衍生|派生|演化|演变|发展|升级|改进|扩展)出", "descendants"),
    (rf"(?:{_ZH_UP_VERB})\s*{W}", "descendants"),
    (rf"{W}\s*\S{{0,6}}?(?:{_ZH_UP_VERB})", "ancestors"),
    (rf"(?:{_UP_NOUN})\s*(?:of|for)\s+{W}|{W}(?:'s|’s|\s*的)\s*(?:{_UP_NOUN})", "ancestors"),
    (
        rf"(?:{_DOWN_NOUN})\s*(?:of|to|for)\s+{W}|{W}(?:'s|’s|\s*的)\s*(?:{_DOWN_NOUN})",
        "descendants",
    ),
    (
        rf"\b(?:came|comes?|released|published)\s+(?:right\s+)?(?:after|following)\s+{W}|{W}\s*之后",
        "descendants",
    ),
    (rf"\b(?:came|comes?|released|published)\s+(?:right\s+)?before\s+{W}|{W}\s*之前", "ancestors"),
    (rf"{W}.{{0,12}}(?:{_DOWN_NOUN})", "descendants"),
    (rf"{W}.{{0,12}}(?:{_UP_NOUN})", "ancestors"),
    # no word ties the cue to the work ("and what came after it? (Llama 2)"): the cue alone
    (rf"\b(?:came|comes?|come\s+next)\s+after\b|(?:{_DOWN_NOUN})", "descendants"),
    (rf"\b(?:came|comes?)\s+before\b|(?:{_UP_NOUN})", "ancestors"),
)
_RELATION = re.compile(
    r"\brelat(?:ed|ion|ionship|es?)\b|\bconnect(?:ed|ion|s)?\b|\blink(?:ed|s)?\b|\bpath\b|\bbetween\b"
    r"|\btrace\b|\bchain\b|\bfrom\s+⟨w⟩.{0,20}\bto\s+⟨w⟩|关系|联系|关联|路径|之间|演进路线|怎么演变|从\s*⟨w⟩.{0,10}到",
    re.I,
)
_SIBLINGS = re.compile(
    r"\bshares?\s+(?:a|the)?\s*(?:same\s+)?(?:parent|base|ancestor|foundation)|\bsame\s+"
    r"(?:parent|base(?:\s+model)?|model|foundation|ancestor)\s+as\b|\bsiblings?\b"
    r"|同一个?\s*(?:模型|基座|父模型|基础|祖先)|同源|兄弟",
    re.I,
)
_LINEAGE = re.compile(r"\blineage\b|\bfamily\b|\bgenealogy\b|\bevolution\b|谱系|家族|演进|演化|发展脉络|来龙去脉",
                      re.I)  # fmt: skip
# What a question asks about one paper: (attribute, cue).
_ATTRIBUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("organization", re.compile(
        r"\bwho\b|\bwhose\b|\bwhich\s+(?:organi[sz]ations?|compan(?:y|ies)|labs?|institutions?|teams?|"
        r"groups?|universit(?:y|ies)|orgs?)\b|\bpublishers?\b|\bbehind\b|\bauthors?\b"
        r"|谁|哪(?:个|家|所)?\s*(?:机构|公司|单位|团队|实验室|大学|组织)|哪家|发表单位|发布单位|出自|作者",
        re.I)),
    ("date", re.compile(
        r"\bwhen\b|\bwhat\s+(?:date|month|year|time)\b|\bwhich\s+(?:month|year|date)\b|"
        r"\b(?:release|publication)\s+date\b|\bdated?\b|什么时候|何时|哪一?年|哪个?月|几月|发布时间|发表时间|日期",
        re.I)),
    ("category", re.compile(
        r"\bcategor(?:y|ies)\b|\bsection\b|\bfiled\s+under\b|\bclassified\b|\bwhich\s+(?:area|field|track)\b"
        r"|类别|分类|哪一?类|什么类|什么方向|哪个方向|哪一个方向|归在|归为|属于", re.I)),
    ("techniques", re.compile(
        # one space: a name blanked between "what" and "method" qualifies it (What ⟨attention⟩
        # method …) and asks the abstract for one specific method, as "what decoding method" does
        r"\b(?:which|what)\s(?:(?:key|main|core|major|specific|particular|other|important|notable|"
        r"new|novel|ai|ml)\s+)?(?:techniques?|methods?)\b.{0,30}\b(?:use[sd]?|employ\w*|appl\w*|rel\w*)\b"
        r"|(?:用到|采用|使用|涉及|用了)\S{0,6}(?:技术|方法)", re.I)),
    ("influence", re.compile(
        r"\binfluen\w*|\bimpact\b|\bsignifican\w*|\bknown\s+for\b|\bimportan\w*|影响|意义|地位", re.I)),
    ("abstract", re.compile(r"\babstract\b|摘要", re.I)),
)  # fmt: skip
# Superlatives over groups: which organisation / month / category … has the most papers.
_MOST = re.compile(
    r"\bmost\b|\b(?:largest|greatest|highest|biggest)\s+(?:number|count|share)\b|最多|最高产|最活跃",
    re.I,
)
_FEWEST = re.compile(r"\bfewest\b|\bleast\b|\b(?:smallest|lowest)\s+(?:number|count)\b|最少", re.I)
_GROUPS: tuple[tuple[str, str], ...] = (
    ("quarter", r"quarters?|季度"),
    ("month", r"months?|月份?"),
    ("year", r"years?|年份|一年|年"),
    ("technique", r"techniques?|methods?|技术|方法"),
    ("category", r"categor(?:y|ies)|sections?|areas?|fields?|topics?|directions?|tracks?|类别|方向|领域|分类|类"),
    ("organization", r"organi[sz]ations?|compan(?:y|ies)|labs?|institutions?|universit(?:y|ies)|teams?|"
                     r"orgs?|publishers?|机构|公司|单位|团队|实验室|大学|组织"),
)  # fmt: skip
_ASKED_GROUP = r"(?:\b(?:which|what)\s+(?:\w+\s+)?|哪(?:个|一个|一|家|所|些)?\s*)(?:{nouns})"
_WHO = re.compile(r"\bwho\b|谁", re.I)
_TOPIC = re.compile(
    r"\b(?:about|on|regarding|concerning|related to|relating to|for|in the area of)\b\s+(?P<en>.+)"
    r"|(?:关于|有关|涉及|针对)(?P<zh1>.+)|(?P<zh2>[^，。？?]{1,12}?)(?:方面|相关|有关)",
    re.I,
)
_STOP_TOPIC = re.compile(
    r"^(?:the|a|an|it|them|this|that|papers?|works?|research|论文|工作|的|研究)?\W*$", re.I
)
_LATIN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(?P<word>[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*)(?P<version>\s+(?!(?:19|20)\d\d\b)\d+(?:\.\d+)?\b)?"
)
# Capitalised English words that open or fill a question; never names.
_QUESTION_WORDS = {
    "what", "which", "who", "whose", "when", "where", "why", "how", "is", "are", "was", "were",
    "do", "does", "did", "can", "could", "list", "show", "tell", "give", "name", "trace",
    "papers", "paper", "the", "a", "an", "in", "on", "of", "among", "since", "before", "after",
    "between", "from", "release", "released", "published", "publish", "works", "models",
}  # fmt: skip
_MONTH_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december", "jan", "feb", "mar", "apr",
                "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}  # fmt: skip


@dataclass(frozen=True)
class Route:
    """The analysis of one question. `kind` is graph | rag | hybrid (refusal is decided later).

    `intent`: papers | count | earliest | latest (over the filters) | attribute (of `works[0]`,
    which `attributes` names) | most | fewest (the `group` with the most / fewest papers) |
    ancestors | descendants | lineage | siblings (of `works[0]`) | path (between two works) |
    coauthors (of `authors[0]`) | author_papers (of `authors[0]`, or the other papers of the
    authors of `works[0]`) | authors (of `works[0]`) | "".
    """

    question: str
    kind: str
    intent: str
    language: str
    organizations: tuple[Node, ...] = ()
    categories: tuple[Node, ...] = ()
    techniques: tuple[Node, ...] = ()
    works: tuple[Node, ...] = ()
    dates: DateRange | None = None
    unknown_names: tuple[str, ...] = ()
    topic: str = ""
    attributes: tuple[str, ...] = ()
    group: str = ""
    authors: tuple[Node, ...] = ()

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
    """`zh` when the question is mainly Chinese, else `en`. A mixed question ("What did 普林斯顿
    publish?") is English when its English words outnumber half its Chinese characters; names
    (capitalised inside a sentence, or with inner capitals or digits) are not words here."""
    if not is_chinese(text):  # no Han, or Japanese / Korean: answered in English
        return "en"
    cjk = han_count(text)
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text) if _is_plain_word(w)]
    return "zh" if cjk >= 2 * len(words) else "en"


def _is_plain_word(word: str) -> bool:
    rest = word[1:]
    return rest == rest.lower() and (word[0].islower() or word.casefold() in _QUESTION_WORDS)


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
    shape = _shape(question, mentions, dates)
    authored = _author_route(kg, base, question, tuple(by_kind.get("author", [])))
    if authored is not None:
        return authored
    if works:
        lineage = _lineage_intent(shape, works)
        if lineage:
            return _with(base, GRAPH, lineage)
        attributes = _attributes(shape, works)
        if attributes:
            return replace(base, kind=GRAPH, intent="attribute", attributes=attributes,
                           categories=(), organizations=(), dates=None)  # fmt: skip
    grouped = _group_intent(base, shape)
    if grouped is not None:
        return grouped
    return _filter_route(base, shape, mentions)


_COAUTHOR = re.compile(r"co-?authors?|collaborat\w*|\bwork(?:ed|s)?\s+with\b|\bwr[io]te\s+with\b"
                       r"|合作|共同作者|合著", re.I)  # fmt: skip
_AUTHORS_OF = re.compile(r"\bauthors?\b|\bwho\s+wrote\b|作者|谁写", re.I)
_ELSE = re.compile(r"\belse\b|\bother\b|\balso\b|\bbesides\b|还|其他|其它|别的", re.I)
_WROTE = re.compile(
    r"\bwr[io]te\b|\bwritten\b|\bauthored\b|\bpapers?\b|\bpublish|写|论文|发表", re.I
)


def _author_route(
    kg: KnowledgeGraph, base: Route, question: str, authors: tuple[Node, ...]
) -> Route | None:
    """Questions about people: who wrote with X, what X wrote, what else the authors of a
    paper wrote, who wrote a paper (only for papers whose authors the graph knows)."""
    if authors and _COAUTHOR.search(question):
        return replace(base, kind=GRAPH, intent="coauthors", authors=authors)
    works = [w for w in base.works if w.kind == "paper" and _has_authors(kg, w)]
    if works and _AUTHORS_OF.search(question):
        intent = "author_papers" if _ELSE.search(question) else "authors"
        return replace(base, kind=GRAPH, intent=intent, works=(works[0],), authors=())
    if authors and _WROTE.search(question):
        return replace(base, kind=GRAPH, intent="author_papers", authors=authors, works=())
    return None


def _has_authors(kg: KnowledgeGraph, node: Node) -> bool:
    return any(k == "authored" for _, _, k in kg.graph.in_edges(node.id, keys=True))


def _shape(question: str, mentions: list[Mention], dates: DateRange | None) -> str:
    """The question with each named work written ⟨w⟩, other names blanked, and the date
    phrase blanked, so cue words are read around the names and never inside them."""
    chars = list(question)
    if dates is not None:
        chars[dates.start : dates.end] = " " * (dates.end - dates.start)
    for m in sorted(mentions, key=lambda m: -m.start):
        keep = m.node.kind == "category"  # 基础模型 is a category and a lineage noun
        if m.node.kind in ("paper", "work"):
            chars[m.start : m.end] = f" {W} "
        elif not keep:
            chars[m.start : m.end] = " " * (m.end - m.start)
    return "".join(chars)


def _lineage_intent(shape: str, works: tuple[Node, ...]) -> str:
    if _MEASURE.search(shape):
        return ""
    direction = _direction(shape)
    if len(works) >= 2 and (direction or _RELATION.search(shape)):
        return "path"
    if _SIBLINGS.search(shape):
        return "siblings"
    if direction:
        return direction
    if _LINEAGE.search(shape):
        return "lineage"
    return ""


def _direction(shape: str) -> str:
    for pattern, direction in _DIRECTION_RULES:
        if _compiled(pattern).search(shape):
            return direction
    return ""


def _attributes(shape: str, works: tuple[Node, ...]) -> tuple[str, ...]:
    """What the question asks about one corpus paper (who published it, when, …), if anything."""
    if len(works) != 1 or works[0].kind != "paper":
        return ()
    if _COUNT.search(shape) or re.search(r"\bpapers\b|哪些论文|哪几篇", shape, re.I):
        return ()  # about several papers, not one attribute
    return tuple(name for name, cue in _ATTRIBUTES if cue.search(shape))


def _group_intent(base: Route, shape: str) -> Route | None:
    """Which organisation / month / category … has the most (or fewest) papers."""
    order = "fewest" if _FEWEST.search(shape) else "most" if _MOST.search(shape) else ""
    if not order or base.works:
        return None
    group = _asked_group(shape)
    if not group:
        return None
    return replace(base, kind=GRAPH, intent=order, group=group)


def _asked_group(shape: str) -> str:
    for name, nouns in _GROUPS:
        if re.search(_ASKED_GROUP.format(nouns=nouns), shape, re.I):
            return name
    if _WHO.search(shape):
        return "organization"
    for name, nouns in _GROUPS:
        if re.search(rf"(?:\b|的)(?:{nouns})(?:\b|是)", shape, re.I) and name != "year":
            return name
    return ""


def _filter_route(base: Route, shape: str, mentions: list[Mention]) -> Route:
    question = base.question
    paperish = bool(_PAPER_WORD.search(shape))
    counting = bool(_COUNT.search(shape)) and (paperish or base.has_filters)
    counting = counting and not _MEASURE_WITH_FILTER.search(shape)
    # "Gemini 在多少个多模态基准上…": a quantity of the named work, not a count of papers
    counting = counting and not (base.works and _MEASURE.search(shape))
    listing = bool(_LIST.search(shape))
    extreme = _extreme(shape) if (paperish or base.has_filters) else ""
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
    if base.organizations or base.categories:
        # named, but no structural intent: retrieval over the graph's candidates, never a refusal
        return _with(base, HYBRID, "papers", topic)
    return base


def _extreme(question: str) -> str:
    earliest, latest = _EARLIEST.search(question), _LATEST.search(question)
    if earliest and latest:
        return "earliest" if earliest.start() < latest.start() else "latest"
    return "earliest" if earliest else "latest" if latest else ""


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


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
        if word.casefold() in _MONTH_WORDS | _QUESTION_WORDS or _overlaps(match, dates):
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

"""A question read against the graph, before any question type claims it: the `Route` record,
the question's language, the graph things it names, the names the corpus lacks, and its shape.

The shape is the question with each named work written ⟨w⟩, other names and the date phrase
blanked, so that cue words (`data/route_cues.json`) are read around the names and never inside
them. Which question type the analysis is (and so where it goes) is decided by the table in
`rag.answering.intents`; `rag.answering.route` ties the two together.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kg.cues import CueBook, load_cues
from kg.lang import han_count, is_chinese
from kg.names import Mention, find_mentions
from kg.records import Node
from rag.answering.dates import DateRange, find_date_range, month_names
from rag.checking.names import WORD, is_marked

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["GRAPH", "HYBRID", "NONE", "RAG", "W", "Question", "Route", "analyse", "detect_language"]

GRAPH, RAG, HYBRID, NONE = "graph", "rag", "hybrid", "none"
W = "⟨w⟩"  # a work or paper the question names, in the question's shape (see `Question.shape`)

# A name, maybe with a version after a space (`Llama 3`; a year is no version).
_LATIN_NAME = re.compile(
    rf"(?<![A-Za-z0-9])(?P<word>{WORD})(?P<version>\s+(?!(?:19|20)\d\d\b)\d+(?:\.\d+)?\b)?"
)
_SENTENCE_BREAKS = '.!?。！？:"“(（'


def route_cues() -> CueBook:
    """The routing cue words (`data/route_cues.json`)."""
    return load_cues("route_cues")


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

    def to(self, kind: str, intent: str, topic: str = "") -> Route:
        """This analysis sent `kind`-wards with `intent` (and `topic`)."""
        return replace(self, kind=kind, intent=intent, topic=topic)


@dataclass(frozen=True)
class Question:
    """What every question type reads: the `base` route (kind rag, no intent, the filters and
    works found), the graph, the mentions, the authors named and the shape."""

    kg: KnowledgeGraph
    base: Route
    mentions: tuple[Mention, ...]
    authors: tuple[Node, ...]
    shape: str

    @property
    def text(self) -> str:
        return self.base.question


def analyse(kg: KnowledgeGraph, question: str) -> Question:
    """Read a question: its language, the graph things it names and its shape."""
    language = detect_language(question)
    mentions, led = _org_led_names(question, find_mentions(kg, question))
    unknown = [*led, *_unknown_names(kg, question, mentions, language)]
    mentions = [m for m in mentions if not _inside_unknown(m, question, unknown)]
    mentions = _prefer_filters(mentions)
    dates = find_date_range(blank(question, mentions), _default_year(kg))
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
    return Question(kg, base, tuple(mentions), tuple(by_kind.get("author", [])), shape)


def detect_language(text: str) -> str:
    """`zh` when the question is mainly Chinese, else `en`. A mixed question ("What did 普林斯顿
    publish?") is English when its English words outnumber half its Chinese characters; names
    (capitalised inside a sentence, or with inner capitals or digits) are not words here."""
    if not is_chinese(text):  # no Han, or Japanese / Korean: answered in English
        return "en"
    cjk = han_count(text)
    questions = route_cues().words("question_words")
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text) if _is_plain_word(w, questions)]
    return "zh" if cjk >= 2 * len(words) else "en"


def _is_plain_word(word: str, question_words: frozenset[str]) -> bool:
    rest = word[1:]
    return rest == rest.lower() and (word[0].islower() or word.casefold() in question_words)


def blank(text: str, mentions: list[Mention] | tuple[Mention, ...]) -> str:
    """The text with the named things blanked out (so `Llama 2` is not read as a date)."""
    chars = list(text)
    for m in mentions:
        chars[m.start : m.end] = " " * (m.end - m.start)
    return "".join(chars)


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


def _unknown_names(
    kg: KnowledgeGraph, question: str, mentions: list[Mention], language: str
) -> list[str]:
    """Names the question states (`Mamba`, `QLoRA`, `Llama 3`) that the corpus never mentions."""
    names = []
    dates = find_date_range(question, _default_year(kg))
    never = month_names() | route_cues().words("question_words")
    for match in _LATIN_NAME.finditer(question):
        word = match["word"]
        inner = is_marked(word)
        initial = _sentence_start(question, match.start())
        capitalised = word[0].isupper() and (language == "zh" or not initial)
        if not (inner or capitalised) or not any(c.isalpha() for c in word):
            continue
        if word.casefold() in never or _overlaps(match, dates):
            continue
        name = match[0].strip() if match["version"] else word
        if _covered(match.start(), match.end(), mentions) or _in_corpus(kg, name):
            continue
        names.append(name)
    return names


def _org_led_names(question: str, mentions: list[Mention]) -> tuple[list[Mention], list[str]]:
    """Names that start with an organisation's ("Mistral Large", "Google Gemma 2") are works,
    not the organisation: those organisation mentions dropped, the whole names returned (as
    names the corpus lacks). One followed by a name of the graph ("Meta Llama 2") or by a word
    that continues an organisation's name ("Princeton NLP") stays."""
    cues = route_cues()
    led, kept = [], []
    for m in mentions:
        after = (
            cues.regex("org_led_name").match(question[m.end :])
            if m.node.kind == "organization"
            else None
        )
        if after is not None:
            start = m.end + after.start("rest")
            rest = after["rest"]
            if not any(o.start <= start < o.end for o in mentions) and \
                    rest.split()[0].casefold() not in cues.words("organization_parts"):  # fmt: skip
                led.append(question[m.start : m.end + after.end()])
                continue
        kept.append(m)
    return kept, led


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
    return not before or before[-1] in _SENTENCE_BREAKS


def _default_year(kg: KnowledgeGraph) -> int:
    years = Counter(int(p.date[:4]) for p in kg.corpus.papers)
    return years.most_common(1)[0][0] if years else 2023


def _first_start(mentions: list[Mention], node: Node) -> int:
    return min((m.start for m in mentions if m.node == node), default=len(mentions) + 10**6)

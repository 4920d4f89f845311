"""Citation checking: parse `[P1]` citations, strip invented ones, drop unsupported sentences.

A sentence survives only if it cites at least one source that was shown and the cited sources
support it: the sentence is semantically close to one of them (embedding similarity), every
number and name it states appears in them, and each figure is bound to what it measures there
(`rag.checking.figures`). The evidence is the cited source alone, never the question: a name typed into
the question is not thereby "supported". An organisation named in a sentence must be one of the
cited paper's organisations (its structured field), unless the sentence only repeats a name its
text mentions without saying who made the work. If nothing survives, the answer becomes
extractive: the sentence that best answers the question, quoted and cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.lang import han_count
from kg.tables import fold
from kg.text import ANSWER_SENTENCE_END
from kg.text import split_sentences as kg_split_sentences
from rag.answering import prompts
from rag.answering.evidence import paper_sentences
from rag.checking.citations import CITATION, citation_numbers, cited_numbers
from rag.checking.figures import figure_supported, figures, figures_together
from rag.models.catalogue import embedder_thresholds
from rag.retrieval.bm25 import tokenize

if TYPE_CHECKING:
    from kg.corpus import Paper

__all__ = [
    "adds_to",
    "CheckedText",
    "NamedSpan",
    "SourceText",
    "SupportChecker",
    "check_answer",
    "cited_numbers",
    "extractive_answer",
    "split_sentences",
    "strip_unknown_citations",
]

_LEADING_CITATION = re.compile(r"^\s*(?:[-*•]|\d+[.)、])?\s*\[\s*P\s*\d+", re.IGNORECASE)
_CITATION_PREFIX = re.compile(rf"^(?:\s*{CITATION.pattern})+", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n\s*\n")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)、])\s*")
# A Latin name: has an inner capital or a digit (LLaMA, GPT-4, Q-Former) or is capitalised.
_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
# A sentence saying who made a work: an organisation named in it must be the paper's own.
# Looked for next to the organisation's name only ("published by Google", "谷歌发表", "Google's
# Medusa"), so "APIs from Hugging Face" in a sentence about a release is not a claim of making.
_AUTHORSHIP = re.compile(
    r"publish|releas|develop|wrote|written|author|creat|propos|introduc|made by|built by|"
    r"'s\b|’s\b|发表|发布|提出|开发|推出|撰写|出品|团队|单位|研发",
    re.IGNORECASE,
)
_AUTHORSHIP_WINDOW = 16
# A sentence saying who made the work, whoever it names (the name may be one the graph does not
# know, "斯坦福大学"): it must name one of the cited paper's organisations.
_MAKER_CLAIM = re.compile(
    r"由.{1,24}?(?:发表|发布|提出|开发|推出|撰写)|是.{1,24}?(?:发表|发布|提出|开发|推出)的|"
    r"(?:发表|发布)单位|\b(?:published|developed|released|written|authored|created) by\b|"
    r"\b(?:came|comes) from\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NamedSpan:
    """A name the graph knows, found in a sentence: where, under which aliases, of what kind."""

    start: int
    end: int
    aliases: tuple[str, ...]
    kind: str


# Every name the graph knows in a sentence.
MentionAliases = Callable[[str], Sequence[NamedSpan]]
# The lineage relation that the text before and after a name states of it (基于 X, fine-tuned
# from X: `kg.lineage.lineage_cue` over the cue lexicon), or None.
LineageCue = Callable[[str, str], str | None]
# An answer sentence of at most this many terms is checked together with its question.
_BARE_TERMS = 4
# How far before a name a lineage cue may start (the longest cue is shorter).
_CUE_REACH = 60


@dataclass(frozen=True)
class SourceText:
    """What a `[Pn]` stands for when checking: its number and paper, the header it was shown
    with (`title`, `organizations_shown`, `date`) and `passage`, the evidence shown to the model.
    `entry` is the paper's whole entry below its header (influence note and abstract: every figure
    and name the citation can stand for; defaults to `passage`), `organizations` every alias of
    its organisations and their parents (the structured field), `own_names` the paper's own names
    (its implicit subject: "our method" in the abstract). Build one with `from_paper`."""

    number: int
    paper_id: str
    title: str
    passage: str
    organizations_shown: str = ""
    date: str = ""
    entry: str = ""
    organizations: tuple[str, ...] = ()
    own_names: tuple[str, ...] = ()

    @classmethod
    def from_paper(
        cls,
        number: int,
        paper: Paper,
        passage: str | None = None,
        organizations: tuple[str, ...] = (),
        own_names: tuple[str, ...] = (),
    ) -> SourceText:
        """The source for `paper` shown as `passage` (default: its whole entry)."""
        entry = f"{paper.influence}\n{paper.abstract}"
        shown = f"{', '.join(paper.organizations)} {paper.organizations_raw}"
        return cls(number, paper.id, paper.title, entry if passage is None else passage, shown,
                   paper.date, entry, organizations, own_names)  # fmt: skip

    @property
    def meta(self) -> str:
        """The header's second line: organisations and date."""
        return f"{self.organizations_shown} {self.date}"

    @property
    def text(self) -> str:
        """What a sentence is compared with: the header lines, then the passage shown."""
        return f"{self.title}\n{self.meta}\n{self.passage}"

    @property
    def body(self) -> str:
        """The entry below the header (the passage when there is no entry)."""
        return self.entry or self.passage

    @property
    def evidence(self) -> str:
        """Where stated figures and names are looked up: the header lines and the entry."""
        return f"{self.title}\n{self.meta}\n{self.body}"


@dataclass(frozen=True)
class CheckedText:
    text: str
    cited: tuple[int, ...]
    removed_citations: int
    unsupported_sentences: int
    extractive: bool


def strip_unknown_citations(text: str, valid: set[int]) -> tuple[str, int]:
    """Remove citations to numbers not in `valid`; return the text and how many were removed."""
    removed = 0

    def keep_valid(match: re.Match[str]) -> str:
        nonlocal removed
        numbers = citation_numbers(match[0])
        kept = [n for n in numbers if n in valid]
        removed += len(numbers) - len(kept)
        return "".join(f"[P{n}]" for n in kept)

    return CITATION.sub(keep_valid, text), removed


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer; a citation written after the full stop stays with its sentence."""
    pieces = kg_split_sentences(text, ANSWER_SENTENCE_END)
    sentences: list[str] = []
    marker = ""
    leading_style = bool(_LEADING_CITATION.match(text))
    for piece in pieces:
        prefix = _CITATION_PREFIX.match(piece)
        if prefix and sentences and not marker and not leading_style:
            # "… heads. [P1] Next sentence": the citation closes the sentence before it
            sentences[-1] = f"{sentences[-1]} {prefix[0].strip()}"
            piece = piece[prefix.end() :].strip()
            if not piece:
                continue
        if _LIST_MARKER.fullmatch(piece):
            marker += piece + " "  # "1." opens the list item that follows
        elif sentences and not marker and not CITATION.sub("", piece).strip(" .。,，;；"):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(marker + piece)
            marker = ""
    return sentences


class SupportChecker:
    """Decides whether the passages a sentence cites support what it says.

    `threshold`: how close (cosine) a sentence must be to a cited source; `extractive_margin`:
    the extractive fallback quotes a further source only if its best sentence is about as close
    to the question as the first one's. Both default to the embedder's calibrated thresholds
    (`rag.models.catalogue.Thresholds`: for EmbeddingGemma, paraphrases of one paper score 0.40-0.66 against
    it and 0.25-0.59 against the closest other paper, by `closeness`)."""

    def __init__(
        self,
        embedder: object,
        threshold: float | None = None,
        mention_aliases: MentionAliases | None = None,
        extractive_margin: float | None = None,
        document_vectors: Callable[[Sequence[str]], np.ndarray] | None = None,
        lineage_cue: LineageCue | None = None,
    ) -> None:
        calibrated = embedder_thresholds(str(getattr(embedder, "name", "")))
        self.embedder = embedder
        self.threshold = calibrated.support if threshold is None else threshold
        self.extractive_margin = (
            calibrated.extractive_margin if extractive_margin is None else extractive_margin
        )
        self.mention_aliases = mention_aliases
        # a cache of passage/sentence vectors (the engine's), else the embedder itself
        self.document_vectors = document_vectors
        self.lineage_cue = lineage_cue

    def closeness(self, sentences: Sequence[str], sources: Sequence[SourceText]) -> np.ndarray:
        """How close each sentence (rows) is to each source (columns): its cosine to the source
        text, or to the closest sentence the source showed where that is higher. A claim restates
        one sentence, and an English claim's cosine to a whole Chinese passage runs low (0.32 for
        a correct one); `threshold` is calibrated on this measure (`rag.evaluation.calibrate`)."""
        if not sentences or not sources:
            return np.zeros((len(sentences), len(sources)), dtype=np.float32)
        parts = [paper_sentences("", s.passage) for s in sources]
        flat = [p for ps in parts for p in ps]
        encode = self.document_vectors or self.embedder.encode_documents  # type: ignore[attr-defined]
        vectors = np.asarray(encode([s.text for s in sources] + flat))
        queries = self.embedder.encode_queries([_claim(s) for s in sentences])  # type: ignore[attr-defined]
        scores = np.asarray(queries @ vectors.T, dtype=np.float32)
        whole, each = scores[:, : len(sources)].copy(), scores[:, len(sources) :]
        column = 0
        for j, ps in enumerate(parts):
            if ps:
                best = each[:, column : column + len(ps)].max(axis=1)
                whole[:, j] = np.maximum(whole[:, j], best)
                column += len(ps)
        return whole

    def similarities(self, sentences: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each sentence (rows) to each source text (columns)."""
        if not sentences or not texts:
            return np.zeros((len(sentences), len(texts)), dtype=np.float32)
        queries = self.embedder.encode_queries([_claim(s) for s in sentences])  # type: ignore[attr-defined]
        docs = self.embedder.encode_documents(list(texts))  # type: ignore[attr-defined]
        return np.asarray(queries @ docs.T, dtype=np.float32)

    def facts_supported(self, sentence: str, cited: Sequence[SourceText]) -> bool:
        """Every figure, name and organisation the sentence states is in the cited sources,
        each figure bound to what it measures there. Only the sources count as evidence.

        A name the graph knows (`mention_aliases`) counts as present under any of its aliases
        (`Transformer` / `变换器`, `Google` / `谷歌`).
        """
        if not cited:
            return False
        evidence_raw = "\n".join(s.evidence for s in cited)
        evidence = fold(evidence_raw)
        claim = _claim(sentence)
        own = [n for s in cited for n in (*s.own_names, _short_title(s.title))]
        known = list(self.mention_aliases(claim)) if self.mention_aliases is not None else []
        stated = [
            f
            for f in figures(claim)  # the 2 of "Llama 2" is the name's, checked as one
            if not any(s.start <= f.start and f.start + len(f.text) <= s.end for s in known)
        ]
        if not all(figure_supported(f, claim, evidence_raw, own) for f in stated):
            return False
        if not figures_together(claim, evidence_raw):
            return False
        organizations = {fold(o) for s in cited for o in s.organizations}
        if organizations and _MAKER_CLAIM.search(claim) and \
                not any(o in fold(claim) for o in organizations):  # fmt: skip
            return False  # says who made it without naming the paper's own organisation
        for span in known:
            if not any(fold(a) in evidence for a in span.aliases):
                return False
            if span.kind == "organization" and organizations and \
                    not organizations & {fold(a) for a in span.aliases} and \
                    _claims_authorship(claim, span):  # fmt: skip
                return False  # names the wrong maker, even if the text mentions that name
        unknown = [
            (start, end, (name,))
            for start, end, name in _names(claim)
            if not any(s.start <= start and end <= s.end for s in known)
        ]
        if not all(_name_found(aliases[0], evidence) for _, _, aliases in unknown):
            return False
        spans = [(s.start, s.end, s.aliases) for s in known] + unknown
        return all(self._lineage_stated(claim, span, evidence_raw) for span in spans)

    def _lineage_stated(
        self, claim: str, span: tuple[int, int, tuple[str, ...]], evidence: str
    ) -> bool:
        """A name the claim makes a parent ("fine-tuned from X", "基于 X") is one the evidence
        also states a lineage cue around, under any alias: that X is in the source is not enough
        ("fine-tuned from the PRM800K dataset", where PRM800K is the label set it was trained
        on). Which relation is not compared: "based on" and "fine-tuned from" are used loosely."""
        start, end, aliases = span
        if self.lineage_cue is None or self.lineage_cue(claim[:start], claim[end:]) is None:
            return True
        for alias in aliases:
            for found in re.finditer(re.escape(alias), evidence, re.IGNORECASE):
                before = evidence[max(0, found.start() - _CUE_REACH) : found.start()]
                if self.lineage_cue(before, evidence[found.end() :]) is not None:
                    return True
        return False


def check_answer(
    raw: str, sources: Sequence[SourceText], checker: SupportChecker, question: str = ""
) -> CheckedText:
    """Strip invented citations, then keep only the supported, cited sentences of `raw`.

    A bare answer ("10万美元 [P1]", "Markdown.") means nothing without the `question` it
    answers: it is checked as the question followed by it, so that its closeness is that of
    the claim it makes and its figure is bound to what the question asks."""
    by_number = {s.number: s for s in sources}
    text, removed = strip_unknown_citations(raw, set(by_number))
    sentences = split_sentences(text)
    cited = _inherit_paragraph_citations(text, sentences)
    order = [s.number for s in sources]
    claims = [f"{question} {s}" if question and _is_bare(s) else s for s in sentences]
    sims = checker.closeness(claims, [by_number[n] for n in order])
    kept: list[str] = []
    used: list[int] = []
    unsupported = 0
    for i, sentence in enumerate(sentences):
        if _is_connective(sentence) or _only_restates_a_header(sentence, sources):
            continue
        # closest first, so that the smallest supporting set of citations is kept
        ranked = sorted(cited[i], key=lambda n: -sims[i, order.index(n)])
        close = [n for n in ranked if sims[i, order.index(n)] >= checker.threshold]
        supported = _supported_subset(checker, claims[i], close, cited[i], by_number)
        if not supported:
            unsupported += 1
            continue
        if len(supported) < len(cited[i]):
            sentence, _ = strip_unknown_citations(sentence, set(supported))
        if not cited_numbers(sentence):
            sentence = sentence + "".join(f"[P{n}]" for n in supported)
        kept.append(sentence)
        used.extend(n for n in supported if n not in used)
    joiner = "" if _is_cjk_text(" ".join(kept)) else " "
    return CheckedText(joiner.join(kept), tuple(used), removed, unsupported, extractive=False)


# Words that point at a source or at the question without saying anything of their own.
_POINTER_WORDS = frozenset(
    [
        "described",
        "describes",
        "stated",
        "states",
        "mentioned",
        "mentions",
        "reported",
        "reports",
        "discussed",
        "noted",
        "paper",
        "papers",
        "source",
        "sources",
        "according",
        "corpus",
        "abstract",
        "detail",
        "details",
        "following",
        "提到",
        "描述",
        "所述",
        "论文",
        "资料",
        "来源",
        "摘要",
        "文中",
        "详见",
        "如下",
        "指出",
    ]
)


def adds_to(question: str, answer: str) -> bool:
    """`answer` says something the question does not: a content word beyond the question's
    own and beyond pointers at a source. "ToolLLM built an automatic evaluator for tool use,
    which is described in [P1]." and an echo of the question ("Code Llama 在多长的输入上仍显示出
    改善。") do not answer, however well they are supported."""
    asked = {stem for t in tokenize(question) for stem in _stems(t)}
    said = [t for t in tokenize(CITATION.sub(" ", answer)) if t not in _POINTER_WORDS]
    return any(not _stems(t) & asked for t in said)


def _stems(token: str) -> set[str]:
    """The forms a Latin word is matched by: its Snowball stem (published / publish, mixtures /
    mixture) and a cut of its last letters for the irregular past (built / build) that keeps a
    longer name apart from the word it starts with (tooleval / tool). Other tokens as they are."""
    if not (token.isalpha() and token.isascii()):
        return {token}
    return {_english_stemmer().stemWord(token), token[: max(4, len(token) - 3)]}


@lru_cache(maxsize=1)
def _english_stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def extractive_answer(
    question: str,
    sources: Sequence[SourceText],
    checker: SupportChecker,
    language: str,
    limit: int = 2,
    quotes: Mapping[int, str] | None = None,
) -> CheckedText:
    """The sentence that best answers the question from each top source, quoted and cited.

    `quotes` (source number → sentence) are the answering sentences already chosen by the
    evidence selection (`rag.answering.evidence`); without them each source's sentences are ranked by
    similarity to the question here."""
    lines = [prompts.render("extractive", language)]
    used: list[int] = []
    top = -1.0
    for source in sources[:limit]:
        if quotes is not None:
            if source.number not in quotes:
                continue
            lines.append(f"- “{quotes[source.number]}” [P{source.number}]")
            used.append(source.number)
            continue
        candidates = paper_sentences("", source.body) or [source.title]
        sims = checker.similarities([question], candidates)[0]
        best = int(np.argmax(sims))
        if used and sims[best] < top - checker.extractive_margin:
            break  # a clearly weaker source would only dilute the quoted evidence
        top = max(top, float(sims[best]))
        lines.append(f"- “{candidates[best]}” [P{source.number}]")
        used.append(source.number)
    return CheckedText("\n".join(lines), tuple(used), 0, 0, extractive=True)


def _inherit_paragraph_citations(text: str, sentences: list[str]) -> list[list[int]]:
    """Citations per sentence. Models often cite a block once: at its end ("… . [P1]") or at its
    start ("[P1] … . …"). A sentence without a citation takes those of the block's citing
    sentence, following the convention the answer uses; blocks end at a blank line."""
    cited = [sorted(set(cited_numbers(s))) for s in sentences]
    block = _block_ids(text, sentences)
    leading = sum(bool(_LEADING_CITATION.match(s)) for s in sentences)
    trailing = sum(bool(cited_numbers(s)) and not _LEADING_CITATION.match(s) for s in sentences)
    order = range(1, len(sentences)) if leading > trailing else range(len(sentences) - 2, -1, -1)
    step = -1 if leading > trailing else 1
    for i in order:
        j = i + step
        if not cited[i] and cited[j] and block[i] == block[j]:
            cited[i] = cited[j]
    return cited


def _block_ids(text: str, sentences: list[str]) -> list[int]:
    ids, position = [], 0
    for sentence in sentences:
        found = text.find(sentence[:20], position)
        if found >= 0:
            position = found
        ids.append(len(_BLANK_LINE.findall(text, 0, position)))
    return ids


def _supported_subset(
    checker: SupportChecker,
    sentence: str,
    close: Sequence[int],
    cited: Sequence[int],
    by_number: dict[int, SourceText],
) -> list[int]:
    """The citations that support a sentence: the closest one alone when it holds all the facts
    stated, else the close ones, else all it cites when together they do (one being close);
    [] when unsupported."""
    if not close:
        return []
    for numbers in (close[:1], close, cited):
        if checker.facts_supported(sentence, [by_number[n] for n in numbers]):
            return list(numbers)
    return []


def _is_bare(sentence: str) -> bool:
    """Only the answer itself, without the words that say what it is about: a few terms."""
    return len(tokenize(_claim(sentence))) <= _BARE_TERMS


def _is_connective(sentence: str) -> bool:
    """Nothing to check: empty, or an introduction ("The paper has these features:")."""
    claim = _claim(sentence).strip(" .。,，;；-*")
    return not claim or (claim.endswith((":", "：")) and not figures(claim))


def _only_restates_a_header(sentence: str, sources: Sequence[SourceText]) -> bool:
    """A sentence that only repeats a source's title line (title, organisations, date) says
    nothing about the question; models echo headers of sources they did not use."""
    rest = fold(_claim(sentence))
    for source in sources:
        title = fold(source.title)
        if title and title in rest:
            rest = rest.replace(title, " ")
            for token in re.split(r"[\s,，]+", fold(source.meta)):
                if token:
                    rest = rest.replace(token, " ")
    return len(re.sub(r"[\W_]+", "", rest)) < 4


def _claim(sentence: str) -> str:
    return _LIST_MARKER.sub("", CITATION.sub("", sentence)).strip()


def _names(text: str) -> list[tuple[int, int, str]]:
    """Latin names stated in a sentence (start, end, name): words with an inner capital or a
    digit, or capitalised words that do not start the sentence."""
    names = []
    for match in _NAME.finditer(text):
        word = match[0]
        inner = any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)
        capitalised = word[0].isupper() and match.start() > 0 and not _after_break(text, match)
        if (inner and any(c.isalpha() for c in word)) or capitalised:
            names.append((match.start(), match.end(), word))
    return names


def _after_break(text: str, match: re.Match[str]) -> bool:
    before = text[: match.start()].rstrip()
    return not before or before[-1] in '.!?:;。！？：；\n(（"“'


def _name_found(name: str, evidence: str) -> bool:
    key = fold(name)
    if key in evidence:
        return True
    # `Llama2`, `LLaMA-2` and `Llama 2` are one name.
    squashed = re.sub(r"[\s\-_.]", "", key)
    return squashed in re.sub(r"[\s\-_.]", "", evidence)


def _is_cjk_text(text: str) -> bool:
    return han_count(text) > len(text) * 0.1


def _short_title(title: str) -> str:
    """`Medusa` for "Medusa: Simple LLM Inference …": how answers name the paper."""
    return title.split(":", 1)[0].strip()


def _claims_authorship(claim: str, span: NamedSpan) -> bool:
    """The organisation is named as the work's maker: an authorship word next to its name."""
    window = claim[max(0, span.start - _AUTHORSHIP_WINDOW) : span.end + _AUTHORSHIP_WINDOW]
    return bool(_AUTHORSHIP.search(window))

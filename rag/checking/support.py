"""Whether the sources a sentence cites support it: `SupportChecker`.

A sentence is supported by its cited sources when it is semantically close to one of them
(embedding similarity, `closeness`) and every fact it states is in them (`facts_supported`):
each figure bound to what it measures there (`rag.checking.figures`), each name under any of
its aliases, each organisation named as the work's maker one of the paper's own (the wording is
in `data/citation_cues.json`), and each parent it gives a work stated as a parent there too.
The evidence is the cited source alone, never the question: a name typed into the question is
not thereby "supported".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kg.cues import CueBook, load_cues
from kg.paper import short_name
from kg.tables import fold
from rag.checking.answer_text import claim as _claim
from rag.checking.figures import figure_supported, figures, figures_together
from rag.checking.names import latin_names
from rag.models.catalogue import embedder_thresholds
from rag.passages import paper_sentences, split_sentences

if TYPE_CHECKING:
    from kg.corpus import Paper

__all__ = ["LineageCue", "MentionAliases", "NamedSpan", "SourceText", "SupportChecker"]

# How far on either side of an organisation's name an authorship word counts.
_AUTHORSHIP_WINDOW = 16
# How far before a name a lineage cue may start (the longest cue is shorter).
_CUE_REACH = 60
# A capitalised word after these opens a sentence: it is no name for that.
_SENTENCE_BREAKS = '.!?:;。！？：；\n(（"“'


def citation_cues() -> CueBook:
    """The citation checker's cue words (`data/citation_cues.json`)."""
    return load_cues("citation_cues")


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


@dataclass(frozen=True)
class SourceText:
    """What a `[Pn]` stands for when checking: its number and paper, the header it was shown
    with (`title`, `organizations_shown`, `date`) and `passage`, the evidence shown to the model.
    `entry` is the paper's whole entry below its header (influence note and abstract: every figure
    and name the citation can stand for; defaults to `passage`), `organizations` every alias of
    its organisations and their parents (the structured field), `own_names` the paper's own names
    (its implicit subject: "our method" in the abstract), `page` the page of a body passage.
    Build one with `from_paper`."""

    number: int
    paper_id: str
    title: str
    passage: str
    organizations_shown: str = ""
    date: str = ""
    entry: str = ""
    organizations: tuple[str, ...] = ()
    own_names: tuple[str, ...] = ()
    page: int | None = None
    """The PDF page of `passage` when it is a passage of the paper's body."""

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
        """Where stated figures and names are looked up: the header lines, the entry and the
        shown sentences that are in no entry (a PDF's body), each on a line of its own: a shown
        passage joins sentences from far apart with "…", and read as one text a figure would be
        bound to a name from another sentence."""
        head = f"{self.title}\n{self.meta}\n{self.body}"
        if self.passage in self.body:
            return head
        shown = [s for part in self.passage.split("…") for s in split_sentences(part)]
        extra = [s for s in shown if s not in head]
        return "\n".join([head, *extra])


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
        own = [n for s in cited for n in (*s.own_names, short_name(s.title))]
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
        if organizations and citation_cues().regex("maker_claim").search(claim) and \
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
            for start, end, name in latin_names(claim, _SENTENCE_BREAKS)
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


def _name_found(name: str, evidence: str) -> bool:
    """The name is in the evidence as written or as its bare form (`_bare_forms`)."""
    return any(_form_found(form, evidence) for form in (name, *_bare_forms(name)))


def _bare_forms(name: str) -> list[str]:
    """The name under English morphology: without a plural s after a capital or a digit (LLMs,
    A100s) and without a hyphenated word that makes it an adjective (PPO-based,
    `name_modifiers`)."""
    out = []
    if re.search(r"[A-Z0-9]s$", name):
        out.append(name[:-1])
    head, hyphen, tail = name.rpartition("-")
    if hyphen and head and tail.casefold() in citation_cues().words("name_modifiers"):
        out.append(head)
    return out


def _form_found(name: str, evidence: str) -> bool:
    key = fold(name)
    if key in evidence:
        return True
    # `Llama2`, `LLaMA-2` and `Llama 2` are one name.
    squashed = re.sub(r"[\s\-_.]", "", key)
    return squashed in re.sub(r"[\s\-_.]", "", evidence)


def _claims_authorship(claim: str, span: NamedSpan) -> bool:
    """The organisation is named as the work's maker: an authorship word next to its name."""
    window = claim[max(0, span.start - _AUTHORSHIP_WINDOW) : span.end + _AUTHORSHIP_WINDOW]
    return bool(citation_cues().regex("authorship").search(window))

"""Lineage rules: which paper builds on which model or method, and the evidence for it.

Three sources, each edge tagged with its `method`:
- `rule`: a cue in the text around a known name, read from the bilingual cue lexicon
  `data/lineage_cues.json` (基于 X, 以 X 为基础, 对 X 进行微调, 与 X 一样的架构, 它是对 X 的升级,
  X 的后继版本, 前身是 X, based on X, fine-tuned from X, the successor to X, an upgrade of X,
  improves on X), or "X [5]" for a cited earlier version. Comparisons (与 X 相比, 优于 X,
  outperforms X: `data/comparison_cues.json`, shared with the figure checker) give
  `compared_against`, which is not lineage.
- `name`: versioned names, to the nearest earlier version that is a known paper or work
  (Llama 2 → LLaMA, FlashAttention-2 → FlashAttention, LLaVA-1.5 → LLaVA, DeepSeek-V3 →
  DeepSeek-V2, Qwen2-VL → Qwen-VL, Qwen2.5 → Qwen2).
- `curated`: `data/lineage.json`, for facts the text does not state (with a source note).
- `body`: the same cues in the body sentences of a paper's full text ("We build on X [4]",
  "以 X[1] 的分块路由为基础"), the marker resolved through the reference list to a paper of the
  corpus (`kg.citations`); the evidence is the sentence and its `page`. A part of the work may
  stand between cue and name (`data/body_lineage_cues.json`); comparisons ("faster than X [3]")
  give `compared_against`.

Targets must be known names (corpus papers and the works lexicon), so a paper's own new
artefacts are never made its parents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from kg.citations import DocumentCitations
from kg.cues import load_cues
from kg.keys import compact
from kg.lexicon import Lexicon
from kg.names import find_mentions
from kg.paper import Paper
from kg.schema import KnowledgeGraph
from kg.text import sentence_spans

__all__ = [
    "DerivedEdge",
    "Sentence",
    "derive_edges",
    "lineage_cue",
    "paper_sentences",
    "unresolved_curated",
]

_METHOD_RANK = {"rule": 0, "body": 1, "name": 2, "curated": 3}
_LINEAGE_KINDS = ("paper", "work")
_COMPARE_KINDS = ("paper", "work", "technique")
# A single-digit version at the end of a name or before a short suffix ("Llama 2", "LLaVA-1.5",
# "DeepSeek-V3", "Qwen2-VL"); "ResNet-50" or "FLM-101B" name a size, not a version.
_VERSIONED = re.compile(
    r"^(?P<stem>.*[a-z].*?)(?P<sep>[\s\-_]*)(?P<v>v)?(?<![\d.])(?P<ver>\d(?:\.\d+)?)(?![\d.])"
    r"(?P<suffix>[\s\-_][a-z][a-z\-_]{0,10})?$",
    re.IGNORECASE,
)
_CITATION = re.compile(r"^\s*[\[［]\s*\d+(?:\s*[,，\-–]\s*\d+)*\s*[\]］]")
_GAP = r"[^，。,;；:：]{0,10}"


def _compares(before: str, after: str, tight: bool) -> bool:
    """A comparison names X right after a cue (优于 X, outperforms X, or a list after the cue),
    or frames it (与 X 相比, 与 X 相当). `tight`: no words between cue and X (for techniques).
    The wording is the comparison lexicon shared with the figure checker
    (`data/comparison_cues.json`)."""
    cues = load_cues("comparison_cues")
    gap = r"\s{0,2}" if tight else r"[^，。,;；:：]{0,40}"
    if re.search(cues.source("comparison_before") + gap + "$", before):
        return True
    if cues.regex("outperformed_after").search(after):
        return True
    framed = re.search(cues.source("frame_openers") + gap + "$", before)
    return bool(framed and re.search("^" + gap + cues.source("frame_closers"), after))


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int


@dataclass(frozen=True)
class DerivedEdge:
    """An edge found by a rule, a name or the curated file: `child` builds on / compares `parent`."""

    child: str
    parent: str
    kind: str
    relation: str
    evidence: str
    paper: str
    line: int
    method: str
    methods: tuple[str, ...] = ()
    page: int = 0
    """The page of a full text's sentence (method `body`); 0 otherwise."""


def paper_sentences(paper: Paper) -> Iterator[Sentence]:
    """The title, influence note and abstract sentences of a paper, each with its source line."""
    yield Sentence(paper.title, paper.line)
    yield from _split(paper.influence, ((0, paper.influence_line),))
    yield from _split(paper.abstract, paper.abstract_spans or ((0, paper.abstract_line),))


def derive_edges(
    kg: KnowledgeGraph, lexicon: Lexicon, cited: tuple[DocumentCitations, ...] = ()
) -> list[DerivedEdge]:
    """Lineage (`builds_on`) and `compared_against` edges for every paper, merged per pair;
    `cited`: the resolved reference lists of the corpus's full texts (`kg.citations`)."""
    found: list[DerivedEdge] = []
    for paper in kg.corpus.papers:
        stem_parent = _versioned_parent(kg, paper)
        found.extend(_text_edges(kg, paper, lexicon, stem_parent))
        found.extend(_name_edges(paper, stem_parent))
    for document in cited:
        found.extend(_body_edges(kg, lexicon, document))
    found.extend(_curated_edges(kg, lexicon))
    return _merge(found)


def _body_edges(
    kg: KnowledgeGraph, lexicon: Lexicon, cited: DocumentCitations
) -> Iterator[DerivedEdge]:
    """Lineage and comparison stated in a full text's sentences about a cited corpus paper."""
    from kg.pdf.references import find_markers, resolve_markers

    child = f"paper:{cited.paper_id}"
    references = cited.document.references
    for citation in cited.citations:
        parent = f"paper:{citation.paper_id}" if citation.paper_id else ""
        if not parent or parent == child or parent not in kg.graph:
            continue
        for sentence in citation.sentences:
            text = sentence.sentence
            index = citation.resolution.index
            marker = next(
                (m for m in find_markers(text) if index in resolve_markers((m,), references)), None
            )
            start = text.find(marker.text) if marker is not None else -1
            if marker is None or start < 0:
                continue
            before, after = _around(kg, text, parent, start, start + len(marker.text))
            relation = _body_cue(lexicon, before, after)
            kind = "builds_on" if relation else ""
            if not relation and _compares(before, after, tight=False):
                kind = "compared_against"
            if kind:
                yield DerivedEdge(child, parent, kind, relation or "", text, cited.paper_id, 0,
                                  "body", page=sentence.page)  # fmt: skip


def _around(kg: KnowledgeGraph, text: str, parent: str, start: int, end: int) -> tuple[str, str]:
    """The text before and after the cited work in a sentence: around its name when the name
    stands right before the marker ("Quillwort [1]"), else around the marker itself; the marker
    is left out."""
    names = [m for m in find_mentions(kg, text[:start], kinds=("paper",)) if m.node.id == parent]
    name = names[-1] if names else None
    if name is not None and not text[name.end : start].strip():
        return text[: name.start], text[name.end : start] + text[end:]
    return text[:start], text[end:]


def _body_cue(lexicon: Lexicon, before: str, after: str) -> str | None:
    """A lineage cue around the cited work, tried again with the part of it a body sentence
    names cut away ("builds on the block router of X")."""
    cues = load_cues("body_lineage_cues")
    return lineage_cue(lexicon, before, after) or lineage_cue(
        lexicon,
        cues.regex("component_before").sub("", before),
        cues.regex("component_after").sub("", after),
    )


def unresolved_curated(kg: KnowledgeGraph, lexicon: Lexicon) -> list[tuple[str, str]]:
    """Curated (parent name, why) pairs whose parent names no known paper or work.

    A fact whose child is not in this corpus or the works lexicon does not apply, so it is skipped.
    """
    problems = []
    for fact in lexicon.curated:
        if len(kg.names.lookup(fact.child, _LINEAGE_KINDS)) != 1:
            continue
        found = kg.names.lookup(fact.parent, _LINEAGE_KINDS)
        if len(found) != 1:
            why = "is ambiguous" if found else "is not a corpus paper or a works.json entry"
            problems.append((fact.parent, why))
    return problems


def _text_edges(
    kg: KnowledgeGraph, paper: Paper, lexicon: Lexicon, stem_parent: str | None
) -> Iterator[DerivedEdge]:
    self_id = f"paper:{paper.id}"
    for sentence in paper_sentences(paper):
        for mention in find_mentions(kg, sentence.text, kinds=_COMPARE_KINDS):
            target = mention.node.id
            if target == self_id:
                continue
            before, after = sentence.text[: mention.start], sentence.text[mention.end :]
            relation = None
            if mention.node.kind in _LINEAGE_KINDS and not kg.graph.nodes[target].get("generic"):
                relation = lineage_cue(lexicon, before, after)
                if relation is None and target == stem_parent and _CITATION.match(after):
                    relation = "successor"  # "FlashAttention [5]" cited by FlashAttention-2
            if relation:
                yield DerivedEdge(self_id, target, "builds_on", relation, sentence.text,
                                  paper.id, sentence.line, "rule")  # fmt: skip
            elif _compares(before, after, tight=mention.node.kind == "technique"):
                yield DerivedEdge(self_id, target, "compared_against", "", sentence.text,
                                  paper.id, sentence.line, "rule")  # fmt: skip


def lineage_cue(lexicon: Lexicon, before: str, after: str) -> str | None:
    """The relation of the first cue of `data/lineage_cues.json` the text around a name meets
    (`before` ends right before the name, `after` starts right after it); None if none."""
    for cue in lexicon.cues:
        if cue.before and not _pattern(cue.before).search(before):
            continue
        if cue.after and not _pattern(cue.after).search(after):
            continue
        return cue.relation
    return None


@lru_cache(maxsize=512)
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE)


def _name_edges(paper: Paper, parent: str | None) -> Iterator[DerivedEdge]:
    if parent is not None:
        yield DerivedEdge(f"paper:{paper.id}", parent, "builds_on", "successor", paper.title,
                          paper.id, paper.line, "name")  # fmt: skip


def _versioned_parent(kg: KnowledgeGraph, paper: Paper) -> str | None:
    """The nearest earlier version a versioned name points to, if it is a known paper or work:
    Llama 2 → LLaMA, DeepSeek-V3 → DeepSeek-V2, Qwen2-VL → Qwen-VL, Qwen2.5 → Qwen2."""
    self_id = f"paper:{paper.id}"
    names = list(kg.names.aliases_of(self_id))
    for name in names:
        name = name.strip()
        # The version's last digit stands within the last 13 characters (a suffix is at most
        # 12): a name without one there cannot match, and the full pattern backtracks over
        # the whole of a long title before it fails.
        if not any(ch.isdigit() for ch in name[-13:]):
            continue
        match = _VERSIONED.match(name)
        if not match:
            continue
        stem, version = match.group("stem").strip(" -_"), float(match.group("ver"))
        suffix, marker = match.group("suffix") or "", match.group("v") or ""
        for earlier in _earlier_versions(version):
            keys = [compact(stem + marker + earlier + suffix), compact(stem + earlier + suffix)]
            ids = {i for key in dict.fromkeys(keys) for i in kg.names.by_key.get(key, ())}
            nodes = [kg.node(i) for i in sorted(ids) if i != self_id]
            nodes = [n for n in nodes if n.kind in _LINEAGE_KINDS]
            if len(nodes) == 1:
                return nodes[0].id
    return None


def _earlier_versions(version: float) -> list[str]:
    """Earlier version labels, nearest first: 3 → 2, 1, ""; 2.5 → 2, 1, ""; 1.5 → 1, ""."""
    if version <= 1:
        return []
    below = int(version) - 1 if version.is_integer() else int(version)
    return [str(v) for v in range(below, 0, -1)] + [""]


def _curated_edges(kg: KnowledgeGraph, lexicon: Lexicon) -> Iterator[DerivedEdge]:
    for fact in lexicon.curated:
        child = kg.names.lookup(fact.child, _LINEAGE_KINDS)
        parent = kg.names.lookup(fact.parent, _LINEAGE_KINDS)
        if len(child) != 1 or len(parent) != 1:
            continue  # reported by `kgrag check`
        paper = child[0].paper_id or ""
        yield DerivedEdge(child[0].id, parent[0].id, "builds_on", fact.relation, fact.source,
                          paper, 0, "curated")  # fmt: skip


def _merge(edges: list[DerivedEdge]) -> list[DerivedEdge]:
    """One edge per (child, parent, kind): the best method's evidence, all methods listed."""
    groups: dict[tuple[str, str, str], list[DerivedEdge]] = {}
    for edge in edges:
        groups.setdefault((edge.child, edge.parent, edge.kind), []).append(edge)
    merged = []
    for group in groups.values():
        best = min(group, key=lambda e: _METHOD_RANK[e.method])
        methods = tuple(sorted({e.method for e in group}, key=_METHOD_RANK.__getitem__))
        merged.append(
            DerivedEdge(
                best.child,
                best.parent,
                best.kind,
                best.relation,
                best.evidence,
                best.paper,
                best.line,
                best.method,
                methods,
                best.page,
            )  # fmt: skip
        )
    return merged


def _split(text: str, spans: tuple[tuple[int, int], ...]) -> Iterator[Sentence]:
    for start, end in sentence_spans(text):
        yield Sentence(text[start:end], _line_at(spans, start))


def _line_at(spans: tuple[tuple[int, int], ...], offset: int) -> int:
    line = spans[0][1] if spans else 0
    for span_offset, span_line in spans:
        if span_offset <= offset:
            line = span_line
    return line

"""One reference entry → the paper of the corpus it names, if any.

An entry names a paper when it prints the paper's arXiv id or DOI, else when its title (as
`kg.pdf` guessed it) has the paper's title key (`kg.keys.title_key`), else when the two titles
are similar enough: `title_similarity` at least the threshold measured on the reference dev set
(`data/citation_resolution.json`). Two papers equally close is no answer: the entry stays a
reference. Candidates for the fuzzy match share a word (or, in Chinese, two characters) with the
entry's title, so a reference list is not compared with every paper of a large library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache

from kg.errors import KgragError
from kg.keys import title_key
from kg.lang import HAN_CLASS
from kg.paper import Paper
from kg.pdf.records import Reference
from kg.readers.common import normalize_arxiv_id, normalize_doi
from kg.tables import fold, load_json

__all__ = [
    "PaperIndex",
    "Resolution",
    "load_title_threshold",
    "resolve_reference",
    "title_similarity",
]

RESOLUTION_FILE = "citation_resolution.json"
_WORD = re.compile(r"[0-9a-z]{4,}")
_HAN_RUN = re.compile(f"[{HAN_CLASS}]+")


@dataclass(frozen=True)
class Resolution:
    """Entry `index` of a document's reference list and the paper it names (`paper_id`, None
    when none), `how` it was found (arxiv | doi | title | None) and the title similarity that
    decided a title match (1.0 for an identifier or an identical title key)."""

    index: int
    reference: Reference
    paper_id: str | None
    how: str | None
    score: float = 0.0


@dataclass(frozen=True)
class PaperIndex:
    """The corpus's papers by arXiv id, DOI, title key, and title word (for fuzzy candidates)."""

    arxiv: dict[str, str] = field(default_factory=dict)
    doi: dict[str, str] = field(default_factory=dict)
    titles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    title_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, papers: Iterable[Paper], extra_ids: Iterable[tuple[str, str, str]] = ()
    ) -> PaperIndex:
        """The index of `papers`; `extra_ids`: (paper id, arXiv id, DOI) a paper's full text
        states on its title page when its record lacks them."""
        arxiv: dict[str, set[str]] = {}
        doi: dict[str, set[str]] = {}
        titles: dict[str, set[str]] = {}
        words: dict[str, set[str]] = {}
        title_of: dict[str, str] = {}
        ids = [(p.id, p.arxiv_id, p.doi) for p in papers]
        for paper in papers:
            title_of[paper.id] = paper.title
            titles.setdefault(title_key(paper.title), set()).add(paper.id)
            for word in title_words(paper.title):
                words.setdefault(word, set()).add(paper.id)
        for pid, arxiv_id, doi_text in [*ids, *extra_ids]:
            if arxiv_id and normalize_arxiv_id(arxiv_id):
                arxiv.setdefault(normalize_arxiv_id(arxiv_id), set()).add(pid)
            if doi_text and normalize_doi(doi_text):
                doi.setdefault(normalize_doi(doi_text).casefold(), set()).add(pid)
        return cls(
            arxiv=_unique(arxiv),
            doi=_unique(doi),
            titles={k: tuple(sorted(v)) for k, v in titles.items() if k},
            words={k: tuple(sorted(v)) for k, v in words.items()},
            title_of=title_of,
        )


def _unique(found: dict[str, set[str]]) -> dict[str, str]:
    """Identifiers that name one paper only (two papers with one arXiv id name neither)."""
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


def title_words(title: str) -> set[str]:
    """The words a fuzzy candidate must share with a title: Latin words of 4+ letters or digits,
    and each pair of neighbouring Chinese characters."""
    text = fold(title)
    han = {run[i : i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1)}
    return set(_WORD.findall(text)) | han


def title_similarity(a: str, b: str) -> float:
    """How alike two titles are, 0–1: `difflib`'s ratio of their title keys (case, accents,
    spacing and punctuation ignored).

        >>> title_similarity("Halyard: curriculum distillation", "HALYARD - Curriculum Distillation")
        1.0
    """
    return SequenceMatcher(None, title_key(a), title_key(b), autojunk=False).ratio()


@cache
def load_title_threshold() -> float:
    """The measured title-similarity threshold (`data/citation_resolution.json`)."""
    raw = load_json(RESOLUTION_FILE)
    try:
        return float(raw["title_threshold"])
    except (KeyError, TypeError, ValueError) as exc:
        raise KgragError(
            f"data/{RESOLUTION_FILE} lacks a numeric title_threshold ({exc}). Restore it from git."
        ) from exc


def resolve_reference(
    index: PaperIndex,
    position: int,
    reference: Reference,
    citing: str = "",
    threshold: float | None = None,
) -> Resolution:
    """The paper entry `position` names (never `citing` itself), by arXiv id, DOI, exact title
    key, then the closest title at or above `threshold` (default: the measured one)."""
    for how, key, table in (
        ("arxiv", normalize_arxiv_id(reference.arxiv_id or ""), index.arxiv),
        ("doi", normalize_doi(reference.doi or "").casefold(), index.doi),
    ):
        found = table.get(key) if key else None
        if found and found != citing:
            return Resolution(position, reference, found, how, 1.0)
    if not reference.title_guess:
        return Resolution(position, reference, None, None)
    exact = [p for p in index.titles.get(title_key(reference.title_guess), ()) if p != citing]
    if len(exact) == 1:
        return Resolution(position, reference, exact[0], "title", 1.0)
    limit = load_title_threshold() if threshold is None else threshold
    best, score = closest_title(index, reference.title_guess, citing)
    if best is not None and score >= limit:
        return Resolution(position, reference, best, "title", score)
    return Resolution(position, reference, None, None, score)


def closest_title(index: PaperIndex, title: str, citing: str = "") -> tuple[str | None, float]:
    """The paper whose title is most like `title` and its similarity; None when two tie."""
    candidates = {p for w in title_words(title) for p in index.words.get(w, ()) if p != citing}
    scored = sorted(
        ((title_similarity(title, index.title_of[p]), p) for p in candidates), reverse=True
    )
    if not scored:
        return None, 0.0
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None, scored[0][0]
    return scored[0][1], scored[0][0]

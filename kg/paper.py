"""The paper record and the corpus of them: `Paper` (frozen), `IgnoredLine`, `Corpus`, and the
one maker of paper ids (`PaperIds`, `slugify`, `short_name`).

Every reader, the paper-list parser and the library make these records; nothing here reads a
file (`kg.corpus.load_corpus` does). They are re-exported by `kg.corpus`, where callers import
them from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from kg.pdf.records import PdfDocument

__all__ = ["Corpus", "IgnoredLine", "Paper", "PaperIds", "short_name", "slugify"]


@dataclass(frozen=True)
class Paper:
    """One paper of the list. `id` is a readable slug of the title, stable across additions."""

    id: str
    title: str
    date: str
    organizations: tuple[str, ...]
    category: str
    category_label: str
    influence: str
    abstract: str
    source: str
    line: int
    organizations_raw: str = ""
    org_line: int = 0
    influence_line: int = 0
    abstract_line: int = 0
    abstract_spans: tuple[tuple[int, int], ...] = ()
    """(offset in `abstract`, source line) for each source line the abstract is made of."""
    # Library fields (kg.readers): empty for the seed list's papers.
    authors: tuple[str, ...] = ()
    venue: str = ""
    arxiv_id: str = ""
    doi: str = ""
    url: str = ""
    keywords: tuple[str, ...] = ()
    provenance: tuple[tuple[str, str], ...] = ()
    """(field, where its value came from: `refs.bib:12 @dao2022`) for each field a reader set."""
    extra: tuple[tuple[str, str], ...] = ()
    """Fields kept verbatim to write back (`@type`, `@key`, BibTeX `pages`, `volume`, …)."""
    # Full text (kg.pdf): the PDF the paper was added from and its sha256, which keys its
    # extracted text in the PDF text cache; empty for a paper without one.
    pdf_path: str = ""
    pdf_sha256: str = ""

    @property
    def short_name(self) -> str:
        """The name before the title's colon (`Code Llama`), or the whole title."""
        return short_name(self.title)


@dataclass(frozen=True)
class IgnoredLine:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    path: Path
    sha256: str
    papers: tuple[Paper, ...]
    ignored: tuple[IgnoredLine, ...] = ()
    unknown_organizations: tuple[tuple[int, str], ...] = ()
    documents: tuple[tuple[str, PdfDocument], ...] = ()
    """(paper id, its full text) for each paper added from a PDF whose text could be read."""
    warnings: tuple[str, ...] = ()
    """What reading the corpus could not do, one line each (a PDF paper whose text is gone)."""

    def by_id(self) -> dict[str, Paper]:
        """Each paper by its id: built once per corpus and shared, so read it, never change
        it (copy it first: `dict(corpus.by_id())`). A look-up costs the same at 10⁶ papers."""
        return self._by_id

    def in_order(self, papers: Iterable[Paper]) -> list[Paper]:
        """`papers` (of this corpus) in the corpus' own order, at the cost of their number."""
        return sorted(papers, key=lambda p: self._order[p.id])

    @cached_property
    def _by_id(self) -> dict[str, Paper]:
        return {p.id: p for p in self.papers}

    @cached_property
    def _order(self) -> dict[str, int]:
        return {p.id: i for i, p in enumerate(self.papers)}

    def document(self, paper_id: str) -> PdfDocument | None:
        """The full text of the paper `paper_id`, or None when it has none."""
        return dict(self.documents).get(paper_id)


def short_name(title: str) -> str:
    """The name a title opens with, before its colon, when that is 1 to 40 characters
    ("Code Llama: Open Foundation Models for Code" → "Code Llama"); else the whole title,
    stripped. A paper's `short_name`, and the first candidate for its id.

        >>> short_name("Code Llama: Open Foundation Models for Code"), short_name("LLaMA 2")
        ('Code Llama', 'LLaMA 2')
        >>> short_name("青梧：面向低资源方言的语音识别预训练")
        '青梧'
    """
    head, sep, _ = title.replace("：", ":").partition(":")  # the full-width colon of Chinese
    return head.strip() if sep and 0 < len(head.strip()) <= 40 else title.strip()


def slugify(text: str, limit: int = 60) -> str:
    """A readable id made of `text`: NFKC, case-folded, runs of anything but a–z, digits and
    basic CJK turned into one `-` (`Ré` → `r`), at most `limit` characters cut at a `-`. Paper
    and author ids; not a comparison key (those are in `kg.keys`).

        >>> slugify("Llama 2: Open Foundation and Fine-Tuned Chat Models", 20)
        'llama-2-open'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"['’`]", "", text)
    slug = re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "-", text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "paper"


class PaperIds:
    """The one maker of unique, readable paper ids (the list's parser, the readers, the library).

    A title's id is the slug of its short name, else of the whole title, else that with `-2`,
    `-3`, …; `claim(slug)` takes a slug as it is or numbered. Ids only accumulate, so each slug's
    numbering resumes where it stopped: one title repeated n times costs O(n), not O(n²).

        >>> ids = PaperIds()
        >>> [ids.for_title("Mamba: Linear-Time Sequence Modeling") for _ in range(3)]
        ['mamba', 'mamba-linear-time-sequence-modeling', 'mamba-linear-time-sequence-modeling-2']
        >>> ids.claim("mamba")
        'mamba-2'
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)
        self._next: dict[str, int] = {}  # per slug: the lowest "-n" that may still be free

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._taken

    def for_title(self, title: str) -> str:
        for candidate in (slugify(short_name(title)), slugify(title)):
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
        return self._numbered(slugify(title))

    def claim(self, slug: str) -> str:
        if slug not in self._taken:
            self._taken.add(slug)
            return slug
        return self._numbered(slug)

    def _numbered(self, base: str) -> str:
        n = self._next.get(base, 2)
        while f"{base}-{n}" in self._taken:
            n += 1
        self._next[base] = n + 1
        self._taken.add(f"{base}-{n}")
        return f"{base}-{n}"

"""The records a read PDF becomes (frozen, typed, JSON round-trip for the cache).

- `PdfDocument`: the file's sha256 and path, its pages' text, its front matter, its sections
  (each a run of paragraphs with their 1-based page) and its reference list.
- `CitingSentence`: a body sentence with the reference entries its markers ("[4]",
  "(Smith et al., 2023)") point to: the evidence of a citation edge.

Pages, paragraphs and references carry 1-based page numbers, as a reader cites them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CitingSentence",
    "FrontMatter",
    "PageText",
    "Paragraph",
    "PdfDocument",
    "Reference",
    "Section",
]


@dataclass(frozen=True)
class PageText:
    """One page's body text in reading order: running headers, footers and page numbers left out,
    lines joined (hyphens and Chinese lines as a reader would), paragraphs separated by a blank
    line."""

    number: int
    text: str


@dataclass(frozen=True)
class FrontMatter:
    """What the first page says the paper is. `date` is ISO (`2024-03-14` or `2024-03`).
    `metadata_agrees` is whether the PDF's own Title field matches the title read from the page
    (None when the field is empty): metadata only confirms; its title is used only when no row
    of page 1 is set larger than the body text."""

    title: str | None
    authors: tuple[str, ...]
    date: str | None
    arxiv_id: str | None
    doi: str | None
    metadata_agrees: bool | None = None


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of body text and the page it is on. A paragraph that runs on to the next page
    is cut at the first sentence end there, so every sentence is cited to the page it starts on."""

    text: str
    page: int


@dataclass(frozen=True)
class Section:
    """A heading and the paragraphs under it. `kind` is the section's role, from
    data/pdf_sections.json (abstract, introduction, related_work, method, experiments,
    limitations, conclusion, acknowledgements, references, appendix), or `other` for a heading
    of the paper's own; a subsection (`level` 2 and deeper) takes its parent's kind."""

    name: str
    kind: str
    level: int
    start_page: int
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Reference:
    """One entry of the reference list. `number` is its label ([4] or 4.) in a numbered list,
    None in an author-year list; `first_author` (a surname) and `year` let "(Smith et al., 2023)"
    find it. `title_guess` is the title as the entry's style places it (None when unsure)."""

    text: str
    page: int
    number: int | None
    arxiv_id: str | None
    doi: str | None
    title_guess: str | None
    year: int | None
    first_author: str | None


@dataclass(frozen=True)
class CitingSentence:
    """A body sentence that cites: its page and section, the markers as written, and the indices
    (into `PdfDocument.references`) of the entries they resolve to."""

    sentence: str
    page: int
    section: str
    markers: tuple[str, ...]
    references: tuple[int, ...]


@dataclass(frozen=True)
class PdfDocument:
    """A PDF as kgrag read it."""

    sha256: str
    path: str
    page_count: int
    pages: tuple[PageText, ...]
    front: FrontMatter
    sections: tuple[Section, ...]
    references: tuple[Reference, ...]

    def page(self, number: int) -> PageText:
        """The page of 1-based `number`."""
        return self.pages[number - 1]

    def paragraphs(self, kinds: frozenset[str] | None = None) -> list[tuple[Section, Paragraph]]:
        """Every (section, paragraph), in reading order; only sections of `kinds` if given."""
        return [(section, paragraph) for section in self.sections
                if kinds is None or section.kind in kinds
                for paragraph in section.paragraphs]  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "path": self.path,
            "page_count": self.page_count,
            "pages": [[p.number, p.text] for p in self.pages],
            "front": {
                "title": self.front.title,
                "authors": list(self.front.authors),
                "date": self.front.date,
                "arxiv_id": self.front.arxiv_id,
                "doi": self.front.doi,
                "metadata_agrees": self.front.metadata_agrees,
            },
            "sections": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "level": s.level,
                    "start_page": s.start_page,
                    "paragraphs": [[p.text, p.page] for p in s.paragraphs],
                }
                for s in self.sections
            ],
            "references": [
                {
                    "text": r.text,
                    "page": r.page,
                    "number": r.number,
                    "arxiv_id": r.arxiv_id,
                    "doi": r.doi,
                    "title_guess": r.title_guess,
                    "year": r.year,
                    "first_author": r.first_author,
                }
                for r in self.references
            ],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PdfDocument:
        """The document `to_json` wrote; KeyError/TypeError/ValueError when `raw` is not one."""
        front = raw["front"]
        return cls(
            sha256=str(raw["sha256"]),
            path=str(raw["path"]),
            page_count=int(raw["page_count"]),
            pages=tuple(PageText(int(n), str(t)) for n, t in raw["pages"]),
            front=FrontMatter(
                title=front["title"],
                authors=tuple(str(a) for a in front["authors"]),
                date=front["date"],
                arxiv_id=front["arxiv_id"],
                doi=front["doi"],
                metadata_agrees=front["metadata_agrees"],
            ),
            sections=tuple(
                Section(
                    name=str(s["name"]),
                    kind=str(s["kind"]),
                    level=int(s["level"]),
                    start_page=int(s["start_page"]),
                    paragraphs=tuple(Paragraph(str(t), int(p)) for t, p in s["paragraphs"]),
                )
                for s in raw["sections"]
            ),
            references=tuple(Reference(**r) for r in raw["references"]),
        )

"""Every reference entry of every full text of a corpus, resolved, with its citing sentences."""

from __future__ import annotations

from dataclasses import dataclass

from kg.citations.resolve import PaperIndex, Resolution, resolve_reference
from kg.paper import Corpus
from kg.pdf.records import CitingSentence, PdfDocument
from kg.pdf.references import citing_sentences

__all__ = ["Citation", "DocumentCitations", "document_citations"]


@dataclass(frozen=True)
class Citation:
    """One reference entry, the paper it resolved to (or none), and the body sentences that
    cite it (each with its page), in reading order."""

    resolution: Resolution
    sentences: tuple[CitingSentence, ...]

    @property
    def paper_id(self) -> str | None:
        return self.resolution.paper_id


@dataclass(frozen=True)
class DocumentCitations:
    """The citing paper, its full text and each of its reference entries, in list order."""

    paper_id: str
    document: PdfDocument
    citations: tuple[Citation, ...]


def document_citations(
    corpus: Corpus, threshold: float | None = None
) -> tuple[DocumentCitations, ...]:
    """Each document of `corpus` (in corpus order) with its references resolved against the
    corpus's papers. Empty when the corpus has no full texts."""
    if not corpus.documents:
        return ()
    fronts = [(pid, d.front.arxiv_id or "", d.front.doi or "") for pid, d in corpus.documents]
    index = PaperIndex.build(corpus.papers, fronts)
    return tuple(_one(index, pid, doc, threshold) for pid, doc in corpus.documents)


def _one(index: PaperIndex, paper_id: str, document: PdfDocument,
         threshold: float | None) -> DocumentCitations:  # fmt: skip
    sentences = citing_sentences(document)
    citations = tuple(
        Citation(
            resolve_reference(index, position, reference, paper_id, threshold),
            tuple(s for s in sentences if position in s.references),
        )
        for position, reference in enumerate(document.references)
    )
    return DocumentCitations(paper_id, document, citations)

"""The citation graph's reading side: each reference entry of a paper's full text resolved to a
paper of the corpus (by arXiv id, DOI, or a title close enough), and the body sentences citing it.

- `resolve`: `PaperIndex` (the corpus's papers by arXiv id, DOI and title key) and
  `resolve_reference` (one entry → `Resolution`); the title-similarity threshold is data
  (`data/citation_resolution.json`, measured on `data/eval/pdf_references_dev.json`).
- `citations`: `document_citations(corpus)`: per document, every entry resolved (or not), with
  the sentences citing it and their page. `kg.graph` turns these into `cites` edges.
- `calibrate`: the threshold measurement (`python -m kg.citations.calibrate`).
"""

from kg.citations.citations import Citation, DocumentCitations, document_citations
from kg.citations.resolve import (
    PaperIndex,
    Resolution,
    load_title_threshold,
    resolve_reference,
    title_similarity,
)

__all__ = [
    "Citation",
    "DocumentCitations",
    "PaperIndex",
    "Resolution",
    "document_citations",
    "load_title_threshold",
    "resolve_reference",
    "title_similarity",
]

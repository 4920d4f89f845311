"""A corpus of the PDF fixtures (tests/fixtures/pdf/) with their full texts, for the citation
graph's tests.

TEST-ONLY STAND-IN for the PDF reader (kg/readers/pdf.py, written alongside): each Paper record
is made here from its document's title page (title, authors, date, arXiv id, DOI), so that the
graph code can be tested on `Corpus.documents` before that reader is wired in.
"""

from __future__ import annotations

from pathlib import Path

from kg.paper import Corpus, Paper, PaperIds
from tests.fixtures.pdf import HERE, PAPERS, paper


def fixture_corpus(names: tuple[str, ...] = PAPERS) -> Corpus:
    """The fixture papers as a corpus: one Paper per PDF (from its front matter) and its text."""
    ids = PaperIds()
    papers, documents = [], []
    for line, name in enumerate(names, 1):
        document = paper(name)
        front = document.front
        title = front.title or name
        papers.append(
            Paper(
                id=ids.for_title(title),
                title=title,
                date=front.date or "",
                organizations=(),
                category="",
                category_label="",
                influence="",
                abstract="",
                source=str(HERE / name),
                line=line,
                authors=front.authors,
                arxiv_id=front.arxiv_id or "",
                doi=front.doi or "",
                pdf_path=str(HERE / name),
                pdf_sha256=document.sha256,
            )  # fmt: skip
        )
        documents.append((papers[-1].id, document))
    return Corpus(Path(HERE), "fixtures", tuple(papers), documents=tuple(documents))

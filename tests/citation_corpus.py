"""A corpus of the PDF fixtures (tests/fixtures/pdf/) with their full texts, for the citation
graph's tests: each PDF read by the library's own PDF reader (`kg.readers.pdf`), as `kgrag add`
reads it, and the corpus carrying the documents as a loaded library does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kg.paper import Corpus, PaperIds
from kg.readers.pdf import PdfReader
from tests.fixtures.pdf import HERE, PAPERS


def fixture_corpus(names: tuple[str, ...] = PAPERS) -> Corpus:
    """The fixture papers as a corpus: one Paper per PDF (from its front matter) and its text."""
    ids = PaperIds()
    papers, documents = [], []
    for line, name in enumerate(names, 1):
        read = PdfReader().read_file(HERE / name, None, HERE / name, None)
        paper = replace(read.paper, id=ids.for_title(read.paper.title), line=line)
        papers.append(paper)
        documents.append((paper.id, read.document))
    return Corpus(Path(HERE), "fixtures", tuple(papers), documents=tuple(documents))

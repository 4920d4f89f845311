"""The full texts of a library's PDF papers: kept in the PDF cache by sha256 when an add is
written (`keep_documents`), brought back when the library is read (`with_documents`).

The library file stores only each paper's `pdf_sha256` and `pdf_path`; the text is
`kg.pdf.cache`'s entry for that sha256. An entry that is gone is read again from `pdf_path`
(and cached again) when the file there is still the same PDF; when neither is there the paper
keeps its abstract and the corpus carries a warning saying so — a library never fails to load
for a missing PDF.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from kg.fsutil import atomic_write, file_sha256
from kg.paper import Corpus, Paper
from kg.paths import pdf_cache_dir, user_pdf_dir
from kg.pdf.records import PdfDocument

__all__ = ["keep_documents", "keep_pdf", "with_documents"]

log = logging.getLogger("kgrag.library")


def keep_documents(documents: Iterable[PdfDocument], cache_dir: Path | None = None) -> None:
    """Cache the texts an add read (after the library was written; a cache that cannot be
    written only costs a re-read later)."""
    from kg.pdf.cache import store

    folder = cache_dir or pdf_cache_dir()
    for document in documents:
        store(folder, document)


def keep_pdf(path: Path, data_dir: Path | None = None) -> tuple[Path, bool]:
    """A lasting copy of the PDF at `path` in the user's data folder (`user_pdf_dir`), and
    whether this call made it (False: the same PDF was kept before). The copy is written
    whole or not at all."""
    target = user_pdf_dir(data_dir) / f"{file_sha256(path)}.pdf"
    if target.is_file():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as source:
        atomic_write(target, lambda out: shutil.copyfileobj(source, out))
    return target, True


def with_documents(
    corpus: Corpus,
    fresh: Mapping[str, PdfDocument] | None = None,
    cache_dir: Path | None = None,
) -> Corpus:
    """`corpus` with the full text of each paper that came from a PDF (`fresh`: texts just
    read, by sha256, else the cache, else the PDF again) and a warning for each that has none."""
    folder = cache_dir or pdf_cache_dir()
    documents: list[tuple[str, PdfDocument]] = []
    warnings: list[str] = []
    for paper in corpus.papers:
        if not paper.pdf_sha256:
            continue
        document = (fresh or {}).get(paper.pdf_sha256) or _load(paper, folder)
        if isinstance(document, PdfDocument):
            documents.append((paper.id, document))
        else:
            warnings.append(document)
            log.warning("%s", document)
    if not documents and not warnings:
        return corpus
    return replace(corpus, documents=tuple(documents), warnings=(*corpus.warnings, *warnings))


def _load(paper: Paper, folder: Path) -> PdfDocument | str:
    """The paper's text from the cache, else from its PDF; else the warning to show."""
    from kg.errors import KgragError
    from kg.pdf import read_pdf
    from kg.pdf.cache import load_cached

    cached = load_cached(folder, paper.pdf_sha256)
    if cached is not None:
        return cached
    gone = f"{paper.id}: the text of its PDF is no longer cached"
    if not paper.pdf_path or not Path(paper.pdf_path).is_file():
        return (f"{gone} and {paper.pdf_path or 'its PDF'} is gone: only its abstract is "
                "searched. Add the PDF again to bring its full text back.")  # fmt: skip
    try:
        document = read_pdf(paper.pdf_path)
    except KgragError as exc:
        return f"{gone} and reading its PDF again failed ({exc}): only its abstract is searched."
    if document.sha256 != paper.pdf_sha256:
        return (f"{gone} and {paper.pdf_path} has changed since it was added: only its abstract "
                "is searched. Add the PDF again to use the new version.")  # fmt: skip
    keep_documents((document,), folder)
    return document

"""Full-text PDFs: text in reading order with pages, front matter, sections, references.

`read_pdf(path, cache_dir=…)` is the way in; it returns a `PdfDocument` or raises one of the
`kg.pdf.errors` refusals. `citing_sentences(document)` lists the body sentences that cite the
document's reference entries. PDFium (pypdfium2) is imported only when a PDF is read.

Modules: `extract` (PDFium: characters into lines, refusals), `layout` (reading order, running
headers), `textjoin` (hyphens, Chinese lines), `headings` (section words from
data/pdf_sections.json), `front` (authors, date, ids), `structure` (sections, paragraphs, page
text), `references` (entries, markers), `cache` (by sha256), `read` (the entry point).
"""

from kg.pdf.errors import (
    PdfDamagedError,
    PdfEncryptedError,
    PdfError,
    PdfLimitError,
    PdfNotAPdfError,
    PdfNoTextError,
)
from kg.pdf.read import DEFAULT_MAX_BYTES, DEFAULT_MAX_PAGES, extraction_speed, read_pdf
from kg.pdf.records import (
    CitingSentence,
    FrontMatter,
    PageText,
    Paragraph,
    PdfDocument,
    Reference,
    Section,
)
from kg.pdf.references import citing_sentences, find_markers, parse_reference, split_text_entries

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAGES",
    "CitingSentence",
    "FrontMatter",
    "PageText",
    "Paragraph",
    "PdfDamagedError",
    "PdfDocument",
    "PdfEncryptedError",
    "PdfError",
    "PdfLimitError",
    "PdfNoTextError",
    "PdfNotAPdfError",
    "Reference",
    "Section",
    "citing_sentences",
    "extraction_speed",
    "find_markers",
    "parse_reference",
    "read_pdf",
    "split_text_entries",
]

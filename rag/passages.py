"""Passages to index: each paper's header (title, organisations, date, category, influence) plus
its abstract, split at sentence ends into pieces of bounded length that remember their paper.

A paper with no abstract still gets one passage (its title and influence note), so it can be found.
A paper with a full text (added from a PDF: `Corpus.document`) also gets its body: about a
paragraph a passage, from every section but the abstract (already its abstract passages) and the
references, each passage with its 1-based `page` and its `section` heading. Abstract passages
carry neither, so a corpus without PDFs has exactly the passages (ids, texts) it always had.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kg.corpus import Corpus, Paper
from kg.pdf.records import PdfDocument
from kg.text import split_sentences as kg_split_sentences

__all__ = [
    "MAX_PASSAGE_CHARS",
    "Passage",
    "PassageHeader",
    "join_sentences",
    "body_pieces",
    "paper_header",
    "paper_passages",
    "paper_sentences",
    "passages",
    "render_passage",
    "split_sentences",
]

# Abstracts here run 200–800 characters; ~480 keeps most papers in one passage and splits the
# long ones in two, each short enough for a focused embedding.
MAX_PASSAGE_CHARS = 480
MIN_SENTENCE_CHARS = 6
# Sections whose text is not body passages: the abstract is the paper's own abstract passages,
# a reference list holds other papers' titles (a search would find the citing paper for them).
_NOT_BODY = frozenset({"abstract", "references"})
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class PassageHeader:
    """What every passage of a paper repeats before its piece of the abstract: the paper's title,
    organisations (as shown: canonical names, else the raw field), date, category (its label,
    else its key) and influence note. `authors` travel with it but are not embedded (the index of
    a paper is unchanged when a library adds its authors)."""

    title: str
    organizations: str
    date: str
    category: str
    influence: str = ""
    authors: tuple[str, ...] = ()

    @classmethod
    def of(cls, paper: Paper) -> PassageHeader:
        return cls(
            title=paper.title,
            organizations=", ".join(paper.organizations) or paper.organizations_raw,
            date=paper.date,
            category=paper.category_label or paper.category,
            influence=paper.influence,
            authors=paper.authors,
        )

    def render(self) -> str:
        """The header lines as embedded (bilingual labels, empty lines left out)."""
        return "\n".join(
            line
            for line in (
                self.title,
                f"发表单位 Organizations: {self.organizations}" if self.organizations else "",
                f"发布时间 Date: {self.date}",
                f"类别 Category: {self.category}",
                f"影响力 Influence: {self.influence}" if self.influence else "",
            )
            if line
        )


@dataclass(frozen=True)
class Passage:
    """One indexed piece of text. `id` is `<paper id>#<ordinal>`; `body` is the passage's piece of
    the abstract and `header` the paper's fields repeated on each of its passages; `text`, what
    gets embedded, is rendered from the two (`render_passage`). A passage without a header (a
    stored row read back from an index, a benchmark's synthetic text) is its body alone."""

    id: str
    paper_id: str
    title: str
    body: str
    ordinal: int
    header: PassageHeader | None = None
    page: int | None = None
    """The 1-based PDF page a body passage is on; None for abstract passages."""
    section: str | None = None
    """The heading of a body passage's section, as printed ("3.1 Setup"); None otherwise."""

    @property
    def text(self) -> str:
        """What gets embedded and what BM25 reads: the header, a blank line, the body."""
        return render_passage(self.header, self.body)

    @property
    def content_hash(self) -> str:
        """Identity of the embedded text: an unchanged passage keeps its vector across rebuilds."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def render_passage(header: PassageHeader | None, body: str) -> str:
    """The embedded text of a passage: its header lines, a blank line, its body (the one layout;
    the index's content hashes are of this text, so a change here re-embeds every passage)."""
    if header is None:
        return body
    return f"{header.render()}\n\n{body}".strip()


def passages(corpus: Corpus, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Every passage of the corpus, in paper order (each paper's abstract, then its body)."""
    documents = dict(corpus.documents)
    return [
        p
        for paper in corpus.papers
        for p in paper_passages(paper, max_chars, documents.get(paper.id))
    ]


def paper_passages(
    paper: Paper, max_chars: int = MAX_PASSAGE_CHARS, document: PdfDocument | None = None
) -> list[Passage]:
    """The paper's abstract passages (ordinals from 0), then its body's when it has a full text."""
    header = PassageHeader.of(paper)
    pieces: list[tuple[str, int | None, str | None]] = [
        (piece, None, None) for piece in _pack(split_sentences(paper.abstract), max_chars) or [""]
    ]
    if document is not None:
        pieces += body_pieces(document, max_chars)
    return [
        Passage(
            id=f"{paper.id}#{ordinal}",
            paper_id=paper.id,
            title=paper.title,
            body=piece,
            ordinal=ordinal,
            header=header,
            page=page,
            section=section,
        )
        for ordinal, (piece, page, section) in enumerate(pieces)
    ]


def body_pieces(
    document: PdfDocument, max_chars: int = MAX_PASSAGE_CHARS
) -> list[tuple[str, int, str]]:
    """(text, page, section) of each body passage: a paragraph, split at sentence ends when it
    is longer than `max_chars`, or short paragraphs of one section and page joined up to it
    (a one-line paragraph is too little to embed on its own)."""
    out: list[tuple[str, int, str]] = []
    for section, paragraph in document.paragraphs():
        if section.kind in _NOT_BODY or not paragraph.text.strip():
            continue
        for piece in _pack(split_sentences(paragraph.text), max_chars):
            last = out[-1] if out else None
            if (last and last[1:] == (paragraph.page, section.name)
                    and len(last[0]) + len(piece) < max_chars // 2):  # fmt: skip
                out[-1] = (f"{last[0]}\n{piece}", last[1], last[2])
            else:
                out.append((piece, paragraph.page, section.name))
    return out


def paper_header(paper: Paper) -> str:
    """Title, organisations, date, category and influence note as embedded on every passage."""
    return PassageHeader.of(paper).render()


def split_sentences(text: str) -> list[str]:
    """Split Chinese and English prose at sentence ends (`kg.text`); keeps the punctuation.
    An abstract's line breaks only wrap it here: a passage reads as one paragraph."""
    return kg_split_sentences(text.replace("\n", " "))


def _pack(sentences: list[str], max_chars: int) -> list[str]:
    """Join sentences into pieces of at most `max_chars` (a longer sentence stands alone),
    balancing piece lengths so a split never leaves a tiny tail."""
    total = sum(len(s) for s in sentences)
    if total <= max_chars:
        return [join_sentences(sentences)] if sentences else []
    count = -(-total // max_chars)
    target = total / count
    pieces: list[str] = []
    current: list[str] = []
    length = 0
    for sentence in sentences:
        if current and (length + len(sentence) > max_chars or length >= target):
            pieces.append(join_sentences(current))
            current, length = [], 0
        current.append(sentence)
        length += len(sentence)
    if current:
        pieces.append(join_sentences(current))
    return pieces


def join_sentences(parts: list[str] | tuple[str, ...]) -> str:
    """Chinese sentences (and an elision mark `…`) join without a space, English ones with one."""
    out = ""
    for part in parts:
        out += part if not out or out[-1] in "。！？；…" or part == "…" else " " + part
    return out


def paper_sentences(influence: str, abstract: str) -> list[str]:
    """The influence note, then the abstract's sentences (URLs dropped, a parenthesis that a
    semicolon split kept whole: `(Hu 等人,2022;Shin 等人,2021)` is not two sentences)."""
    pieces = split_sentences(_URL.sub(" ", abstract))
    merged: list[str] = []
    for piece in pieces:
        if merged and _depth(merged[-1]) > 0:
            merged[-1] = join_sentences([merged[-1], piece])
        else:
            merged.append(piece)
    sentences = [influence.strip()] if influence.strip() else []
    return sentences + [s for s in merged if len(s) >= MIN_SENTENCE_CHARS]


def _depth(text: str) -> int:
    return text.count("(") + text.count("（") - text.count(")") - text.count("）")

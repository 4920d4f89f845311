"""The card shown when a paper, work, organisation or technique is clicked anywhere in the app."""

from __future__ import annotations

from collections.abc import Sequence

from kg.errors import KgragError
from kg.paper import Paper
from kg.readers.common import normalize_arxiv_id
from kg.records import Node, PaperAuthors
from ui.app_errors import message_for
from ui.app_format import (
    arxiv_link,
    error_box,
    escape,
    node_card,
    notice_box,
    page_figure,
    paper_card,
)
from ui.app_services import AppServices


def card_html(
    services: AppServices,
    node_id: str,
    highlight: Sequence[str] = (),
    page: int | None = None,
    passage: str = "",
) -> str:
    """The card for a node id (`paper:<id>`, `work:<slug>`, `org:<name>`, …) or a bare paper id;
    for a paper read from a PDF and a cited `page`, that page with `passage` marked."""
    try:
        return _card(services, node_id, highlight, page, passage)
    except Exception as exc:
        return error_box(message_for(exc))


def _card(
    services: AppServices, node_id: str, highlight: Sequence[str], page: int | None, passage: str
) -> str:
    from kg.queries import node_links, paper_authors

    if not node_id:
        raise KgragError("nothing to show: click a paper, a citation or a node.")
    kinds = ("paper:", "work:", "org:", "technique:", "category:", "author:")
    if not node_id.startswith(kinds):
        node_id = f"paper:{node_id}"
    if node_id.startswith("paper:"):
        paper = services.paper(node_id.split(":", 1)[1])
        links = node_links(services.kg(), node_id)
        credit = paper_authors(services.kg(), node_id)
        extra = _authors_line(credit) + _lineage_note(links.builds_on, links.built_on_by)
        if page is not None:
            extra += _page_view(paper, page, passage)
            if passage and passage not in paper.abstract:
                highlight = ()  # the supporting sentence is in the body: no abstract sentence is
        return paper_card(paper, highlight, extra)
    links = node_links(services.kg(), node_id)
    node, papers = links.node, list(links.papers)
    note = {
        "work": "Referred to by the corpus but not itself one of its papers.",
        "organization": f"{len(papers)} paper(s) in the corpus.",
        "technique": f"Used by {len(papers)} paper(s) in the corpus.",
        "author": f"{len(papers)} paper(s) in the corpus.",
    }.get(node.kind, "")
    extra = _coauthors_line(links.coauthors) if node.kind == "author" else ""
    return node_card(node.label, node.kind, node.date or "", papers, note, extra)


def _page_view(paper: Paper, page: int, passage: str) -> str:
    """The cited page of the paper's PDF with the passage marked, or why it cannot be shown
    (the card itself still opens)."""
    from kg.pdf.errors import PdfError
    from kg.pdf.render import highlighted_page

    if not paper.pdf_path:
        return ""
    try:
        png = highlighted_page(paper.pdf_path, page, passage)
        return page_figure(png, page, paper.title, passage)
    except (OSError, PdfError) as exc:
        return notice_box(f"Page {page} cannot be shown: {message_for(exc)}")


def _author_link(node: Node) -> str:
    return f'<a class="kg-link kg-author" data-open="{escape(node.id)}">{escape(node.label)}</a>'


def _authors_line(credit: PaperAuthors) -> str:
    """A paper's authors in its order, each opening the author's card, with where a curated
    list comes from; or that they are unknown, and how to add them."""
    if not credit.known:
        return ('<div class="kg-card-field kg-card-authors kg-unknown"><span>Authors</span> '
                "unknown: the list names none. Add a BibTeX or arXiv entry of this paper "
                "(Index tab, or <code>kgrag add</code>) to fill them.</div>")  # fmt: skip
    names = ", ".join(_author_link(a) for a in credit.authors)
    origin = arxiv_link(normalize_arxiv_id(credit.source)) if credit.source else ""
    note = f' <span class="kg-muted">(as listed on {origin})</span>' if origin else ""
    return f'<div class="kg-card-field kg-card-authors"><span>Authors</span> {names}{note}</div>'


def _coauthors_line(coauthors: Sequence[tuple[Node, int]]) -> str:
    if not coauthors:
        return ""
    names = ", ".join(f"{_author_link(a)} <span class='kg-muted'>({n})</span>"
                      for a, n in coauthors)  # fmt: skip
    return f'<div class="kg-card-field"><span>Wrote with</span> {names}</div>'


def _lineage_note(parents: Sequence[Node], children: Sequence[Node]) -> str:
    """One line naming what the paper builds on and what builds on it, each clickable."""
    if not parents and not children:
        return ""

    def links(nodes: Sequence[Node]) -> str:
        return ", ".join(
            f'<a class="kg-link" data-open="{escape(n.id)}">{escape(n.label)}</a>' for n in nodes
        )

    parts = []
    if parents:
        parts.append(f"<span>Builds on</span> {links(parents)}")
    if children:
        parts.append(f"<span>Built on by</span> {links(children)}")
    return f'<div class="kg-card-field">{" · ".join(parts)}</div>'

"""HTML fragments the app shows: paper cards, citation chips, route badges, sources, tables.

Pure functions of library records (no Gradio here), so they are cheap to test. Every string
from the corpus, an upload or a model reaches a page through `escape` (the app's one escaping
path: the other `ui/app_*.py` modules import it from here); clickable things carry
`data-open="<node id>"`, which `ui/static/interact.js` turns into a select event that opens the
card.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape as _html_escape
from typing import Any
from urllib.parse import quote

from kg.corpus import Paper
from kg.paper import short_name
from rag.checking.citations import SPACED_CITATION as _SPACED_CITATION
from rag.checking.citations import cited_numbers

ROUTE_TEXT = {
    "graph": ("graph", "answered exactly from the knowledge graph"),
    "rag": ("rag", "retrieved passages + local LLM, citations checked"),
    "hybrid": ("hybrid", "knowledge graph + retrieved passages"),
    "none": ("not covered", "the corpus does not cover this question"),
}


def escape(text: str, quote: bool = True) -> str:
    """`text` as HTML that shows it literally: a title `<img src=…>` stays text, never a tag.
    `quote=False` keeps quotes as typed, for text that is never put in an attribute."""
    return _html_escape(text, quote=quote)


# The shapes an arXiv id (2307.08691, hep-th/9901001, with or without a version) and a DOI have:
# a link is only ever built from a value of these shapes, onto a fixed https:// address, so no
# value can make it a `javascript:` link or leave the page's quotes.
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_DOI = re.compile(r"^10\.\d{4,9}/[\x21-\x7e]+$")


def external_link(href: str, text: str) -> str:
    """A link that opens in a new tab and tells the page it leads to nothing about this one."""
    return (f'<a class="kg-ext" href="{escape(href)}" target="_blank" '
            f'rel="noopener noreferrer">{escape(text)}</a>')  # fmt: skip


def arxiv_link(arxiv_id: str) -> str:
    """A link to an arXiv abstract page (https://arxiv.org/abs/ID); "" for a value that is not
    an arXiv id.

    >>> arxiv_link("2307.08691")
    '<a class="kg-ext" href="https://arxiv.org/abs/2307.08691" target="_blank" rel="noopener noreferrer">arXiv:2307.08691</a>'
    >>> arxiv_link("javascript:alert(1)")
    ''
    """
    value = arxiv_id.strip()
    if not _ARXIV_ID.match(value):
        return ""
    return external_link(f"https://arxiv.org/abs/{value}", f"arXiv:{value}")


def doi_link(doi: str) -> str:
    """A link to a DOI's resolver (https://doi.org/DOI, the DOI percent-encoded); "" for a
    value that is not a DOI."""
    value = doi.strip()
    if not _DOI.match(value):
        return ""
    return external_link(f"https://doi.org/{quote(value, safe='/')}", f"doi:{value}")


def chat_message(text: str) -> str:
    """`text` for a chat bubble. The Ask tab's `gr.Chatbot` renders no Markdown (so `![x](url)`
    and bare URLs stay text) but parses its messages as HTML: escaping makes every tag text.
    Quotes stay as typed, since the chat's copy button copies the message as sent."""
    return escape(text, quote=False)


def draft_message(text: str) -> str:
    """The model's draft while it streams, before the check: greyed and labelled `checking…`,
    so it never reads as the answer (the checked answer replaces it, `chat_message`)."""
    return (f'<span class="kg-draft"><span class="kg-checking">checking…</span> '
            f"{escape(text, quote=False)}</span>")  # fmt: skip


VERDICT_LABELS = {"supported": "Supported", "contradicted": "Contradicted",
                  "not_stated": "Not stated"}  # fmt: skip


def verdict_html(verdict: Any) -> str:
    """A checked claim (`rag.checking.verify.Verdict`): the verdict, the paper and the sentence
    it rests on (with its page), and the reasons, one a line."""
    label = VERDICT_LABELS.get(verdict.verdict, verdict.verdict)
    paper = ""
    if verdict.paper_id:
        paper = (f' · <a class="kg-link" data-open="paper:{escape(verdict.paper_id)}">'
                 f"{escape(verdict.paper_title or verdict.paper_id)}</a>")  # fmt: skip
    page = f" (p. {verdict.page})" if verdict.page is not None else ""
    quote = (f'<blockquote class="kg-evidence">{escape(verdict.evidence)}{page}</blockquote>'
             if verdict.evidence else "")  # fmt: skip
    reasons = "".join(f"<li>{escape(r)}</li>" for r in verdict.reasons)
    return (f'<div class="kg-verdict" data-verdict="{escape(verdict.verdict)}">'
            f'<div class="kg-claim-text">“{escape(verdict.claim)}”</div>'
            f'<b class="kg-verdict-label">{escape(label)}</b>{paper}{quote}'
            f'<ul class="kg-reasons">{reasons}</ul></div>')  # fmt: skip


def error_box(message: str) -> str:
    return (
        f'<div class="kg-error" role="alert"><b>Something went wrong.</b> {escape(message)}</div>'
    )


def notice_box(message: str) -> str:
    return f'<div class="kg-notice">{escape(message)}</div>'


def empty_card(hint: str) -> str:
    return f'<div class="kg-card kg-card-empty">{escape(hint)}</div>'


def paper_card(paper: Paper, highlight: Sequence[str] = (), extra: str = "") -> str:
    """A paper's card; the abstract sentence closest to any `highlight` text is marked."""
    orgs = "".join(f'<span class="kg-tag">{escape(o)}</span>' for o in paper.organizations)
    if paper.abstract:
        abstract = _highlighted(paper.abstract, highlight)
    elif paper.influence:
        abstract = (
            "<i>This entry has no abstract; the influence note above is all the corpus says.</i>"
        )
    else:
        abstract = "<i>This entry has no abstract; only its title and fields can be searched.</i>"
    kicker = " · ".join(escape(part) for part in
                        (paper.category_label, paper.category, paper.date) if part)  # fmt: skip
    fields = "".join(
        f'<div class="kg-card-field"><span>{name}</span> {escape(value)}</div>'
        for name, value in (("Influence", paper.influence), ("Venue", paper.venue))
        if value
    )  # a library paper (BibTeX, arXiv…) may have no influence note, a list paper no venue
    links = " · ".join(link for link in (arxiv_link(paper.arxiv_id), doi_link(paper.doi)) if link)
    if links:
        fields += f'<div class="kg-card-field kg-card-links"><span>Links</span> {links}</div>'
    return (
        f'<div class="kg-card" data-card="{escape(paper.id)}">'
        f'<div class="kg-card-kicker">{kicker}</div>'
        f'<h3 class="kg-card-title">{escape(paper.title)}</h3>'
        f'<div class="kg-card-orgs">{orgs}</div>{fields}{extra}'
        f'<div class="kg-card-abstract">{abstract}</div>'
        f'<div class="kg-card-source">id <code>{escape(paper.id)}</code> · '
        f"{escape(_short_path(paper.source))}:{paper.line}</div></div>"
    )


def node_card(
    label: str, kind: str, date: str, papers: Sequence[Paper], note: str = "", extra: str = ""
) -> str:
    """Card for a node that is not a corpus paper: a work, organisation, technique or author
    (`extra`: HTML after the papers, e.g. an author's co-authors)."""
    items = "".join(
        f'<li><a class="kg-link" data-open="paper:{escape(p.id)}">{escape(p.title)}</a> '
        f'<span class="kg-muted">{escape(p.date)}</span></li>'
        for p in papers
    )
    listing = f"<ul class='kg-list'>{items}</ul>" if items else ""
    when = f" · {escape(date)}" if date else ""
    return (
        f'<div class="kg-card"><div class="kg-card-kicker">{escape(kind)}{when}</div>'
        f'<h3 class="kg-card-title">{escape(label)}</h3>'
        f"{f'<p class=kg-muted>{escape(note)}</p>' if note else ''}{listing}{extra}</div>"
    )


def route_badge(route: str) -> str:
    name, meaning = ROUTE_TEXT.get(route, (route, ""))
    return (
        f'<span class="kg-badge route-{escape(route)}" title="{escape(meaning)}" '
        f'data-route="{escape(route)}">{escape(name)}</span>'
    )


def answer_panel(answer: Any) -> str:
    """Route badge, numbered citation chips and the sources list of a checked `Answer`."""
    chips = "".join(
        f'<button class="kg-chip" data-open="paper:{escape(c.id)}" title="{escape(c.title)}">'
        f"<b>{i}</b> {escape(_short(c.title))}</button>"
        for i, c in enumerate(answer.citations, 1)
    )
    notes: list[str] = []
    if answer.route == "none":
        notes.append("The corpus does not cover this question, so nothing is cited.")
    if getattr(answer, "extractive", False):
        notes.append("Extractive answer: built from the sources' own sentences.")
    if answer.removed_citations:
        notes.append(f"{answer.removed_citations} citation(s) to unknown sources removed.")
    if answer.unsupported_sentences:
        notes.append(f"{answer.unsupported_sentences} unsupported sentence(s) dropped.")
    note_html = "".join(f'<div class="kg-muted">{escape(n)}</div>' for n in notes)
    cites = f'<div class="kg-chips">{chips}</div>' if chips else ""
    return (
        f'<div class="kg-answer-meta"><div class="kg-row">{route_badge(answer.route)}'
        f'<span class="kg-muted">{escape(ROUTE_TEXT.get(answer.route, ("", ""))[1])}</span></div>'
        f"{cites}{note_html}{sources_list(answer.sources)}</div>"
    )


def sources_list(sources: Sequence[Any]) -> str:
    """What was retrieved and why (dense / BM25 / graph, "parent of Code Llama")."""
    if not sources:
        return ""
    rows = []
    for s in sources:
        via = getattr(s, "via", ()) or ()
        why = getattr(s, "why", "") or ""
        tags = "".join(f'<span class="kg-via via-{escape(v)}">{escape(v)}</span>' for v in via)
        reason = f'<span class="kg-muted">{escape(why)}</span>' if why else ""
        rows.append(
            f'<li><a class="kg-link" data-open="paper:{escape(s.id)}">{escape(s.title)}</a> '
            f'{tags} {reason}<div class="kg-snippet">{escape(s.snippet or "")}</div></li>'
        )
    return (
        '<details class="kg-sources" open><summary>Sources '
        f"({len(sources)})</summary><ol>{''.join(rows)}</ol></details>"
    )


def chat_answer(text: str, citations: Sequence[Any], sources: Sequence[Any]) -> str:
    """The checked answer for the chat bubble, as HTML: the text escaped (`chat_message`), the
    `[P2, P3]` markers renumbered as the chips, [2][3], chips numbered in citation order (`[Pn]`
    names the answer's n-th source). Each `[n]` opens its paper's card with the sentence it
    supports marked, as chip n does (`ui/static/interact.js`: the chat's sanitiser keeps no
    data attribute, so the number is the link)."""
    pieces = _marked_pieces(text, citations, sources)
    html = "".join(
        escape(p, quote=False) if isinstance(p, str) else " " + "".join(
            f'<span class="kg-cite" role="button" tabindex="0" title="Open source {n}\u2019s '
            f'card">[{n}]</span>' for n in p)
        for p in pieces
    )  # fmt: skip
    return html.strip()


_MARKER = re.compile(r'<span class="kg-cite"[^>]*>(\[\d+\])</span>')


def settled_answer(html: str) -> str:
    """An earlier answer of the chat once a new one is asked: its `[n]` plain text again, since
    the chips (and what `n` names) are the newest answer's."""
    return _MARKER.sub(r"\1", html)


def _marked_pieces(
    text: str, citations: Sequence[Any], sources: Sequence[Any]
) -> list[str | list[int]]:
    """`text` cut at its `[Pn]` markers: the text between them, and for each marker its chip
    numbers (a marker naming no cited source is dropped)."""
    chip = {c.id: i for i, c in enumerate(citations, 1)}
    pieces: list[str | list[int]] = []
    start = 0
    for match in _SPACED_CITATION.finditer(text):
        pieces.append(text[start : match.start()])
        start = match.end()
        numbers = []
        for n in re.findall(r"\d+", match.group(0)):
            index = int(n) - 1
            if 0 <= index < len(sources) and sources[index].id in chip:
                numbers.append(chip[sources[index].id])
        if numbers:
            pieces.append(list(dict.fromkeys(numbers)))
    pieces.append(text[start:])
    return pieces


def citing_sentences(text: str, sources: Sequence[Any], paper_id: str) -> list[str]:
    """The sentences of an answer that cite `paper_id` (to highlight its support in the card)."""
    numbers = {str(i) for i, s in enumerate(sources, 1) if s.id == paper_id}
    out = []
    for sentence in re.split(r"(?<=[。！？!?])|(?<=\.)\s", text):
        cited = {str(n) for n in cited_numbers(sentence)}
        if cited & numbers:
            out.append(_SPACED_CITATION.sub("", sentence).strip())
    return out


def counts_line(label: str, counts: Iterable[tuple[str, int]]) -> str:
    items = ", ".join(f"{escape(k)} {v}" for k, v in counts)
    return f'<div class="kg-counts"><b>{escape(label)}</b> {items}</div>'


def _highlighted(abstract: str, highlight: Sequence[str]) -> str:
    sentences = _sentence_pieces(abstract) or [abstract]
    best = _best_sentence(sentences, [h for h in highlight if h.strip()])
    return "".join(
        f"<mark>{escape(s)}</mark>" if i == best else escape(s) for i, s in enumerate(sentences)
    )


def supporting_sentence(text: str, highlight: Sequence[str]) -> str:
    """The sentence of `text` (a source's evidence) closest to the `highlight` texts (the answer
    sentences citing it): what a page image marks. The first sentence when nothing is close."""
    pieces = [p.strip() for p in _sentence_pieces(text.replace("…", ". ")) if p.strip()]
    if not pieces:
        return ""
    best = _best_sentence(pieces, [h for h in highlight if h.strip()])
    return pieces[best or 0]


def page_figure(png: bytes, page: int, title: str, sentence: str = "") -> str:
    """A cited PDF page, inlined as an image (the app works offline: no file URL to serve),
    under its page number and the supporting `sentence` (marked on the image too)."""
    import base64

    data = base64.b64encode(png).decode("ascii")
    alt = escape(f"Page {page} of {title}, the supporting passage marked")
    quote = f'<blockquote class="kg-page-quote"><mark>{escape(sentence)}</mark></blockquote>'
    return (f'<figure class="kg-page"><figcaption>p. {page}</figcaption>'
            f'{quote if sentence.strip() else ""}'
            f'<img src="data:image/png;base64,{data}" alt="{alt}"></figure>')  # fmt: skip


def _sentence_pieces(text: str) -> list[str]:
    """The abstract cut at sentence ends (`kg.text`), each piece keeping the space before it so
    that the pieces render the abstract as written; its line breaks only wrap it."""
    from kg.text import sentence_spans

    ends = [end for _, end in sentence_spans(text.replace("\n", " "))]
    return [text[start:end] for start, end in zip([0, *ends], ends, strict=False)]


def _best_sentence(sentences: Sequence[str], highlight: Sequence[str]) -> int | None:
    """Index of the sentence sharing the most character bigrams with the highlight texts."""
    if not highlight:
        return None
    wanted = set().union(*(_bigrams(h) for h in highlight))
    scores = [len(_bigrams(s) & wanted) / (len(_bigrams(s)) ** 0.5 or 1) for s in sentences]
    best = max(range(len(sentences)), key=scores.__getitem__)
    return best if scores[best] > 0 else None


def _bigrams(text: str) -> set[str]:
    folded = re.sub(r"\s+", "", text.casefold())
    return {folded[i : i + 2] for i in range(len(folded) - 1)}


def _short(title: str, limit: int = 38) -> str:
    """A chip's label: the paper's short name (`kg.paper.short_name`), cut to `limit`."""
    head = short_name(title)
    return head if len(head) <= limit else head[: limit - 1] + "…"


def _short_path(path: str) -> str:
    return path.rsplit("/", 1)[-1]

"""Passages carry their paper's header as fields; the embedded text is rendered from them."""

from __future__ import annotations

import hashlib

from kg.corpus import Corpus
from rag.passages import Passage, PassageHeader, passages, render_passage
from rag.retrieval.retrieve import snippet
from rag.stores.faiss import _passage_from_json, _passage_json

# sha256 of every passage text of the shipped list, joined by NUL: the embedded layout is what
# existing indexes hashed; a change to it must be deliberate (every index then re-embeds).
SHIPPED_PASSAGES_SHA256 = "55a07c8e5f7d1989bd815041ddaedeb02e50945d31bec16323291655c2f3695f"


def test_the_embedded_text_is_the_layout_existing_indexes_hashed(corpus: Corpus) -> None:
    texts = "\x00".join(p.text for p in passages(corpus))
    assert hashlib.sha256(texts.encode("utf-8")).hexdigest() == SHIPPED_PASSAGES_SHA256


def test_a_passage_carries_its_papers_header_as_fields(corpus: Corpus) -> None:
    by_id = corpus.by_id()
    for passage in passages(corpus):
        paper = by_id[passage.paper_id]
        header = passage.header
        assert header is not None
        assert (header.title, header.date, header.influence) == (
            paper.title,
            paper.date,
            paper.influence,
        )
        assert header.organizations == (", ".join(paper.organizations) or paper.organizations_raw)
        assert header.authors == paper.authors
        assert "".join(passage.body.split()) in "".join(paper.abstract.split())
        assert passage.text == render_passage(header, passage.body)
        assert passage.text.startswith(header.render())


def test_the_header_renders_bilingual_labels_and_leaves_out_empty_fields() -> None:
    header = PassageHeader("Medusa", "", "2024-01", "推理", influence="")
    assert header.render() == "Medusa\n发布时间 Date: 2024-01\n类别 Category: 推理"
    assert render_passage(header, "") == header.render()
    full = PassageHeader("Medusa", "Princeton University", "2024-01", "推理", "2x faster")
    assert render_passage(full, "Body.") == (
        "Medusa\n发表单位 Organizations: Princeton University\n发布时间 Date: 2024-01\n"
        "类别 Category: 推理\n影响力 Influence: 2x faster\n\nBody."
    )


def test_authors_travel_with_the_header_but_are_not_embedded() -> None:
    plain = PassageHeader("T", "Org", "2023-01", "c", "i")
    with_authors = PassageHeader("T", "Org", "2023-01", "c", "i", authors=("Tri Dao",))
    assert with_authors.render() == plain.render()


def test_a_passage_without_a_header_is_its_body() -> None:
    passage = Passage("p#0", "p", "T", "stored text", 0)
    assert passage.text == "stored text"
    assert passage.content_hash == hashlib.sha256(b"stored text").hexdigest()


def test_a_stored_row_read_back_keeps_its_content_hash(corpus: Corpus) -> None:
    for passage in passages(corpus)[:5]:
        row = _passage_from_json(_passage_json(passage))
        assert row.content_hash == passage.content_hash
        assert row.id == passage.id


def test_snippets_come_from_the_body_or_else_the_header() -> None:
    header = PassageHeader("Title", "Org", "2023-01", "c", "note")
    assert snippet(Passage("a#0", "a", "Title", "An abstract.", 0, header)) == "An abstract."
    headline = snippet(Passage("a#0", "a", "Title", "", 0, header))
    assert headline.startswith("Title · 发表单位 Organizations: Org · ")
    assert "影响力 Influence: note" in headline

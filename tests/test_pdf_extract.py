"""Reading a PDF as a reader would: two columns in order, hyphens and Chinese lines joined,
running headers and page numbers gone, the title page read, sections on their pages, every
dev-set fact on the page the dev set says, and the text cached by the PDF's sha256."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

import kg.pdf.read
from kg.pdf import PdfDocument, read_pdf
from kg.pdf.textjoin import Vocabulary, join_lines
from tests.fixtures.pdf import HERE, PAPERS, body_questions, gold, paper


def _all_text(document: PdfDocument) -> str:
    return "\n".join(page.text for page in document.pages)


def _paragraph_with(document: PdfDocument, needle: str) -> tuple[str, int]:
    found = [(p.text, p.page) for _, p in document.paragraphs() if needle in p.text]
    assert found, f"no paragraph of {document.path} holds {needle!r}"
    return found[0]


# ---------------------------------------------------------------- reading order


def test_a_sentence_across_the_column_break_reads_whole() -> None:
    text, page = _paragraph_with(paper("quillwort.pdf"), "Replacing the learned router")
    assert "Replacing the learned router with random block selection reduces NeedleGrid " \
           "accuracy to 31.0" in text and page == 2  # fmt: skip
    # in brindle.pdf a footnote sits at the foot of the left column, between the two halves
    text, page = _paragraph_with(paper("brindle.pdf"), "Both approaches")
    assert "Both approaches train one module per task or language." in text and page == 1


def test_a_display_formulas_stray_rows_stay_with_the_formula() -> None:
    """A fraction's denominator is set below the numbered line of its formula: it must not open
    the paragraph after it ("τ d The routing temperature …")."""
    text, _ = _paragraph_with(paper("quillwort.pdf"), "The routing temperature")
    assert text.startswith("The routing temperature τ is fixed at 0.35 after warm-up.")
    formula, _ = _paragraph_with(paper("quillwort.pdf"), "topk")
    assert formula.rstrip().endswith("τ d")  # the denominator, back with its formula
    paragraphs = [p.text for _, p in paper("halyard.pdf").paragraphs()]
    assert "h" not in paragraphs  # a subscript left alone as a paragraph


def test_the_left_column_is_read_before_the_right() -> None:
    page1 = paper("quillwort.pdf").page(1).text
    order = ["Attention over very long inputs", "1 Introduction", "judge whether the method",
             "2 Related Work", "3 Method", "which acts as an attention sink"]  # fmt: skip
    positions = [page1.index(needle) for needle in order]
    assert positions == sorted(positions)


def test_a_paragraph_over_a_page_break_is_cut_after_the_sentence_it_breaks() -> None:
    document = paper("quillwort.pdf")
    text, page = _paragraph_with(document, "Such a separation is not available")
    assert page == 2 and text.endswith("where every token receives some weight.")
    text, page = _paragraph_with(document, "We believe that block routing")
    assert page == 3 and text.startswith("We believe that block routing")
    # the page's own text still starts where the page does
    assert document.page(3).text.startswith("available for dense attention")


# ---------------------------------------------------------------- joining lines


def test_line_break_hyphens_are_joined_and_compound_hyphens_kept() -> None:
    vocabulary = Vocabulary.of(["retrieval-augmented models", "the NeedleGrid benchmark"])
    assert join_lines(["a lim-", "ited router"], vocabulary) == "a limited router"
    assert join_lines(["a lim\u00ad", "ited router"], vocabulary) == "a limited router"
    assert join_lines(["Block-", "Sparse Routing"], vocabulary) == "Block-Sparse Routing"
    assert join_lines(["the Needle-", "Grid benchmark"], vocabulary) == "the NeedleGrid benchmark"
    assert join_lines(["Retrieval-", "augmented generation"], vocabulary) == \
        "Retrieval-augmented generation"  # fmt: skip
    assert join_lines(["after warm-", "up the router"], vocabulary) == "after warm-up the router"
    assert (
        join_lines(["needle-in-a-", "haystack tests"], vocabulary) == "needle-in-a-haystack tests"
    )
    assert join_lines(["pages 55-", "61."], vocabulary) == "pages 55-61."


def test_hyphenated_words_of_the_fixtures_read_whole() -> None:
    quillwort = _all_text(paper("quillwort.pdf"))
    assert "grow quadratically with the length" in quillwort  # "quadrat-" / "ically"
    assert "fixed at 0.35 after warm-up." in quillwort  # "warm-" / "up"
    assert "Retrieval-augmented generation for knowledge-intensive" in quillwort
    assert "needle-in-a-haystack tests" in quillwort
    for name in PAPERS:
        assert "\u00ad" not in _all_text(paper(name)), name


def test_chinese_lines_join_without_spaces() -> None:
    document = paper("qingwu.pdf")
    text, _ = _paragraph_with(document, "直接把普通话模型用于方言")
    assert "往往得到大量同音替换和漏识别的结果。" in text  # "漏识别" / "的结果。" on two lines
    han_gap = re.compile(r"[\u4e00-\u9fff，。；：、（）] [\u4e00-\u9fff，。；：、（）]")
    assert not [p.text for _, p in document.paragraphs() if han_gap.search(p.text)]
    assert join_lines(["分块路由为", "基础，", "and English"], Vocabulary.of([])) == \
        "分块路由为基础， and English"  # fmt: skip


# ---------------------------------------------------------------- headers, footers, page numbers


@pytest.mark.parametrize(("name", "running"), [
    ("quillwort.pdf", ["Preprint"]),
    ("halyard.pdf", ["Preprint. Under review."]),  # its header repeats the title: counted below
    ("tamarack.pdf", ["Page 2 of 5", "Tamarack Benchmark", "Technical Report NU-TR-2023-118"]),
    ("brindle.pdf", ["JOURNAL OF INVENTED MODELS"]),
    ("qingwu.pdf", ["预印本", "— 2 —"]),
])  # fmt: skip
def test_running_headers_footers_and_page_numbers_are_dropped(
    name: str, running: list[str]
) -> None:
    document = paper(name)
    for page in document.pages:
        for text in running:
            assert text not in page.text, (name, page.number, text)
        bare = [line for line in page.text.split("\n\n") if re.fullmatch(r"[\d\s—–-]+", line)]
        assert not bare, (name, page.number, bare)
    title = document.front.title or ""
    assert sum(page.text.count(title) for page in document.pages) == 1  # the title page only


# ---------------------------------------------------------------- title page and sections


@pytest.mark.parametrize("name", PAPERS)
def test_the_title_page_is_read(name: str) -> None:
    expected = gold("pdf_references_dev.json")["papers"][name]
    front = paper(name).front
    assert front.title == expected["title"]
    assert list(front.authors) == expected["authors"]
    assert front.date == expected["date"]
    assert front.arxiv_id == expected["arxiv_id"]
    assert front.doi == expected["doi"]
    assert paper(name).page_count == expected["pages"]


def test_pdf_metadata_only_confirms_the_title() -> None:
    assert paper("quillwort.pdf").front.metadata_agrees is True
    assert paper("tamarack.pdf").front.metadata_agrees is False  # its Title field says "Tamarack"
    assert (paper("tamarack.pdf").front.title or "").startswith("Tamarack: A Benchmark")
    assert paper("qingwu.pdf").front.metadata_agrees is None  # no Title field


@pytest.mark.parametrize("name", PAPERS)
def test_sections_are_found_on_their_pages(name: str) -> None:
    expected = gold("pdf_structure_dev.json")["papers"][name]
    found = [[s.name, s.kind, s.level, s.start_page] for s in paper(name).sections]
    assert found == expected


def test_every_paragraph_has_the_page_it_is_on() -> None:
    for name in PAPERS:
        document = paper(name)
        for section, paragraph in document.paragraphs():
            assert 1 <= paragraph.page <= document.page_count
            assert paragraph.page >= section.start_page
            assert paragraph.text[:40] in document.page(paragraph.page).text, (name, paragraph)


# ---------------------------------------------------------------- the dev set's pages


def test_the_body_dev_set_covers_both_languages_and_keeps_a_report_part() -> None:
    items = body_questions()
    assert len(items) >= 40 and {item["pdf"] for item in items} == set(PAPERS)
    assert {item["part"] for item in items} == {"tune", "report"}
    assert 0.25 <= sum(item["part"] == "report" for item in items) / len(items) <= 0.4
    han = re.compile(r"[\u4e00-\u9fff]")
    chinese_on_english = [
        i for i in items if han.search(i["question"]) and i["pdf"] != "qingwu.pdf"
    ]
    english_on_chinese = [
        i for i in items if not han.search(i["question"]) and i["pdf"] == "qingwu.pdf"
    ]
    assert chinese_on_english and english_on_chinese
    assert len({item["id"] for item in items}) == len(items)


@pytest.mark.parametrize("item", body_questions(), ids=lambda item: item["id"])
def test_each_dev_set_fact_is_on_its_page(item: dict) -> None:  # type: ignore[type-arg]
    document = paper(item["pdf"])
    page = document.page(item["page"]).text
    assert any(fact in page for fact in item["expect_any"]), (item["question"], item["page"])
    cited = [p.text for _, p in document.paragraphs() if p.page == item["page"]]
    assert any(fact in text for fact in item["expect_any"] for text in cited)


def test_the_dev_set_pages_agree_with_an_independent_extractor() -> None:
    """pypdf (pure Python, another text extractor) finds each fact on the same page."""
    pypdf = pytest.importorskip("pypdf")
    texts: dict[str, list[str]] = {}
    for name in PAPERS:
        reader = pypdf.PdfReader(HERE / name)
        texts[name] = [re.sub(r"\s+", "", page.extract_text() or "") for page in reader.pages]
    for item in body_questions():
        page = texts[item["pdf"]][item["page"] - 1]
        assert any(re.sub(r"\s+", "", fact) in page for fact in item["expect_any"]), item["id"]


# ---------------------------------------------------------------- the cache


def test_a_second_read_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = read_pdf(HERE / "halyard.pdf", cache_dir=cache)
    entries = list(cache.iterdir())
    assert [entry.name for entry in entries] == [f"{first.sha256}.json"]
    assert json.loads(entries[0].read_text(encoding="utf-8"))["format"] == "kgrag-pdf-text v1"

    def no_extraction(*args: object, **kwargs: object) -> PdfDocument:
        raise AssertionError("the extractor ran on a cached PDF")

    monkeypatch.setattr(kg.pdf.read, "extract_document", no_extraction)
    assert read_pdf(HERE / "halyard.pdf", cache_dir=cache) == first
    # the same bytes under another name: still cached, with the new path
    copy = tmp_path / "renamed.pdf"
    shutil.copy(HERE / "halyard.pdf", copy)
    moved = read_pdf(copy, cache_dir=cache)
    assert moved.path == str(copy) and moved.sections == first.sections


def test_a_damaged_cache_entry_is_read_again(tmp_path: Path) -> None:
    first = read_pdf(HERE / "brindle.pdf", cache_dir=tmp_path)
    entry = tmp_path / f"{first.sha256}.json"
    entry.write_text("{not json", encoding="utf-8")
    assert read_pdf(HERE / "brindle.pdf", cache_dir=tmp_path) == first
    assert json.loads(entry.read_text(encoding="utf-8"))["document"]["sha256"] == first.sha256


def test_the_document_round_trips_through_json() -> None:
    document = paper("qingwu.pdf")
    assert PdfDocument.from_json(json.loads(json.dumps(document.to_json()))) == document


# ---------------------------------------------------------------- the page a citation shows


def test_a_passage_is_boxed_on_its_rendered_page() -> None:
    pytest.importorskip("PIL")
    from kg.pdf.render import page_image, passage_boxes

    image = page_image(HERE / "quillwort.pdf", 2, scale=1.5)
    assert image.size == (893, 1263)  # A4 at 1.5 pixels per point
    passage, _ = _paragraph_with(paper("quillwort.pdf"), "Replacing the learned router")
    sentence = passage[passage.index("Replacing") : passage.index("31.0") + 4]
    boxes = passage_boxes(HERE / "quillwort.pdf", 2, sentence, scale=1.5)
    assert len(boxes) == 3  # the last line of the left column, two at the top of the right
    (left, top, right, bottom), *rest = boxes
    assert right < image.size[0] / 2 < rest[0][0] and top > image.size[1] * 0.8 > rest[0][3]
    assert all(0 <= x0 < x1 <= image.size[0] and 0 <= y0 < y1 <= image.size[1]
               for x0, y0, x1, y1 in boxes)  # fmt: skip
    assert passage_boxes(HERE / "quillwort.pdf", 1, sentence) == []  # not on page 1


def test_a_cited_page_is_a_png_with_its_passage_marked_in_yellow() -> None:
    from PIL import Image, ImageStat

    from kg.pdf.render import HIGHLIGHT, highlighted_page, page_image, passage_boxes

    passage, _ = _paragraph_with(paper("quillwort.pdf"), "Replacing the learned router")
    sentence = passage[passage.index("Replacing") : passage.index("31.0") + 4]
    marked = Image.open(io.BytesIO(highlighted_page(HERE / "quillwort.pdf", 2, sentence)))
    assert marked.format == "PNG" and marked.size == (893, 1263)
    plain = page_image(HERE / "quillwort.pdf", 2, scale=1.5).convert("RGB")
    box = tuple(int(v) for v in passage_boxes(HERE / "quillwort.pdf", 2, sentence, scale=1.5)[0])
    red, green, blue = ImageStat.Stat(marked.convert("RGB").crop(box)).mean
    red0, green0, blue0 = ImageStat.Stat(plain.crop(box)).mean
    assert blue < blue0 - 20 and red >= red0  # yellowed: blue taken out, red kept
    assert HIGHLIGHT[3] < 255  # translucent: the text under it stays readable
    away = (0, 0, 200, 60)  # the top margin: no passage there
    assert ImageStat.Stat(marked.convert("RGB").crop(away)).mean == ImageStat.Stat(
        plain.crop(away)).mean  # fmt: skip
    unmarked = Image.open(io.BytesIO(highlighted_page(HERE / "quillwort.pdf", 1, sentence)))
    assert unmarked.size == marked.size  # a page without the passage is shown unmarked


def test_importing_kg_pdf_loads_no_pdfium() -> None:
    import subprocess
    import sys

    code = "import sys, kg.pdf; print('pypdfium2' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

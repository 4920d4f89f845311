"""PDFs in the library: `kgrag add paper.pdf folder/`, refusals that write nothing, BibTeX
`file` fields, the text cache by sha256, the full text back on load (or a warning), and body
passages with their pages."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.corpus import Corpus, default_corpus_path, load_corpus
from kg.errors import KgragError
from kg.library import add_files, load_library
from kg.paths import pdf_cache_dir
from kg.pdf import PdfError
from kg.readers import read_source, reader_extensions, reader_formats
from kg.readers.pdf import file_field_pdf
from rag.passages import MAX_PASSAGE_CHARS, paper_passages, passages

PDFS = Path(__file__).parent / "fixtures" / "pdf"
GOOD = ("quillwort", "halyard", "tamarack", "brindle", "qingwu")
BROKEN = ("image_only", "encrypted", "truncated", "damaged", "not_a_pdf")
GOLD = json.loads((Path(__file__).parents[1] / "data/eval/pdf_references_dev.json").read_text())[
    "papers"
]  # what each fixture's title page states


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


def _folder(tmp_path: Path, *names: str) -> Path:
    """A folder of fixture PDFs, half of them one level down (the walk is recursive)."""
    folder = tmp_path / "papers"
    for i, name in enumerate(names):
        target = folder / ("sub" if i % 2 else "") / f"{name}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PDFS / f"{name}.pdf", target)
    return folder


def _written(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.rglob("*") if p.is_file()) if data_dir.exists() else []


def test_pdf_is_a_reader_format_and_an_upload_type() -> None:
    assert "pdf" in reader_formats() and ".pdf" in reader_extensions()


def test_a_pdf_becomes_one_paper_from_its_first_page(data_dir: Path) -> None:
    result = read_source(PDFS / "quillwort.pdf")
    (paper,) = result.papers
    (document,) = result.documents
    assert result.format == "pdf"
    assert paper.title == document.front.title and paper.title.startswith("Quillwort")
    assert paper.authors == document.front.authors and len(paper.authors) == 4
    assert paper.date == "2024-03" and paper.arxiv_id == "2403.17215"
    assert paper.abstract.startswith("Attention over very long inputs")
    assert paper.pdf_sha256 == document.sha256 and Path(paper.pdf_path).name == "quillwort.pdf"
    assert dict(paper.provenance)["title"] == "quillwort.pdf p. 1"
    assert not _written(data_dir)  # reading writes nothing, not even the cache


def test_adding_a_pdf_and_a_folder(data_dir: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path, "halyard", "tamarack", "brindle", "qingwu")
    report = add_files([PDFS / "quillwort.pdf", folder])
    assert [f.name for f, fmt, n in report.files if fmt == "pdf" and n == 1] == [
        "quillwort.pdf",
        "brindle.pdf",
        "halyard.pdf",
        "qingwu.pdf",
        "tamarack.pdf",
    ]  # fmt: skip  (the folder's by path: halyard.pdf before sub/qingwu.pdf, sub/tamarack.pdf)
    assert len(report.of("added")) == 5
    corpus = load_corpus(default_corpus_path())
    assert len(corpus.documents) == 5 and not corpus.warnings
    for name in GOOD:
        gold = GOLD[f"{name}.pdf"]
        paper = next(p for p in corpus.papers if Path(p.pdf_path).name == f"{name}.pdf")
        document = corpus.document(paper.id)
        assert document is not None and document.sha256 == paper.pdf_sha256
        assert paper.title == gold["title"] and list(paper.authors) == gold["authors"]
        assert gold["date"].startswith(paper.date) and paper.arxiv_id == (gold["arxiv_id"] or "")
        assert paper.doi == (gold["doi"] or "") and paper.abstract
    cached = sorted(p.stem for p in pdf_cache_dir().glob("*.json"))
    assert cached == sorted(p.pdf_sha256 for p in corpus.papers if p.pdf_sha256)


def test_adding_the_same_pdf_again_reads_nothing_and_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    add_files([PDFS / "halyard.pdf"])
    library = (data_dir / "library.jsonl").read_bytes()

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the PDF was extracted again")

    monkeypatch.setattr("kg.pdf.read.extract_document", never)
    copy = tmp_path / "renamed.pdf"  # the same bytes under another name: the cache knows them
    shutil.copy(PDFS / "halyard.pdf", copy)
    report = add_files([PDFS / "halyard.pdf", copy])
    assert [o.action for o in report.outcomes] == ["unchanged", "unchanged"]
    assert (data_dir / "library.jsonl").read_bytes() == library


@pytest.mark.parametrize("broken", BROKEN)
def test_a_refused_pdf_writes_nothing_even_beside_good_ones(
    broken: str, data_dir: Path, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, "quillwort", broken, "halyard")
    with pytest.raises(KgragError) as raised:
        add_files([PDFS / "tamarack.pdf", folder])
    message = str(raised.value)
    assert f"{broken}.pdf" in message and "\n" not in message
    assert isinstance(raised.value, PdfError)
    assert _written(data_dir) == []  # no library, no lock, no cache entry of the good ones


def test_cli_refusal_is_one_line_and_a_folder_without_pdfs_is_named(
    run_kgrag: Callable[..., object], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    result = run_kgrag("add", str(PDFS / "encrypted.pdf"), KGRAG_DATA_DIR=str(data))
    assert result.returncode == 2  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and "encrypted.pdf" in lines[0] and "password" in lines[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_kgrag("add", str(empty), KGRAG_DATA_DIR=str(data))
    assert result.returncode == 2 and "no PDF" in result.stderr  # type: ignore[attr-defined]
    assert not data.exists() or _written(data) == []


def test_cli_adds_a_pdf_as_json(run_kgrag: Callable[..., object], tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_kgrag("add", str(PDFS / "brindle.pdf"), "--json", KGRAG_DATA_DIR=str(data))
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    shown = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert shown["files"][0]["format"] == "pdf" and shown["added"][0]["id"] == "brindle"


@pytest.mark.parametrize(
    "field",
    ["Full Text:files/12/quillwort.pdf:application/pdf", "files/12/quillwort.pdf"],
)
def test_a_bibtex_file_field_brings_its_pdf(field: str, data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "files" / "12").mkdir(parents=True)
    shutil.copy(PDFS / "quillwort.pdf", tmp_path / "files" / "12" / "quillwort.pdf")
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{ostrowski2024,\n  title = {Quillwort: Routing Long Contexts in Blocks},\n"
        "  author = {Ostrowski, Maren and Feng, Dariusz},\n  year = {2024},\n  month = {may},\n"
        f"  file = {{{field}}}\n}}\n",
        encoding="utf-8",
    )  # the entry's title and date differ from the PDF's: the entry's win
    report = add_files([bib])
    (outcome,) = report.of("added")
    paper = report.corpus.by_id()[outcome.id]
    assert paper.title == "Quillwort: Routing Long Contexts in Blocks" and paper.date == "2024-05"
    assert paper.abstract.startswith("Attention over very long inputs")  # none in the entry
    document = load_corpus(default_corpus_path()).document(paper.id)
    assert document is not None and document.sha256 == paper.pdf_sha256
    assert any(p.page for p in paper_passages(paper, document=document))


def test_a_bibtex_file_field_naming_a_missing_pdf_is_a_note(data_dir: Path, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{a, title = {Only Metadata}, year = {2023}, "
                   "file = {Full Text:files/1/gone.pdf:application/pdf}}\n")  # fmt: skip
    report = add_files([bib])
    assert [o.action for o in report.outcomes] == ["added"]
    assert "files/1/gone.pdf" in report.notes[0] and not report.corpus.documents


def test_file_field_forms() -> None:
    assert file_field_pdf("Snapshot:files/3/a.html:text/html;PDF:files/3/a.pdf:application/pdf") \
        == "files/3/a.pdf"  # fmt: skip
    assert file_field_pdf(":C\\:/papers/x.pdf:PDF") == "C\\:/papers/x.pdf"
    assert file_field_pdf("") == ""


def test_the_text_comes_back_from_the_pdf_or_the_paper_keeps_its_abstract(
    data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "tamarack.pdf"
    shutil.copy(PDFS / "tamarack.pdf", copy)
    add_files([copy])
    shutil.rmtree(pdf_cache_dir())
    corpus = load_corpus(default_corpus_path())  # cache gone, PDF there: read again
    assert len(corpus.documents) == 1 and not corpus.warnings
    assert any(pdf_cache_dir().glob("*.json"))  # and cached again
    shutil.rmtree(pdf_cache_dir())
    copy.unlink()
    corpus = load_corpus(default_corpus_path())  # both gone: the abstract, and a warning
    (paper,) = [p for p in corpus.papers if p.pdf_sha256]
    assert not corpus.documents and paper.abstract
    assert len(corpus.warnings) == 1 and paper.id in corpus.warnings[0]
    assert all(p.page is None for p in paper_passages(paper))


def test_the_library_line_keeps_the_pdf_not_its_text(data_dir: Path) -> None:
    add_files([PDFS / "qingwu.pdf"])
    (paper,) = load_library(data_dir / "library.jsonl").papers
    assert len(paper.pdf_sha256) == 64 and paper.pdf_path.endswith("qingwu.pdf")
    assert (data_dir / "library.jsonl").stat().st_size < 4000  # the body is in the cache


def _pdf_corpus(data_dir: Path) -> Corpus:
    add_files([PDFS / f"{name}.pdf" for name in GOOD])
    return load_corpus(default_corpus_path())


def test_body_passages_carry_page_and_section(data_dir: Path) -> None:
    corpus = _pdf_corpus(data_dir)
    for paper_id, document in corpus.documents:
        paper = corpus.by_id()[paper_id]
        mine = paper_passages(paper, document=document)
        abstract = paper_passages(paper)
        assert mine[: len(abstract)] == abstract  # abstract passages first, as without the PDF
        body = mine[len(abstract) :]
        assert body and all(p.page and p.section for p in body)
        assert all(len(p.body) <= MAX_PASSAGE_CHARS * 1.5 for p in body)
        references = {s.name for s in document.sections if s.kind == "references"}
        assert not {p.section for p in body} & references
        for passage in body:  # each passage's text is on the page it names
            head = passage.body.split("\n")[0][:20]  # its first sentence starts there
            assert head in " ".join(document.page(passage.page).text.split())
        assert [p.id for p in mine] == [f"{paper_id}#{i}" for i in range(len(mine))]


def test_shipped_passages_are_unchanged_by_pages(corpus: Corpus) -> None:
    shipped = passages(corpus)
    assert all(p.page is None and p.section is None for p in shipped)
    assert shipped == [p for paper in corpus.papers for p in paper_passages(paper)]


def test_progress_counts_the_pages_read_and_a_dry_run_caches_nothing(data_dir: Path) -> None:
    pages: list[int] = []
    paths = [PDFS / f"{name}.pdf" for name in GOOD]
    report = add_files(paths, dry_run=True, progress=pages.append)
    assert sum(pages) == sum(GOLD[f"{name}.pdf"]["pages"] for name in GOOD) and len(pages) == 5
    assert len(report.of("added")) == 5 and len(report.corpus.documents) == 5
    assert _written(data_dir) == [data_dir / "library.jsonl.lock"]  # the lock, no library or text


def test_an_upload_is_named_by_the_users_file_and_keeps_the_file_it_was_read_from(
    data_dir: Path, tmp_path: Path
) -> None:
    """The app reads an upload from its lasting copy (`keep_pdf`) under the user's file name:
    the paper is named by that name, and its PDF is the copy (page images, a re-read)."""
    copy = tmp_path / "kept-1a2b"  # no extension: judged by its %PDF- header
    shutil.copy(PDFS / "brindle.pdf", copy)
    (outcome,) = add_files([copy], names=["brindle-camera-ready.pdf"]).of("added")
    paper = load_corpus(default_corpus_path()).by_id()[outcome.id]
    assert paper.source == "brindle-camera-ready.pdf"
    assert paper.pdf_path == str(copy.resolve())
    shutil.copy(PDFS / "image_only.pdf", copy)
    with pytest.raises(PdfError, match=r"^scan\.pdf: has no text layer"):
        add_files([copy], names=["scan.pdf"])


def test_a_pdf_for_a_paper_of_the_list_merges_its_full_text(data_dir: Path, tmp_path: Path) -> None:
    shutil.copy(PDFS / "halyard.pdf", tmp_path / "llama2.pdf")  # any PDF stands in for its text
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{touvron2023, title = {Llama 2: Open Foundation and Fine-Tuned Chat "
                   "Models}, year = {2023}, file = {llama2.pdf}}\n")  # fmt: skip
    (merged,) = add_files([bib]).of("merged")
    assert merged.id == "llama-2" and "pdf" in merged.filled
    corpus = load_corpus(default_corpus_path())
    document = corpus.document("llama-2")
    assert document is not None and corpus.by_id()["llama-2"].pdf_sha256 == document.sha256
    before = paper_passages(load_corpus().by_id()["llama-2"])  # the shipped list's paper
    after = paper_passages(corpus.by_id()["llama-2"], document=document)
    assert after[: len(before)] == before and len(after) > len(before)
    again = add_files([bib])
    assert again.of("unchanged"), again.outcomes  # the same file again: nothing new

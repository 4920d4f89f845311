"""Uploads in the Index tab: size-checked before reading, removed from Gradio's temp folder
once read, whether accepted or rejected; any format `kgrag add` reads goes through
`kg.library.add_files` and shows its report; the header, Papers tab and cards follow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus
from kg.errors import CorpusError, KgragError
from kg.library import AddReport, Outcome
from kg.readers import ReadOptions, read_source
from ui.app_index import add_uploaded
from ui.app_services import AppServices, ServeOptions


class StubServices:
    """Only what `add_uploaded` uses: reads like the real thing (`kg.readers`), writes nothing,
    and reports every entry as already in the corpus."""

    def add_files(
        self,
        paths: Sequence[Path | str],
        fmt: str = "auto",
        options: ReadOptions | None = None,
        names: Sequence[str] | None = None,
    ) -> AddReport:
        # Raises naming the line, as the library does.
        shown = list(names) if names is not None else [None] * len(paths)
        results = [
            read_source(p, fmt=fmt, options=options, name=n)
            for p, n in zip(paths, shown, strict=True)
        ]
        papers = tuple(p for r in results for p in r.papers)
        outcomes = tuple(
            Outcome("unchanged", p.id, p.title, f"{p.source}:{p.line}") for p in papers
        )
        files = tuple((r.path, r.format, len(r.papers)) for r in results)
        library = Path("library.jsonl")
        return AddReport(library, False, files, outcomes, Corpus(library, "", papers))

    def update_index(self) -> None:
        raise AssertionError("nothing was added")


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def _upload(uploads: Path, data: bytes, size: int | None = None) -> Path:
    path = uploads / "3f2a9c" / "papers.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    if size is not None:
        with path.open("r+b") as handle:
            handle.truncate(size)  # sparse: large without writing it
    return path


GOOD = "基座\n\nA: b\n\n发布时间:2023.05\n\n发表单位:Meta\n\n影响力:x\n\n摘要:一个摘要。\n".encode()


def test_a_rejected_upload_is_removed_from_the_temp_folder(uploads: Path) -> None:
    path = _upload(uploads, "基座\n\nA: b\n\n发布时间:May\n".encode())
    message = add_uploaded(StubServices(), str(path), lambda *a, **k: None)  # type: ignore[arg-type]
    assert "was not added" in message
    assert not path.exists() and not path.parent.exists() and uploads.is_dir()


def test_an_accepted_upload_is_removed_too(uploads: Path) -> None:
    path = _upload(uploads, GOOD)
    message = add_uploaded(StubServices(), str(path), lambda *a, **k: None)  # type: ignore[arg-type]
    assert "Skipped 1" in message and not path.exists()


def test_an_oversized_upload_is_refused_with_the_limit_before_reading(uploads: Path) -> None:
    path = _upload(uploads, GOOD, size=6_000_000)
    message = add_uploaded(StubServices(), str(path), lambda *a, **k: None)  # type: ignore[arg-type]
    assert "5,000,000 bytes" in message and not path.exists()


def test_files_outside_the_upload_folder_are_never_removed(uploads: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_bytes(GOOD)
    add_uploaded(StubServices(), str(mine), lambda *a, **k: None)  # type: ignore[arg-type]
    assert mine.read_bytes() == GOOD


def test_stub_validates_like_the_library(tmp_path: Path) -> None:
    unknown = tmp_path / "x.txt"
    unknown.write_text("nothing here", encoding="utf-8")
    with pytest.raises(CorpusError):
        StubServices().add_files([unknown])


# --- the real services: kg.library behind the upload -------------------------------------------

TWO_ENTRIES = (Path(__file__).parent / "fixtures" / "library" / "two_entries.bib").read_text(
    encoding="utf-8"
)  # 2 entries: one merges with the seed list's FlashAttention-2 by title


class CountingServices(AppServices):
    """The app's services with the index update counted instead of run (no model loads here;
    the browser test runs the real update)."""

    def __init__(self) -> None:
        super().__init__(ServeOptions())
        self.index_updates = 0

    def update_index(self) -> Any:
        self.index_updates += 1


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


def _no_progress(*args: object, **kwargs: object) -> None:
    return None


def test_a_bibtex_upload_shows_the_library_report_and_reloads_the_graph(
    data_dir: Path, tmp_path: Path
) -> None:
    services = CountingServices()
    before = len(services.papers())
    bib = tmp_path / "two.bib"
    bib.write_text(TWO_ENTRIES, encoding="utf-8")
    message = add_uploaded(services, str(bib), _no_progress)
    assert "Added 1 paper(s)</b>, merged 1, 0 unchanged, 0 rejected" in message
    assert "two.bib (bibtex, 2 entries)" in message
    assert '<li data-action="added"><b>added</b> <code>flashattention</code>' in message
    assert '<li data-action="merged"><b>merged</b> <code>flashattention-2</code>' in message
    assert "filled: venue, arxiv_id, authors" in message  # what the seed entry lacked
    assert "index is up to date" in message and services.index_updates == 1
    assert (data_dir / "library.jsonl").is_file()
    assert not (data_dir / "corpus.txt").exists()  # the user's list copy is not used for adds
    papers = services.corpus().by_id()
    assert len(papers) == before + 1
    assert papers["flashattention-2"].authors == ("Tri Dao",)
    assert papers["flashattention"].authors[-1] == "Christopher Ré"


def test_the_same_upload_again_is_skipped_and_leaves_the_index_alone(
    data_dir: Path, tmp_path: Path
) -> None:
    services = CountingServices()
    bib = tmp_path / "two.bib"
    bib.write_text(TWO_ENTRIES, encoding="utf-8")
    add_uploaded(services, str(bib), _no_progress)
    again = add_uploaded(services, str(bib), _no_progress)
    assert "Added 0 paper(s)</b>, merged 0, 2 unchanged" in again and "Skipped 2" in again
    assert services.index_updates == 1


def test_a_malformed_bibtex_upload_names_the_entry_and_adds_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    services = CountingServices()
    bib = tmp_path / "bad.bib"
    bib.write_text(TWO_ENTRIES + "\n@article{broken,\n  title={Unclosed,\n  year={2023}\n",
                   encoding="utf-8")  # fmt: skip
    message = add_uploaded(services, str(bib), _no_progress)
    assert "The file was not added." in message
    assert "bad.bib: line 16:" in message  # the line the broken entry starts on
    assert "Nothing was added or merged" in message
    assert not (data_dir / "library.jsonl").exists() and services.index_updates == 0
    assert len(services.papers()) == 26


def test_a_csv_upload_uses_the_column_map(data_dir: Path, tmp_path: Path) -> None:
    services = CountingServices()
    table = tmp_path / "mine.csv"
    table.write_text("Name,Year,People\nA Made-Up Study of Tables,2024,Ada Lovelace\n",
                     encoding="utf-8")  # fmt: skip
    message = add_uploaded(services, str(table), _no_progress, "auto",
                           "title=Name,date=Year,authors=People")  # fmt: skip
    assert "Added 1 paper(s)" in message and "mine.csv (csv, 1 entries)" in message
    paper = next(p for p in services.papers() if p.title == "A Made-Up Study of Tables")
    assert paper.authors == ("Ada Lovelace",)
    wrong = add_uploaded(services, str(table), _no_progress, "auto", "nonsense=Name")
    assert "The file was not added." in wrong and "columns: &#x27;nonsense=Name&#x27;" in wrong


def test_an_app_serving_a_given_list_refuses_uploads(tmp_path: Path) -> None:
    services = AppServices(ServeOptions(corpus=SHIPPED_CORPUS))
    bib = tmp_path / "two.bib"
    bib.write_text(TWO_ENTRIES, encoding="utf-8")
    with pytest.raises(KgragError, match="--corpus"):
        services.add_files([bib])


def test_after_an_upload_the_header_papers_filter_and_cards_show_authors(
    data_dir: Path, tmp_path: Path
) -> None:
    from kg.queries import author_counts
    from ui.app import header_html
    from ui.app_cards import card_html
    from ui.app_papers import ALL, author_choices, filtered, select_papers

    services = CountingServices()
    before = author_choices(services)  # the shipped list's, from data/seed_authors.json
    assert "26 AI papers" in header_html(services) and "Tri Dao" in before
    bib = tmp_path / "two.bib"
    bib.write_text(TWO_ENTRIES, encoding="utf-8")
    add_uploaded(services, str(bib), _no_progress)
    assert "27 AI papers" in header_html(services)
    choices = author_choices(services)
    # Tri Dao: FlashAttention and FlashAttention-2 from the file, Medusa from the seed list
    assert "Tri Dao" in choices[:4] and "Christopher Ré" in choices
    assert len(choices) == len(before) + 4  # Daniel Y. Fu, Stefano Ermon, Atri Rudra, Ré
    for spelling in ("Tri Dao", "T. Dao", "Dao, Tri"):
        found = select_papers(services, ALL, ALL, ALL, "", author=spelling)
        assert [p.id for p in found] == ["flashattention", "flashattention-2", "medusa"]
    only_re = select_papers(services, ALL, ALL, ALL, "", author="Chris Re")
    assert [p.id for p in only_re] == ["flashattention"]
    table, counts = filtered(services, ALL, ALL, ALL, "", False, "Tri Dao")
    assert table.count('class="kg-paper-row"') == 3 and "<b>3 papers</b>" in counts
    assert "Tri Dao, Daniel Y. Fu, Stefano Ermon et al." in table

    card = card_html(services, "flashattention")
    tri = next(n for n, _ in author_counts(services.kg()) if n.label == "Tri Dao")
    assert f'data-open="{tri.id}">Tri Dao</a>' in card and card.index("Tri Dao") < card.index(
        "Christopher Ré"
    )  # the paper's order
    assert "<span>Venue</span> Advances in Neural Information Processing Systems" in card
    assert "Influence" not in card and "· ·" not in card  # a BibTeX entry has neither
    author = card_html(services, tri.id)
    assert "3 paper(s) in the corpus." in author
    assert 'data-open="paper:flashattention-2"' in author and "Wrote with" in author
    assert "Christopher Ré</a> <span class='kg-muted'>(1)</span>" in author


def test_an_upload_is_recorded_under_its_own_name_not_the_deleted_temp_copy(
    data_dir: Path, uploads: Path
) -> None:
    """Gradio hands the app a temporary copy (deleted once read): the library, the card and the
    exports name the user's file, `two_entries.bib`, never that copy's path."""
    import json

    from kg.export import credited_papers, export_bibtex

    copy = uploads / "9c0ffee" / "two_entries.bib"
    copy.parent.mkdir(parents=True)
    copy.write_text(TWO_ENTRIES, encoding="utf-8")
    services = CountingServices()
    add_uploaded(services, str(copy), _no_progress)
    assert not copy.exists()
    lines = (data_dir / "library.jsonl").read_text(encoding="utf-8").splitlines()[1:]
    papers = [json.loads(line)["paper"] for line in lines]
    assert {p["source"] for p in papers if "source" in p} == {"two_entries.bib"}
    assert all(where.startswith("two_entries.bib:") for p in papers for _, where in p["provenance"])
    assert str(uploads) not in "\n".join(lines)
    bib = export_bibtex(credited_papers(services.kg()), data_dir / "out.bib").read_text("utf-8")
    assert str(uploads) not in bib


# --- PDFs -------------------------------------------------------------------------------------


def test_an_uploaded_pdf_is_kept_so_its_card_shows_the_cited_page_marked(
    data_dir: Path, uploads: Path
) -> None:
    """Gradio's copy of the upload is deleted once read, but the paper's PDF must outlive it:
    the card renders the cited page from it (and a lost text cache is read again from it)."""
    from tests.fixtures.pdf import HERE

    copy = uploads / "5e1f" / "quillwort.pdf"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((HERE / "quillwort.pdf").read_bytes())
    services = CountingServices()
    message = add_uploaded(services, str(copy), _no_progress)
    assert "Added 1 paper(s)" in message and "quillwort.pdf (pdf, 1 entries)" in message
    assert not copy.exists()
    [paper] = [p for p in services.corpus().papers if p.pdf_sha256]
    kept = Path(paper.pdf_path)
    assert (
        kept.parent == data_dir / "pdfs"
        and kept.read_bytes() == (HERE / "quillwort.pdf").read_bytes()
    )
    assert paper.source == "quillwort.pdf"

    from ui.app_cards import card_html

    card = card_html(services, f"paper:{paper.id}", page=2, passage="Replacing the learned router")
    assert '<figure class="kg-page"><figcaption>p. 2</figcaption>' in card
    assert 'src="data:image/png;base64,' in card
    assert card_html(services, f"paper:{paper.id}").count("kg-page") == 0  # no page cited
    kept.unlink()  # the PDF moved away: the card still opens, and says why there is no page
    gone = card_html(services, f"paper:{paper.id}", page=2, passage="Replacing")
    assert "Page 2 cannot be shown" in gone and paper.title.split(":")[0] in gone


def test_a_refused_pdf_upload_keeps_no_copy_and_adds_nothing(data_dir: Path, uploads: Path) -> None:
    from tests.fixtures.pdf import HERE

    copy = uploads / "77aa" / "encrypted.pdf"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((HERE / "encrypted.pdf").read_bytes())
    services = CountingServices()
    message = add_uploaded(services, str(copy), _no_progress)
    assert "encrypted.pdf" in message and "password" in message
    assert not copy.exists()
    assert not (data_dir / "library.jsonl").exists()
    assert not list((data_dir / "pdfs").glob("*"))  # the copy made for it is gone again
    assert services.index_updates == 0

"""The library readers: every field of BibTeX (five exporters' styles), arXiv Atom, CSV and
JSONL; format detection by content; malformed files as one error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import SHIPPED_CORPUS, Paper, load_corpus
from kg.errors import ReaderError
from kg.readers import detect_format, parse_mapping, read_source
from kg.readers.common import parse_date, parse_month

LIBRARY = Path(__file__).parent / "fixtures" / "library"


def _by_id(name: str, **kwargs: object) -> dict[str, Paper]:
    return {p.id: p for p in read_source(LIBRARY / name, **kwargs).papers}  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bib() -> dict[str, Paper]:
    return _by_id("library.bib")


def test_bibtex_reads_twelve_entries_in_file_order(bib: dict[str, Paper]) -> None:
    assert len(bib) == 12
    assert next(iter(bib)) == "flashattention"


def test_zotero_entry_every_field(bib: dict[str, Paper]) -> None:
    p = bib["flashattention"]
    assert p.title == "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"
    assert p.authors == ("Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré")
    assert p.date == "2022-06"  # month = jun (an unbraced macro)
    assert p.doi == "10.48550/arXiv.2205.14135"
    assert p.url == "http://arxiv.org/abs/2205.14135"
    assert p.arxiv_id == "2205.14135"  # from the arxiv.org url
    assert p.keywords == ("Computer Science - Machine Learning", "attention")
    assert p.abstract.startswith("Transformers are slow") and "IO-aware exact" in p.abstract
    extra = dict(p.extra)
    assert extra["@type"] == "article" and extra["@key"] == "dao_flashattention_2022"
    assert extra["publisher"] == "arXiv" and extra["shorttitle"] == "FlashAttention"
    assert dict(p.provenance)["authors"] == "library.bib:5 @dao_flashattention_2022"
    assert p.line == 5


def test_scholar_arxiv_id_from_the_journal(bib: dict[str, Paper]) -> None:
    p = bib["mamba"]
    assert p.arxiv_id == "2312.00752" and p.venue == "arXiv preprint arXiv:2312.00752"
    assert p.date == "2023"  # no month: the year only, never an invented month
    assert p.authors == ("Albert Gu", "Tri Dao")


def test_dblp_eprinttype_doi_and_kept_fields(bib: dict[str, Paper]) -> None:
    p = bib["mistral-7b"]
    assert p.arxiv_id == "2310.06825" and p.doi == "10.48550/ARXIV.2310.06825"
    assert p.authors[8] == "Timothée Lacroix" and p.authors[5] == "Diego de Las Casas"
    assert p.venue == "CoRR" and dict(p.extra)["volume"] == "abs/2310.06825"
    assert "timestamp" in dict(p.extra) and "biburl" in dict(p.extra)
    lora = bib["lora"]
    assert lora.venue.startswith(
        "The Tenth International Conference on Learning Representations, ICLR 2022"
    )
    assert "Zeyuan Allen-Zhu" in lora.authors
    assert dict(lora.extra)["@venue"] == "booktitle"


def test_arxiv_export_eprint_without_version_and_primary_class(bib: dict[str, Paper]) -> None:
    assert bib["llama-2"].arxiv_id == "2307.09288"
    assert dict(bib["llama-2"].extra)["primaryclass"] == "cs.CL"
    hippos = bib["hungry-hungry-hippos"]
    assert hippos.arxiv_id == "2212.14052"  # 2212.14052v3
    assert hippos.authors[1] == "T. Dao" and hippos.authors[-1] == "Christopher Ré"


def test_hand_written_latex_accents_strings_and_months(bib: dict[str, Paper]) -> None:
    attention = bib["attention-is-all-you-need"]
    assert "Łukasz Kaiser" in attention.authors
    assert attention.venue == "Advances in Neural Information Processing Systems"  # @string
    assert attention.date == "2017-12"  # month = "December"
    assert dict(attention.extra)["pages"] == "5998–6008"
    lstm = bib["long-short-term-memory"]
    assert lstm.authors == ("Sepp Hochreiter", "Jürgen Schmidhuber")
    assert lstm.date == "1997-11" and lstm.doi == "10.1162/neco.1997.9.8.1735"
    measure = bib["on-the-measure-of-intelligence"]
    assert measure.authors == ("François Chollet", "José Mañana", "Eduard Čech")
    assert measure.keywords == ("intelligence", "benchmarks", "ARC")
    assert "intelligence & a benchmark" in measure.abstract
    assert bib["deep-residual-learning-for-image-recognition"].title == (
        "Deep Residual Learning for Image Recognition"
    )


def test_biblatex_date_field(bib: dict[str, Paper]) -> None:
    brown = bib["language-models-are-few-shot-learners"]
    assert brown.date == "2020-05" and brown.arxiv_id == "2005.14165"
    assert dict(brown.extra)["@type"] == "online"


@pytest.mark.parametrize(
    ("value", "month"),
    [("jun", 6), ("June", 6), ("Jun.", 6), ("6", 6), ("06", 6), ("{6}", 6), ("jun~15", 6),
     ("6月", 6), ("sept", 9), ("13", None), ("spring", None)],
)  # fmt: skip
def test_month_in_any_form(value: str, month: int | None) -> None:
    assert parse_month(value) == month


def test_dates_in_any_form() -> None:
    assert parse_date("2023-06-12T17:59:59Z") == "2023-06"
    assert parse_date("2023年6月") == "2023-06"
    assert parse_date("June 2023") == "2023-06"
    assert parse_date("2023", "dec") == "2023-12"
    assert parse_date("2023") == "2023"
    assert parse_date("next year") is None


def test_arxiv_atom_feed_every_field() -> None:
    feed = _by_id("arxiv_feed.xml")
    assert list(feed) == ["mamba", "flashattention-2", "flashattention", "lora",
                          "mixtral-of-experts"]  # fmt: skip
    mamba = feed["mamba"]
    assert mamba.arxiv_id == "2312.00752" and mamba.date == "2023-12"
    assert mamba.authors == ("Albert Gu", "Tri Dao")
    assert (
        mamba.abstract.startswith("Foundation models are mostly built")
        and "\n" not in mamba.abstract
    )
    assert mamba.url == "http://arxiv.org/abs/2312.00752v2"
    assert dict(mamba.extra)["primaryclass"] == "cs.LG"
    assert feed["flashattention-2"].title.endswith("Parallelism and Work Partitioning")
    assert feed["flashattention"].doi == "10.48550/arXiv.2205.14135"
    assert feed["lora"].date == "2021-06" and dict(feed["lora"].extra)["comment"].startswith(
        "Draft"
    )
    assert feed["mixtral-of-experts"].venue == "Preprint"
    assert feed["mamba"].line == 10


def test_arxiv_feed_with_a_dtd_is_refused(tmp_path: Path) -> None:
    feed = tmp_path / "evil.xml"
    feed.write_text('<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                    '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&x;</title></entry></feed>')  # fmt: skip
    with pytest.raises(ReaderError, match=r"evil.xml:2: declares a DTD"):
        read_source(feed)


def test_csv_with_a_column_mapping() -> None:
    rows = _by_id("papers.csv", options=parse_mapping("date=Year,keywords=Tags"))
    dpo = rows["direct-preference-optimization"]
    assert dpo.authors == ("Rafael Rafailov", "Archit Sharma", "Eric Mitchell")
    assert dpo.date == "2023-05" and dpo.venue == "NeurIPS" and dpo.category == "alignment"
    assert rows["qlora"].date == "2023-05" and rows["qlora"].keywords == (
        "quantization",
        "fine-tuning",
    )
    assert rows["attention-is-all-you-need"].date == "2017" and rows["qlora"].line == 3


def test_a_csv_whose_title_column_only_the_map_names_is_read_as_csv(tmp_path: Path) -> None:
    table = tmp_path / "mine.csv"
    table.write_text("Titel,Jahr\nEine Studie,2024\n", encoding="utf-8")
    with pytest.raises(ReaderError, match="cannot tell its format"):
        read_source(table)  # nothing in the header says it is a paper table
    result = read_source(table, options=parse_mapping("title=Titel,date=Jahr"))
    assert result.format == "csv" and [p.title for p in result.papers] == ["Eine Studie"]


def test_jsonl_lists_synonyms_and_arxiv_links() -> None:
    rows = _by_id("papers.jsonl")
    tool = rows["toolformer"]
    assert tool.authors[2] == "Roberto Dessì" and tool.organizations == ("Meta",)
    assert tool.category == "agent" and tool.arxiv_id == "2302.04761"
    assert rows["mamba"].date == "2023" and rows["mamba"].arxiv_id == "2312.00752"


def test_the_seed_reader_is_the_corpus_parser() -> None:
    assert read_source(SHIPPED_CORPUS).papers == load_corpus(SHIPPED_CORPUS).papers


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("library.bib", "bibtex"), ("arxiv_feed.xml", "arxiv"), ("papers.csv", "csv"),
     ("papers.jsonl", "jsonl")],
)  # fmt: skip
def test_auto_detects_by_content_not_extension(tmp_path: Path, name: str, fmt: str) -> None:
    renamed = tmp_path / "export.txt"  # a misleading extension
    renamed.write_bytes((LIBRARY / name).read_bytes())
    assert detect_format(renamed, renamed.read_text(encoding="utf-8")) == fmt
    assert detect_format(SHIPPED_CORPUS, SHIPPED_CORPUS.read_text(encoding="utf-8")) == "seed"


@pytest.mark.parametrize(
    ("name", "text", "where", "what"),
    [
        ("bad.bib", "@article{ok, title={A}, year=2020}\n\n@article{broken,\n  title = {B,\n"
         "  year = 2021\n}\n@misc{c, title={C}, year=2022}\n", "bad.bib:3", "malformed BibTeX"),
        ("nodate.bib", "@article{ok, title={A}, year=2020}\n@article{undated,\n title={B}\n}\n",
         "nodate.bib:2", "entry 'undated': has no usable date"),
        ("month.bib", "@article{m, title={A}, year=2020, month={Smarch}}\n", "month.bib:1",
         "entry 'm': year/date '2020' with month 'Smarch'"),
        ("dup.bib", "@article{k, title={A}, year=2020}\n@article{k, title={B}, year=2021}\n",
         "dup.bib:2", "the key 'k' is used by an earlier entry"),
        ("bad.jsonl", '{"title": "A", "year": 2020}\n{"title": "B", "year": 2021\n', "bad.jsonl:2",
         "is not JSON"),
        ("bad.csv", "title,year\nA,2020\nB,2021,extra\n", "bad.csv:3", "has 3 cells"),
        ("bad.xml", '<feed xmlns="http://www.w3.org/2005/Atom">\n<entry><title>A</entry>\n</feed>',
         "bad.xml:2", "malformed XML"),
    ],
)  # fmt: skip
def test_malformed_inputs_name_file_and_line(
    tmp_path: Path, name: str, text: str, where: str, what: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        read_source(path)
    assert f"{tmp_path / where}: " in str(caught.value) and what in str(caught.value)


def test_a_bad_map_is_an_error() -> None:
    with pytest.raises(ReaderError, match="FIELD=COLUMN"):
        parse_mapping("titel=Title")
    with pytest.raises(ReaderError, match="no column 'Jahr'"):
        read_source(LIBRARY / "papers.csv", options=parse_mapping("date=Jahr"))

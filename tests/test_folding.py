"""Names typed in ASCII find the names they spell: one folding (`kg.tables.fold`: case, width,
accents, and the letters decomposition keeps whole, `data/letter_folds.json`) under every name
key, so `Lukasz` = `Łukasz`, `Re` = `Ré`, `Soren` = `Søren` for authors, works, organisations
and titles alike."""

from __future__ import annotations

import doctest
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import kg.tables
from kg.authors import AuthorTable, name_key
from kg.corpus import Corpus, Paper
from kg.graph import build_graph
from kg.names import compact, find_mentions, resolve
from kg.queries import papers_by, resolve_author
from kg.readers.common import title_key
from kg.tables import DATA_DIR, fold, load_org_table

LETTERS = json.loads((DATA_DIR / "letter_folds.json").read_text(encoding="utf-8"))["letters"]


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(kg.tables).failed == 0


@pytest.mark.parametrize(
    ("typed", "written"),
    [("Lukasz Kaiser", "Łukasz Kaiser"), ("Christopher Re", "Christopher Ré"),
     ("Soren Kierkegaard", "Søren Kierkegaard"), ("Strasse", "Straße"), ("Dorde", "Đorđe"),
     ("Aesop", "Æsop"), ("Oedipus", "Œdipus"), ("Thor", "Þór"), ("Istanbul", "İstanbul"),
     ("Isik", "Işık"), ("Gudrun", "Guðrún"), ("Jose", "José"), ("Zurich", "Zürich")],
)  # fmt: skip
def test_every_name_key_folds_the_same_way(typed: str, written: str) -> None:
    assert fold(typed) == fold(written)
    assert compact(typed) == compact(written)
    assert name_key(typed) == name_key(written)
    assert title_key(typed) == title_key(written)


def test_every_letter_of_the_table_folds_as_the_table_says() -> None:
    for letter, spelled in LETTERS.items():
        assert fold(letter) == spelled and fold(letter.upper()) == spelled


def test_folding_keeps_chinese_korean_and_japanese_text() -> None:
    assert fold("谷歌 DeepMind") == "谷歌 deepmind"
    assert fold("한국어") == "한국어"  # NFKD splits Hangul; the folding puts it back together
    assert compact("ＧＰＴ－４") == "gpt4"


def test_the_alias_tables_fold_too() -> None:
    table = load_org_table()
    assert table.canonical("ETH Zürich") == "ETH Zurich"  # the table spells it in ASCII
    assert table.canonical(" 谷歌 ") == "Google"


def paper(title: str, *authors: str, orgs: tuple[str, ...] = ("Meta",)) -> Paper:
    return Paper(title.casefold().replace(" ", "-"), title, "2023-01", orgs, "", "", "", "", "",
                 1, authors=authors)  # fmt: skip


@pytest.fixture(scope="module")
def folded_kg() -> object:
    corpus = Corpus(Path("library.jsonl"), "", (
        paper("Attention Is All You Need", "Ashish Vaswani", "Łukasz Kaiser"),
        paper("Søren's Study", "Søren Hauberg", orgs=("ETH Zürich",)),
        paper("Réseaux", "Christopher Ré"),
    ))  # fmt: skip
    return build_graph(corpus)


@pytest.mark.parametrize(
    ("typed", "label"),
    [("Lukasz Kaiser", "Łukasz Kaiser"), ("Kaiser, Lukasz", "Łukasz Kaiser"),
     ("L. Kaiser", "Łukasz Kaiser"), ("Soren Hauberg", "Søren Hauberg"),
     ("Christopher Re", "Christopher Ré")],
)  # fmt: skip
def test_authors_typed_in_ascii_resolve(folded_kg: object, typed: str, label: str) -> None:
    assert resolve_author(folded_kg, typed).label == label  # type: ignore[arg-type]


def test_works_and_organisations_typed_in_ascii_resolve(folded_kg: object) -> None:
    assert resolve(folded_kg, "Soren's Study").id == "paper:søren's-study"  # type: ignore[arg-type]
    assert resolve(folded_kg, "Reseaux").label == "Réseaux"  # type: ignore[arg-type]
    assert resolve(folded_kg, "ETH Zurich").id == "org:ETH Zürich"  # type: ignore[arg-type]
    assert [p.id for p in papers_by(folded_kg, org="eth zurich")] == ["søren's-study"]  # type: ignore[arg-type]


def test_a_question_typed_in_ascii_mentions_the_author(folded_kg: object) -> None:
    found = find_mentions(folded_kg, "Which papers did Lukasz Kaiser write?", kinds=("author",))  # type: ignore[arg-type]
    assert [(m.node.label, m.text) for m in found] == [("Łukasz Kaiser", "Lukasz Kaiser")]
    found = find_mentions(folded_kg, "Łukasz Kaiser 写了什么", kinds=("author",))  # type: ignore[arg-type]
    assert [m.text for m in found] == ["Łukasz Kaiser"]  # spans point into the text as written


def test_spellings_join_into_one_author() -> None:
    table = AuthorTable.build(["Łukasz Kaiser", "Lukasz Kaiser", "Kaiser, L."])
    assert {table.canonical(n) for n in ("Lukasz Kaiser", "Kaiser, L.")} == {"Łukasz Kaiser"}


def test_kgrag_papers_by_an_author_typed_in_ascii(
    run_kgrag: Callable[..., object], tmp_path: Path
) -> None:
    """The issue: with Łukasz Kaiser in the library, `--author "Lukasz Kaiser"` was an error
    suggesting Łukasz Kaiser."""
    sheet = tmp_path / "attention.jsonl"
    sheet.write_text(json.dumps({"title": "Attention Is All You Need", "date": "2017-06",
                                 "authors": ["Ashish Vaswani", "Łukasz Kaiser"]}) + "\n",
                     encoding="utf-8")  # fmt: skip
    env = {"KGRAG_DATA_DIR": str(tmp_path / "data")}
    assert run_kgrag("add", str(sheet), **env).returncode == 0  # type: ignore[attr-defined]
    result = run_kgrag("papers", "--author", "Lukasz Kaiser", "--json", **env)
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert [p["id"] for p in json.loads(result.stdout)] == ["attention-is-all-you-need"]  # type: ignore[attr-defined]

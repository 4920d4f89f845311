"""`kgrag edit` (`kg.library.edit_paper`): a paper's organisation, category and date set in the
library with the provenance "edited"; the shipped list never changes; a bad id, category or
date is a typed error and nothing is written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.corpus import SHIPPED_CORPUS, default_corpus_path, load_corpus
from kg.errors import InvalidFieldError, KgragError, UnknownNameError
from kg.graph import build_graph
from kg.library import EDITED, PaperEdit, add_files, edit_paper, load_library
from kg.queries import papers_by

LIBRARY = Path(__file__).parent / "fixtures" / "library"
SHIPPED_SHA = hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


def served() -> object:
    return build_graph(load_corpus(default_corpus_path()))


def test_an_edit_of_a_list_paper_wins_over_the_list_which_stays_as_shipped(
    data_dir: Path,
) -> None:
    report = edit_paper("kosmos-2", PaperEdit(organizations="微软", date="2023-07",
                                              category="multimodal"))  # fmt: skip
    assert [(c.field, c.old, c.new) for c in report.changes] == [
        ("organizations", ("Salesforce",), ("Microsoft",)),
        ("date", "2023-06", "2023-07"),
    ]  # the category was multimodal already
    record = next(p for p in load_library().papers if p.id == "kosmos-2")
    assert dict(record.provenance) == {"organizations": EDITED, "date": EDITED}
    assert record.organizations == ("Microsoft",) and not record.abstract  # only what was set
    paper = load_corpus(default_corpus_path()).by_id()["kosmos-2"]
    assert (paper.organizations, paper.date) == (("Microsoft",), "2023-07")
    assert paper.abstract  # the rest is the list's
    assert "kosmos-2" in [p.id for p in papers_by(served(), org="Microsoft")]  # type: ignore[arg-type]
    assert hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest() == SHIPPED_SHA


def test_imported_papers_get_the_organisation_and_category_they_lacked(data_dir: Path) -> None:
    """A BibTeX entry has neither: the fields were blank with no way to fill them."""
    add_files([LIBRARY / "library.bib"])
    report = edit_paper("mamba", PaperEdit(organizations="CMU, Princeton", category="基座"))
    assert {c.field for c in report.changes} == {"organizations", "category"}
    paper = load_corpus(default_corpus_path()).by_id()["mamba"]
    assert paper.organizations == ("Carnegie Mellon University", "Princeton University")
    assert (paper.category, paper.category_label) == ("foundation", "基座")
    assert "mamba" in [p.id for p in papers_by(served(), category="foundation")]  # type: ignore[arg-type]


def test_a_later_add_does_not_overwrite_an_edit(data_dir: Path) -> None:
    edit_paper("llama-2", PaperEdit(date="2023-08"))
    report = add_files([LIBRARY / "papers.jsonl"])  # offers 2023-06 for Llama 2
    llama2 = next(o for o in report.of("merged") if o.id == "llama-2")
    assert ("date", "2023-08", "2023-06") in [
        (c.field, c.kept, c.offered) for c in llama2.conflicts
    ]
    assert report.corpus.by_id()["llama-2"].date == "2023-08"


@pytest.mark.parametrize(
    ("paper_id", "edit", "error", "says"),
    [("kosmos", PaperEdit(date="2023-07"), UnknownNameError, "kosmos-2"),
     ("kosmos-2", PaperEdit(category="vision"), InvalidFieldError, "多模态 (multimodal)"),
     ("kosmos-2", PaperEdit(date="2023-13"), InvalidFieldError, "YYYY-MM"),
     ("kosmos-2", PaperEdit(date="June 2023"), InvalidFieldError, "YYYY-MM"),
     ("kosmos-2", PaperEdit(organizations=" , "), InvalidFieldError, "organisation"),
     ("kosmos-2", PaperEdit(), KgragError, "nothing to edit")],
)  # fmt: skip
def test_a_bad_id_category_or_date_writes_nothing(
    data_dir: Path, paper_id: str, edit: PaperEdit, error: type, says: str
) -> None:
    edit_paper("llama", PaperEdit(date="2023-03"))  # a library that exists already
    before = (data_dir / "library.jsonl").read_bytes()
    with pytest.raises(error, match=says.replace("(", r"\(").replace(")", r"\)")):
        edit_paper(paper_id, edit)
    assert (data_dir / "library.jsonl").read_bytes() == before


def test_the_same_values_write_nothing(data_dir: Path) -> None:
    report = edit_paper("kosmos-2", PaperEdit(organizations="Salesforce", date="2023-06"))
    assert report.changes == () and not (data_dir / "library.jsonl").exists()


def test_kgrag_edit_json_is_the_documented_shape(
    run_kgrag: Callable[..., object], tmp_path: Path
) -> None:
    from tests.test_readme import _documented_shapes, _keys

    env = {"KGRAG_DATA_DIR": str(tmp_path / "data")}
    result = run_kgrag("edit", "kosmos-2", "--org", "Microsoft", "--json", **env)
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    printed = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert printed == {"id": "kosmos-2", "title": load_corpus(SHIPPED_CORPUS).by_id()["kosmos-2"].title,
                       "changed": {"organizations": {"old": ["Salesforce"], "new": ["Microsoft"]}},
                       "library": str(tmp_path / "data" / "library.jsonl")}  # fmt: skip
    assert _keys(_documented_shapes()["edit"]) == _keys(printed)
    papers = run_kgrag("papers", "--org", "微软", "--json", **env)
    assert "kosmos-2" in [p["id"] for p in json.loads(papers.stdout)]  # type: ignore[attr-defined]


def test_kgrag_edit_errors_are_one_line_and_change_nothing(
    run_kgrag: Callable[..., object], tmp_path: Path
) -> None:
    env = {"KGRAG_DATA_DIR": str(tmp_path / "data")}
    for args, says in ((("kosmos-2", "--date", "2023-6"), "date '2023-6' is not YYYY-MM"),
                       (("kosmos-2", "--category", "vision"), "category 'vision' is not"),
                       (("no-such-paper", "--date", "2023-06"), "unknown name 'no-such-paper'")):  # fmt: skip
        result = run_kgrag("edit", *args, **env)
        assert result.returncode == 2  # type: ignore[attr-defined]
        lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
        assert len(lines) == 1 and lines[0].startswith("kgrag: error: ") and says in lines[0]
    assert not (tmp_path / "data" / "library.jsonl").exists()

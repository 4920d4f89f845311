"""`kg.check`: errors that make a list unusable, warnings a curator should look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.check import check, check_path
from kg.corpus import SHIPPED_CORPUS, Corpus
from kg.graph import KnowledgeGraph
from kg.library import add_files
from tests.fixtures.kg import paper_entry


def codes(report, severity: str) -> set[str]:
    return {p.code for p in report.problems if p.severity == severity}


def test_the_shipped_list_has_no_errors_and_its_oddities_are_warned(
    corpus: Corpus, kg: KnowledgeGraph
) -> None:
    report = check(corpus, kg)
    assert report.ok
    warned = {(p.code, p.line) for p in report.warnings}
    assert ("no-abstract", 206) in warned  # Lookahead Decoding
    assert ("abstract-unnamed", 148) in warned  # Gorilla's abstract is another paper's
    assert ("successor-organization", 250) in warned  # Kosmos-2 credited to Salesforce
    assert ("work-organization", 254) in warned  # ... while data/works.json says Microsoft
    assert ("date-outside-year", 86) in warned and ("date-outside-year", 224) in warned
    assert ("misspelling", 266) in warned  # "Genimi"
    assert ("ignored-line", 280) in warned


def test_a_child_dated_before_its_parent_is_an_error(write_corpus) -> None:
    path = write_corpus(
        paper_entry("Widget: The First Version", date="2023.06"),
        paper_entry("Widget-2: An Earlier Successor", date="2023.02"),
    )
    report = check_path(path)
    assert not report.ok
    [problem] = [p for p in report.errors if p.code == "lineage-date"]
    assert "Widget-2 (2023-02)" in problem.message and "Widget (2023-06)" in problem.message


def test_the_same_list_in_order_passes(write_corpus) -> None:
    path = write_corpus(
        paper_entry("Widget: The First Version", date="2023.02"),
        paper_entry(
            "Widget-2: A Later Successor", date="2023.06", abstract="Widget-2 基于 Widget。"
        ),
    )
    report = check_path(path)
    assert report.ok, report.errors


def test_duplicate_titles_and_unknown_organisations(write_corpus) -> None:
    path = write_corpus(
        paper_entry("Same Title", org="Acme Labs"),
        paper_entry("Same  title", org="Meta"),
    )
    report = check_path(path)
    assert "duplicate-title" in codes(report, "error")
    [unknown] = [p for p in report.warnings if p.code == "unknown-organization"]
    assert "Acme Labs" in unknown.message and unknown.line == 7


def test_a_parse_problem_is_reported_with_its_line(write_corpus) -> None:
    path = write_corpus(
        paper_entry("Good"), "Broken\n\n发布时间:soon\n\n发表单位:Meta\n\n影响力:x\n"
    )
    report = check_path(path)
    [problem] = report.errors
    assert (problem.code, problem.line) == ("parse", 15)  # the 发布时间 line of "Broken"
    assert path.read_text(encoding="utf-8").splitlines()[14] == "发布时间:soon"
    assert report.papers == 0


def test_unknown_works_in_curated_lineage_are_errors(
    corpus: Corpus, kg: KnowledgeGraph, tmp_path
) -> None:
    import json
    import shutil

    from kg.lexicon import load_lexicon
    from kg.tables import DATA_DIR

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("eval", "*.txt"))
    lineage = json.loads((data / "lineage.json").read_text(encoding="utf-8"))
    lineage["edges"].append(
        {"child": "Gemini", "parent": "NoSuchModel", "relation": "extends", "source": "x"}
    )
    (data / "lineage.json").write_text(json.dumps(lineage), encoding="utf-8")
    report = check(corpus, kg, load_lexicon(data))
    [problem] = [p for p in report.errors if p.code == "undefined-work"]
    assert "NoSuchModel" in problem.message


def test_check_path_of_the_shipped_list(corpus: Corpus) -> None:
    assert check_path(SHIPPED_CORPUS).papers == len(corpus.papers)


def test_problems_in_the_library_name_the_library_entry_and_the_file_it_came_from(
    tmp_path, monkeypatch, run_kgrag
) -> None:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    bib = Path(__file__).parent / "fixtures" / "library" / "library.bib"
    library = add_files([bib]).path
    report = check_path(library)
    assert report.source == str(library)
    [mamba] = [p for p in report.warnings if p.entry == "mamba"]  # Google Scholar: no abstract
    assert mamba.code == "no-abstract" and mamba.source == str(bib) and mamba.line == 22
    assert report.location(mamba) == f"{library}: entry 'mamba' (from library.bib:22)"
    # The list's own problems keep the list's file and line, not the library's.
    lookahead = next(p for p in report.warnings if p.code == "no-abstract" and p.line == 206)
    assert lookahead.entry is None and report.location(lookahead) == f"{SHIPPED_CORPUS}:206"
    ignored = next(p for p in report.warnings if p.code == "ignored-line" and p.line == 280)
    assert report.location(ignored) == f"{SHIPPED_CORPUS}:280"
    # The list's stated year (2023) is the list's: papers added from a .bib are not held to it.
    outside = {p.paper for p in report.warnings if p.code == "date-outside-year"}
    assert outside == {"mixtral-of-experts", "medusa"}
    assert not any(p.source is None and p.line for p in report.problems)  # every line placed

    shown = run_kgrag("check", KGRAG_DATA_DIR=str(tmp_path / "data"))
    assert f"{library}: entry 'mamba' (from library.bib:22): warning:" in shown.stdout
    assert f"{SHIPPED_CORPUS}:206: warning:" in shown.stdout
    as_json = run_kgrag("check", "--json", KGRAG_DATA_DIR=str(tmp_path / "data"))
    warning = next(w for w in json.loads(as_json.stdout)["warnings"] if w["entry"] == "mamba")
    assert warning == {"code": "no-abstract", "line": 22, "message": warning["message"],
                       "source": str(bib), "entry": "mamba"}  # fmt: skip


def test_a_plain_list_is_labelled_as_before(write_corpus) -> None:
    path = write_corpus(paper_entry("Widget: A Paper", abstract=""))
    report = check_path(path)
    [problem] = [p for p in report.warnings if p.code == "no-abstract"]
    assert problem.source is None and problem.entry is None
    assert report.location(problem) == f"{path}:{problem.line}"


def claims(report) -> list:
    return [p for p in report.warnings if p.code == "claim-contradicts-graph"]


def test_the_shipped_list_states_no_claim_the_graph_contradicts(
    corpus: Corpus, kg: KnowledgeGraph
) -> None:
    assert claims(check(corpus, kg)) == []


@pytest.mark.parametrize(
    "sentence, says",
    [
        ("Widget was trained by Google on public data.", "credits Widget to Google"),
        ("Google's Widget is open.", "credits Widget to Google"),
        ("Widget 由谷歌发布。", "credits Widget to Google"),
        ("谷歌发布的 Widget 很强。", "credits Widget to Google"),
        ("GPT-4 was developed by Anthropic.", "credits GPT-4 to Anthropic"),
        ("Widget was released in March 2021.", "dates Widget to March 2021"),
        ("Widget 发布于 2021 年 7 月。", "dates Widget to 2021 年 7 月"),
        ("2022年发布的 Widget 很强。", "dates Widget to 2022年"),
    ],
)
def test_a_sentence_crediting_another_paper_with_another_organisation_or_date_is_warned(
    write_corpus, sentence: str, says: str
) -> None:
    path = write_corpus(
        paper_entry("Widget: A Tool", date="2023.05", org="Meta", abstract="Widget 是一个工具。"),
        paper_entry("Gadget: Another Tool", org="Microsoft", abstract=f"Gadget 很好。{sentence}"),
    )
    [problem] = claims(check_path(path))
    assert says in problem.message and sentence.rstrip("。.") in problem.message
    assert "Gadget" in problem.message  # the paper whose abstract says it
    assert problem.paper == "gadget"
    assert path.read_text(encoding="utf-8").splitlines()[problem.line - 1].startswith("摘要:Gadget")
    assert any(actual in problem.message for actual in ("by Meta", "by OpenAI", "dates it 2023-05"))


@pytest.mark.parametrize(
    "sentence",
    [
        "Widget, developed by Meta, is compared here.",
        "Meta's Widget is open.",
        "Widget 由 Meta 开源。",
        "Widget 于 2023年5月 发布。",
        "Widget was released in 2023.",
        "我们的模型优于谷歌的 PaLM 和 Meta 的 Widget。",
        "Chinchilla was developed by Google.",  # Google DeepMind is part of Google
        "We distil from Widget and compare with Microsoft models.",
    ],
)
def test_a_sentence_the_graph_agrees_with_is_not_warned(write_corpus, sentence: str) -> None:
    path = write_corpus(
        paper_entry("Widget: A Tool", date="2023.05", org="Meta", abstract="Widget 是一个工具。"),
        paper_entry("Gadget: Another Tool", org="Microsoft", abstract=f"Gadget 很好。{sentence}"),
    )
    assert claims(check_path(path)) == []


def test_a_paper_credited_otherwise_than_works_json_is_warned_once(
    corpus: Corpus, kg: KnowledgeGraph
) -> None:
    """Kosmos-2 is Microsoft's in data/works.json and Salesforce's in the shipped list (which
    stays as shipped): the one contradiction of that kind in the list, named with the fix."""
    [problem] = [p for p in check(corpus, kg).warnings if p.code == "work-organization"]
    assert problem.paper == "kosmos-2" and problem.line == 254
    assert "Salesforce" in problem.message and "Microsoft" in problem.message
    assert "kgrag edit kosmos-2 --org" in problem.message


def test_a_lab_of_the_works_organisation_is_no_contradiction(write_corpus) -> None:
    """data/works.json gives PaLM to Google; Google DeepMind is part of Google
    (data/organizations.json), so a paper it signs agrees; Meta's Kosmos-2 does not."""
    agree = write_corpus(paper_entry("PaLM: Scaling Language Modeling", org="Google DeepMind"),
                         paper_entry("Kosmos-2: Grounding Models", org="微软"))  # fmt: skip
    assert "work-organization" not in codes(check_path(agree), "warning")
    differ = write_corpus(paper_entry("Kosmos-2: Grounding Models", org="Meta"), name="b.txt")
    [problem] = [p for p in check_path(differ).warnings if p.code == "work-organization"]
    assert "credited to Meta" in problem.message


def test_an_edited_organisation_settles_the_contradiction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kg.library import PaperEdit, edit_paper

    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    edit_paper("kosmos-2", PaperEdit(organizations="Microsoft"))
    report = check_path(tmp_path / "data" / "library.jsonl")
    assert "work-organization" not in codes(report, "warning")

"""The user's library: merging by arXiv id, DOI and title, known works becoming papers with
their lineage, authors in the graph, add → remove → add, interrupted adds, BibTeX round trip."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.corpus import SHIPPED_CORPUS, Corpus, default_corpus_path, load_corpus
from kg.errors import ReaderError, UnknownNameError
from kg.export import export, export_bibtex
from kg.graph import KnowledgeGraph, build_graph
from kg.library import add_files, load_library, remove_papers
from kg.queries import authors_of, coauthors, lineage, papers_by, resolve_author
from kg.readers import read_source
from kg.readers.bibtex import write_bibtex

LIBRARY = Path(__file__).parent / "fixtures" / "library"
BIB, FEED = LIBRARY / "library.bib", LIBRARY / "arxiv_feed.xml"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    return tmp_path / "data"


@pytest.fixture(scope="module")
def library_kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    """The graph after adding the BibTeX file and the arXiv feed to the shipped list."""
    path = tmp_path_factory.mktemp("lib") / "library.jsonl"
    add_files([BIB], library_path=path)
    return build_graph(add_files([FEED], library_path=path).corpus)


def _jsonl(tmp_path: Path, name: str, *rows: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_adding_bibtex_adds_new_papers_and_merges_known_ones(data_dir: Path) -> None:
    seed_sha = hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest()
    report = add_files([BIB])
    added = {o.id for o in report.of("added")}
    assert {"flashattention", "mamba", "mistral-7b", "lora", "attention-is-all-you-need"} <= added
    merged = {o.id: o for o in report.of("merged")}
    assert set(merged) == {"llama-2", "flashattention-2"}  # seed papers, matched by title
    assert merged["llama-2"].filled == ("arxiv_id", "authors") and not merged["llama-2"].conflicts
    assert len(report.corpus.papers) == 26 + 10
    assert default_corpus_path() == data_dir / "library.jsonl"
    corpus = load_corpus(default_corpus_path())
    llama2 = corpus.by_id()["llama-2"]
    assert llama2.arxiv_id == "2307.09288" and llama2.authors[0] == "Hugo Touvron"
    assert (
        llama2.organizations == ("Meta",) and llama2.line == load_corpus().by_id()["llama-2"].line
    )
    assert dict(llama2.provenance)["authors"] == "library.bib:81 @touvron2023llama"
    assert hashlib.sha256(SHIPPED_CORPUS.read_bytes()).hexdigest() == seed_sha


def test_merge_by_arxiv_id_refines_the_date_and_fills_the_abstract(data_dir: Path) -> None:
    add_files([BIB])
    report = add_files([FEED])
    merged = {o.id: o for o in report.of("merged")}
    assert "mamba" in merged and {"date", "abstract", "url"} <= set(merged["mamba"].filled)
    mamba = report.corpus.by_id()["mamba"]
    assert mamba.date == "2023-12" and mamba.abstract.startswith("Foundation models")
    assert [p.id for p in report.corpus.papers].count("mamba") == 1
    lora = merged["lora"]  # the DBLP entry had no arXiv id: matched by title, id filled
    assert "arxiv_id" in lora.filled
    # 2022 (ICLR) vs 2021-06 (arXiv), OpenReview vs arXiv link, 8 authors vs the feed's 2
    assert [c.field for c in lora.conflicts] == ["date", "url", "authors"]
    assert report.corpus.by_id()["lora"].date == "2022"  # kept, never overwritten
    assert len(report.corpus.by_id()["lora"].authors) == 8
    assert {o.id for o in report.of("merged")} >= {"flashattention", "flashattention-2"}


def test_merge_by_doi_across_different_titles(data_dir: Path, tmp_path: Path) -> None:
    first = _jsonl(tmp_path, "a.jsonl", {"title": "A Study of Things", "year": 2021,
                                         "doi": "10.1234/ABC.5"})  # fmt: skip
    second = _jsonl(tmp_path, "b.jsonl", {"title": "A study of things (extended)", "year": 2021,
                                          "doi": "https://doi.org/10.1234/abc.5",
                                          "authors": "Ada Lovelace; Charles Babbage"})  # fmt: skip
    add_files([first])
    report = add_files([second])
    assert [o.action for o in report.outcomes] == ["merged"]
    paper = report.corpus.by_id()["a-study-of-things"]
    assert paper.title == "A Study of Things" and paper.authors == (
        "Ada Lovelace",
        "Charles Babbage",
    )


def test_conflicts_are_reported_never_overwritten(data_dir: Path) -> None:
    report = add_files([LIBRARY / "papers.jsonl"])
    llama2 = next(o for o in report.of("merged") if o.id == "llama-2")
    assert llama2.filled == ("doi",)
    (conflict,) = llama2.conflicts
    assert (conflict.field, conflict.kept, conflict.offered) == ("date", "2023-07", "2023-06")
    assert conflict.source == "papers.jsonl:3"
    assert report.corpus.by_id()["llama-2"].date == "2023-07"


def test_the_same_file_twice_changes_nothing(data_dir: Path) -> None:
    add_files([BIB])
    before = (data_dir / "library.jsonl").read_bytes()
    again = add_files([BIB])
    assert {o.action for o in again.outcomes} == {"unchanged"}
    assert (data_dir / "library.jsonl").read_bytes() == before


def test_conflicting_identifiers_are_rejected(data_dir: Path, tmp_path: Path) -> None:
    add_files([BIB])
    odd = _jsonl(tmp_path, "odd.jsonl", {"title": "Mistral 7B", "year": 2023,
                                         "arxiv_id": "2312.00752"})  # fmt: skip
    report = add_files([odd])
    (rejected,) = report.of("rejected")
    assert "mamba" in rejected.reason and "mistral-7b" in rejected.reason


def test_a_known_work_becomes_the_paper_and_keeps_its_lineage(
    kg: KnowledgeGraph, library_kg: KnowledgeGraph
) -> None:
    assert "work:flashattention" in kg.graph and "work:mistral-7b" in kg.graph
    before = lineage(kg, "FlashAttention-2")
    assert [n.id for n in before.ancestors] == ["work:flashattention"]
    assert (
        "work:flashattention" not in library_kg.graph and "work:mistral-7b" not in library_kg.graph
    )
    after = lineage(library_kg, "FlashAttention-2")
    assert [n.id for n in after.ancestors] == ["paper:flashattention"]
    assert after.edges[0].relation == before.edges[0].relation
    assert library_kg.node("paper:flashattention").date == "2022-06"
    assert lineage(library_kg, "flash-attn").root.id == "paper:flashattention"  # the work's alias


def test_author_nodes_edges_and_queries(library_kg: KnowledgeGraph) -> None:
    dao = resolve_author(library_kg, "T. Dao")
    assert dao.id == "author:tri-dao" and dao.label == "Tri Dao"
    assert resolve_author(library_kg, "Dao, Tri") == dao
    ids = {p.id for p in papers_by(library_kg, author="Tri Dao")}
    # Medusa: a paper of the list, its authors from data/seed_authors.json (Tri Dao last)
    assert ids == {"flashattention", "flashattention-2", "mamba", "hungry-hungry-hippos", "medusa"}
    assert [n.label for n in authors_of(library_kg, "FlashAttention")][:2] == [
        "Tri Dao",
        "Daniel Y. Fu",
    ]
    partners = dict((n.label, c) for n, c in coauthors(library_kg, "Tri Dao"))
    assert (
        partners["Christopher Ré"] == 2
        and partners["Daniel Y. Fu"] == 2
        and "Albert Gu" in partners
    )
    assert resolve_author(library_kg, "Christopher Re").label == "Christopher Ré"  # accents
    edge = library_kg.graph.edges["author:tri-dao", "paper:mamba", "authored"]
    assert edge["position"] == 2 and edge["method"] == "field"


def test_authors_are_in_every_export(library_kg: KnowledgeGraph, tmp_path: Path) -> None:
    import networkx as nx

    graphml = export(library_kg, "graphml", tmp_path / "g.graphml")
    back = nx.read_graphml(graphml)
    assert back.nodes["author:tri-dao"]["kind"] == "author"
    assert any(d["kind"] == "authored" for _, _, d in back.edges(data=True))
    assert back.nodes["paper:mamba"]["authors"] == "Albert Gu; Tri Dao"
    for fmt in ("gexf", "json"):
        text = export(library_kg, fmt, tmp_path / f"g.{fmt}").read_text(encoding="utf-8")
        assert "author:tri-dao" in text and "authored" in text


def test_add_remove_add_again(data_dir: Path) -> None:
    add_files([BIB])
    removed = remove_papers(["mamba", "llama"])
    assert [p.id for p in removed.removed] == ["mamba", "llama"]
    corpus = load_corpus(default_corpus_path())
    assert "mamba" not in corpus.by_id() and "llama" not in corpus.by_id()
    assert [r.id for r in load_library().removed] == ["llama"]  # a seed paper: hidden, not deleted
    again = add_files([BIB])
    assert [o.id for o in again.of("added")] == ["mamba"]
    seed = LIBRARY.parent.parent.parent / "data" / "ai_papers_2023.txt"
    back = add_files([seed], fmt="seed")
    assert [o.id for o in back.of("added")] == ["llama"] and back.of("added")[0].reason
    assert len(load_corpus(default_corpus_path()).papers) == 36
    assert load_library().removed == ()


def test_removing_an_unknown_id_removes_nothing(data_dir: Path) -> None:
    add_files([BIB])
    before = (data_dir / "library.jsonl").read_bytes()
    with pytest.raises(UnknownNameError, match="mamb"):
        remove_papers(["mamba", "mamb4"])
    assert (data_dir / "library.jsonl").read_bytes() == before


def test_one_malformed_file_adds_nothing(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bib"
    bad.write_text("@article{x, title={X}, year=2020}\n@article{y,\n title={Y}\n}\n")
    with pytest.raises(ReaderError, match=r"bad.bib:2: entry 'y'"):
        add_files([BIB, bad])
    assert not (data_dir / "library.jsonl").exists()


def test_an_interrupted_add_leaves_the_library_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_files([BIB])
    before = (data_dir / "library.jsonl").read_bytes()

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        add_files([FEED])
    monkeypatch.undo()
    assert (data_dir / "library.jsonl").read_bytes() == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["library.jsonl", "library.jsonl.lock"]


def test_dry_run_writes_nothing(data_dir: Path) -> None:
    report = add_files([BIB], dry_run=True)
    assert len(report.of("added")) == 10 and not (data_dir / "library.jsonl").exists()


def test_bibtex_round_trip_keeps_every_field_it_read(tmp_path: Path) -> None:
    first = read_source(BIB).papers
    out = export_bibtex(first, tmp_path / "out.bib")
    second = read_source(out).papers
    fields = ("title", "authors", "date", "venue", "abstract", "doi", "url", "keywords",
              "arxiv_id", "extra")  # fmt: skip
    for a, b in zip(first, second, strict=True):
        for name in fields:
            assert getattr(a, name) == getattr(b, name), (a.id, name)
    assert write_bibtex(second) == out.read_text(encoding="utf-8")  # stable


def test_library_store_is_versioned_json_lines(data_dir: Path) -> None:
    add_files([BIB])
    remove_papers(["llama"])
    lines = (data_dir / "library.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["format"] == "kgrag-library v1"
    kinds = [next(iter(json.loads(line))) for line in lines[1:]]
    assert kinds.count("paper") == 12 and kinds.count("removed") == 1


def test_cli_add_remove_authors_papers_and_export(
    run_kgrag: Callable[..., object], tmp_path: Path
) -> None:
    env = {"KGRAG_DATA_DIR": str(tmp_path / "data")}
    added = run_kgrag("add", str(BIB), str(FEED), "--json", **env)
    assert added.returncode == 0, added.stderr  # type: ignore[attr-defined]
    report = json.loads(added.stdout)  # type: ignore[attr-defined]
    assert set(report) == {"library", "dry_run", "files", "added", "merged", "unchanged",
                           "rejected", "notes", "papers"}  # fmt: skip
    assert report["files"][1] == {"path": str(FEED), "format": "arxiv", "entries": 5}
    assert report["papers"] == 36 and report["merged"][0]["filled"]
    papers = run_kgrag("papers", "--author", "Dao, Tri", "--json", **env)
    assert {p["id"] for p in json.loads(papers.stdout)} >= {"mamba", "flashattention"}  # type: ignore[attr-defined]
    authors = json.loads(run_kgrag("authors", "Tri Dao", "--json", **env).stdout)  # type: ignore[attr-defined]
    assert authors[0]["name"] == "Tri Dao" and len(authors[0]["papers"]) == 5  # Medusa too
    assert {"name": "Albert Gu", "papers": 1} in authors[0]["coauthors"]
    removed = json.loads(run_kgrag("remove", "mamba", "--json", **env).stdout)  # type: ignore[attr-defined]
    assert removed["removed"] == [{"id": "mamba", "title": "Mamba: Linear-time sequence modeling "
                                   "with selective state spaces"}] and removed["papers"] == 35  # fmt: skip
    bib = tmp_path / "out.bib"
    assert run_kgrag("export", "--format", "bibtex", "-o", str(bib), **env).returncode == 0  # type: ignore[attr-defined]
    assert "@article{dao_flashattention_2022," in bib.read_text(encoding="utf-8")


def test_cli_malformed_file_is_one_line_naming_the_line(
    run_kgrag: Callable[..., object], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("title,year\nA,2020\nB,someday\n", encoding="utf-8")
    result = run_kgrag("add", str(bad), KGRAG_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 2  # type: ignore[attr-defined]
    assert result.stderr.strip() == (  # type: ignore[attr-defined]
        f"kgrag: error: {bad}:3: entry 'B': date 'someday' is not a date (2023, 2023-06, June 2023)."
    )
    assert not (tmp_path / "data" / "library.jsonl").exists()


def test_seed_corpus_unchanged_by_library_fields(corpus: Corpus) -> None:
    assert all(p.authors == () and p.extra == () for p in corpus.papers)


def test_documented_add_and_authors_shapes_match(
    library_kg: KnowledgeGraph, data_dir: Path
) -> None:
    from tests.test_readme import _documented_shapes, _keys
    from ui.commands.library import add_json, author_json

    shapes = _documented_shapes()
    printed = add_json(add_files([LIBRARY / "papers.jsonl"], dry_run=True))
    printed["unchanged"] = shapes["add"]["unchanged"]
    printed["rejected"] = shapes["add"]["rejected"]
    printed["notes"] = shapes["add"]["notes"]  # the fixture has no control characters to note
    assert _keys(shapes["add"]) == _keys(printed)
    from kg.queries import author_summaries

    assert _keys(shapes["authors"]) == _keys([author_json(author_summaries(library_kg)[0])])


def test_the_index_embeds_only_the_added_papers_passages(data_dir: Path, tmp_path: Path) -> None:
    from bench.library import HashEmbedder
    from rag.indexing.index import open_index
    from rag.passages import paper_passages

    embedder, index_dir = HashEmbedder(), tmp_path / "index"
    seed = open_index(load_corpus(), embedder, index_dir, progress=False)
    report = add_files([BIB])
    new = [p for o in report.of("added") for p in paper_passages(report.corpus.by_id()[o.id])]
    merged = [p for o in report.of("merged") for p in paper_passages(report.corpus.by_id()[o.id])]
    updated = open_index(load_corpus(default_corpus_path()), embedder, index_dir, progress=False)
    assert updated.state.action == "updated"
    # new papers, plus the merged papers whose passage text changed (none here: authors and
    # identifiers are not in the passage text)
    assert updated.state.embedded == len(new)
    assert len(updated.passages) == len(seed.passages) + len(new) and merged
    removed = remove_papers([o.id for o in report.of("added")])
    after = open_index(removed.corpus, embedder, index_dir, progress=False)
    assert after.state.embedded == 0 and len(after.passages) == len(seed.passages)


@pytest.mark.parametrize(
    ("question", "intent", "expected"),
    [
        ("What else did the authors of Mamba write?", "author_papers",
         ["mamba", "flashattention", "hungry-hungry-hippos", "flashattention-2", "medusa"]),
        ("Mamba 的作者还写了什么？", "author_papers",
         ["mamba", "flashattention", "hungry-hungry-hippos", "flashattention-2", "medusa"]),
        ("谁和 Tri Dao 合作过？", "coauthors",
         ["flashattention", "hungry-hungry-hippos", "mamba", "medusa"]),
        ("Which papers did T. Dao write?", "author_papers",
         ["flashattention", "hungry-hungry-hippos", "flashattention-2", "mamba", "medusa"]),
        ("Who wrote FlashAttention?", "authors", ["flashattention"]),
    ],
)  # fmt: skip
def test_author_questions_are_answered_from_the_graph(
    library_kg: KnowledgeGraph, question: str, intent: str, expected: list[str]
) -> None:
    from rag.answering.graph_answer import answer_from_graph
    from rag.answering.route import route

    analysis = route(library_kg, question)
    assert (analysis.kind, analysis.intent) == ("graph", intent)
    answer = answer_from_graph(library_kg, analysis)
    assert answer is not None and [p.id for p in answer.papers] == expected
    assert "[P1]" in answer.text


def test_author_questions_about_the_seed_list_use_its_curated_authors(kg: KnowledgeGraph) -> None:
    """The shipped list names no authors; data/seed_authors.json does for 24 of its papers, so
    "who wrote Llama 2?" is answered from the graph. Gemini's are unknown: left to retrieval."""
    from rag.answering.graph_answer import answer_from_graph
    from rag.answering.route import route

    analysis = route(kg, "Who are the authors of Llama 2?")
    assert (analysis.kind, analysis.intent) == ("graph", "authors")
    answer = answer_from_graph(kg, analysis)
    assert answer is not None and "Hugo Touvron" in answer.text and "Thomas Scialom" in answer.text
    assert route(kg, "Who are the authors of Gemini?").intent != "authors"  # none known
    assert route(kg, "What is Code Llama based on?").intent == "ancestors"


def test_which_papers_did_t_dao_write_finds_flashattention_2(kg: KnowledgeGraph) -> None:
    from rag.answering.graph_answer import answer_from_graph
    from rag.answering.route import route

    analysis = route(kg, "Which papers did T. Dao write?")
    assert (analysis.kind, analysis.intent) == ("graph", "author_papers")
    answer = answer_from_graph(kg, analysis)
    assert answer is not None and [p.id for p in answer.papers] == ["flashattention-2", "medusa"]

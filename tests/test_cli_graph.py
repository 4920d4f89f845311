"""The graph commands run as a user runs them: subprocesses, JSON checked, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx

from kg.corpus import Corpus
from tests.fixtures.kg import REPO, paper_entry

PAPER_KEYS = ["id", "title", "date", "organizations", "category", "influence"]
HEAVY = ("torch", "llama_cpp", "faiss", "sentence_transformers", "gradio")


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kgrag: error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_papers_json_lists_every_paper_with_the_documented_shape(run_kgrag, corpus: Corpus) -> None:
    result = run_kgrag("papers", "--json")
    assert result.returncode == 0, result.stderr
    papers = json.loads(result.stdout)
    assert len(papers) == len(corpus.papers)
    assert all(list(p) == PAPER_KEYS for p in papers)
    gorilla = next(p for p in papers if p["id"] == "gorilla")
    assert gorilla["organizations"] == ["UC Berkeley", "Microsoft"]
    assert (gorilla["date"], gorilla["category"]) == ("2023-05", "agent")


def test_papers_filters_accept_aliases(run_kgrag) -> None:
    chinese = json.loads(run_kgrag("papers", "--org", "谷歌", "--json").stdout)
    english = json.loads(run_kgrag("papers", "--org", "Google", "--since", "2023-01", "--until",
                                   "2023-12", "--json").stdout)  # fmt: skip
    assert chinese == english
    assert [p["id"] for p in chinese][-1] == "gemini"


def test_lineage_json_has_root_ancestors_descendants_and_evidenced_edges(run_kgrag) -> None:
    result = run_kgrag("lineage", "Llama-2", "--json")
    assert result.returncode == 0, result.stderr
    family = json.loads(result.stdout)
    assert list(family) == ["root", "ancestors", "descendants", "edges"]
    assert family["root"]["id"] == "paper:llama-2"
    assert {"id", "kind", "date", "title", "name"} <= set(family["root"])
    assert [a["name"] for a in family["ancestors"]] == ["LLaMA"]
    assert [d["name"] for d in family["descendants"]] == ["Code Llama"]
    edge = next(e for e in family["edges"] if e["source"] == "paper:code-llama")
    assert {"source", "target", "relation", "evidence", "method"} <= set(edge)
    assert (edge["target"], edge["relation"], edge["method"]) == (
        "paper:llama-2",
        "extends",
        "rule",
    )
    assert "基于 Llama 2" in edge["evidence"]


def test_lineage_text_of_a_chinese_name(run_kgrag) -> None:
    result = run_kgrag("lineage", "美杜莎")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Medusa (paper, 2024-01)")


def test_unknown_and_ambiguous_names_are_one_line_errors(run_kgrag) -> None:
    assert_one_line_error(run_kgrag("lineage", "Kosmos"), "ambiguous", "Kosmos-1", "Kosmos-2")
    assert_one_line_error(run_kgrag("lineage", "Medusaa"), "unknown", "Medusa")
    assert_one_line_error(run_kgrag("papers", "--org", "Initech"), "unknown", "Initech")
    assert_one_line_error(run_kgrag("papers", "--month", "2023-13"), "not a month")


def test_check_passes_the_shipped_list_and_fails_a_bad_one(run_kgrag, write_corpus) -> None:
    shipped = run_kgrag("check", "--json")
    assert shipped.returncode == 0, shipped.stderr
    report = json.loads(shipped.stdout)
    assert report["ok"] and report["errors"] == []
    # source: the file the line is in (None: the checked file); entry: a library entry's id
    assert {"code", "line", "message", "source", "entry"} == set(report["warnings"][0])
    assert report["warnings"][0]["source"] is None and report["warnings"][0]["entry"] is None
    bad = write_corpus(paper_entry("Widget: One", date="2023.06"),
                       paper_entry("Widget-2: Two", date="2023.01"))  # fmt: skip
    failed = run_kgrag("check", "--corpus", str(bad))
    assert failed.returncode == 1
    assert "error:" in failed.stdout and "lineage-date" in failed.stdout


def test_a_malformed_corpus_is_a_one_line_error_naming_the_line(run_kgrag, write_corpus) -> None:
    bad = write_corpus(paper_entry("Good"), "Broken\n\n发表单位:Meta\n\n影响力:x\n")
    assert_one_line_error(run_kgrag("stats", "--corpus", str(bad)), f"{bad}:13", "发布时间")
    assert_one_line_error(run_kgrag("papers", "--json", KGRAG_CORPUS=str(bad)), f"{bad}:13")


def test_export_writes_a_graph_and_refuses_an_unwritable_path(run_kgrag, tmp_path: Path) -> None:
    target = tmp_path / "lineage.gexf"
    result = run_kgrag("export", "--format", "gexf", "--root", "FlashAttention", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert set(nx.read_gexf(target).nodes) == {"paper:flashattention-2", "work:flashattention"}
    missing = tmp_path / "no" / "kg.graphml"
    assert_one_line_error(
        run_kgrag("export", "--format", "graphml", "-o", str(missing)), "does not exist"
    )
    assert not missing.parent.exists()


def test_stats_json_counts_nodes_and_edges_by_kind(run_kgrag) -> None:
    stats = json.loads(run_kgrag("stats", "--json").stdout)
    assert stats["papers"] == 26 and stats["nodes"]["paper"] == 26
    assert stats["edges"]["builds_on"] == sum(stats["lineage_methods"].values())


def test_graph_commands_load_no_model_library(tmp_path: Path) -> None:
    code = (
        "import sys, io, contextlib; from ui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['papers', '--json'])\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("KGRAG_CORPUS", "KGRAG_DEBUG")}
    env.update(HF_HUB_OFFLINE="1", KGRAG_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env=env, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

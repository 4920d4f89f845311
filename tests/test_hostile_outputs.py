"""Hostile titles and authors (NUL, ANSI escapes, BEL, markup, quotes, commas, line breaks,
spreadsheet formulas, bidi overrides, C1 controls) through every output: each export is read back
by a parser, the Neo4j CSVs carry no formula a spreadsheet would run, and the terminal gets no
character it would obey.

The corpus is built from `Paper` records directly, not read from a file, so that cleaning at
input (the readers) cannot hide a fault at output.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import bibtexparser
import networkx as nx
import pytest

from kg.corpus import Corpus, Paper
from kg.export import export, export_bibtex
from kg.graph import KnowledgeGraph, build_graph
from kg.neo4j import MANIFEST
from tests.fixtures.kg import REPO

HOSTILE_TITLES = (
    "Null\x00Byte Model",
    "\x1b[31mRed\x1b[0m Attention",
    "Bell\x07Net Retrieval",
    "<script>alert(1)</script> Transformer",
    "Quote \"double\" and 'single' Network",
    "Commas, everywhere, Network",
    "Line\nbreak\rNetwork",
    '=HYPERLINK("http://evil.example","click")',
    "\u202eevil override Model",
    "-2+3 Minus Model",
    "@SUM(A1) At Model",
    "+Plus Model",
    "\tTab Model",
    "'Quoted Start Model",
    "\x85NEL and \x9b CSI Model",
    "\x1b]0;pwned\x07Title Setter",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a terminal obeys: C0 but tab and newline, DEL, C1, bidi embeddings/overrides/isolates.
TERMINAL_UNSAFE = {
    *map(chr, range(0x00, 0x09)),
    *map(chr, range(0x0B, 0x20)),
    *map(chr, range(0x7F, 0xA0)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


def hostile_papers() -> tuple[Paper, ...]:
    """One paper per hostile title, its first author hostile too, one with a negative line."""
    return tuple(
        Paper(
            id=f"hostile-{i}", title=title, date="2023-05", organizations=("Meta",),
            category="foundation", category_label="基座", influence=f"influence {title}",
            abstract=f"An abstract about {title}.", source="hostile.txt", line=i + 1 if i else -1,
            authors=(f"{title} Author", "=cmd|' /C calc'!A0"),
        )
        for i, title in enumerate(HOSTILE_TITLES)
    )  # fmt: skip


@pytest.fixture(scope="module")
def hostile_kg() -> KnowledgeGraph:
    return build_graph(Corpus(Path("hostile.txt"), "0" * 64, hostile_papers()))


def paper_titles(graph: nx.Graph) -> set[str]:
    return {d["title"] for _, d in graph.nodes(data=True) if d.get("kind") == "paper"}


# ---------------------------------------------------------------------- file exports


@pytest.mark.parametrize("fmt, read", [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_xml_exports_of_hostile_titles_parse_with_invalid_characters_replaced(
    hostile_kg: KnowledgeGraph, tmp_path: Path, fmt: str, read
) -> None:  # type: ignore[no-untyped-def]
    graph = read(export(hostile_kg, fmt, tmp_path / f"graph.{fmt}"))
    titles = paper_titles(graph)
    assert len(titles) == len(HOSTILE_TITLES)
    assert "Null\ufffdByte Model" in titles  # NUL: XML cannot hold it, even as &#0;
    assert "\ufffd[31mRed\ufffd[0m Attention" in titles
    for kept in ("<script>alert(1)</script> Transformer", "Quote \"double\" and 'single' Network",
                 '=HYPERLINK("http://evil.example","click")', "\u202eevil override Model"):  # fmt: skip
        assert kept in titles
    assert not any(c in title for title in titles for c in "\x00\x07\x1b")


def test_json_export_keeps_hostile_titles_exactly(
    hostile_kg: KnowledgeGraph, tmp_path: Path
) -> None:
    data = json.loads(export(hostile_kg, "json", tmp_path / "graph.json").read_text("utf-8"))
    titles = {n["title"] for n in data["nodes"] if n.get("kind") == "paper"}
    assert titles == set(HOSTILE_TITLES)


def test_bibtex_export_of_hostile_titles_parses_back(tmp_path: Path) -> None:
    papers = hostile_papers()
    library = bibtexparser.parse_string(export_bibtex(papers, tmp_path / "refs.bib").read_text())
    assert library.failed_blocks == []
    assert len(library.entries) == len(papers)
    titles = {e.fields_dict["title"].value for e in library.entries}
    for kept in ("<script>alert(1)</script> Transformer", "Commas, everywhere, Network",
                 '=HYPERLINK("http://evil.example","click")'):  # fmt: skip
        assert kept in titles


def read_csvs(folder: Path) -> list[tuple[str, list[str], list[list[str]]]]:
    """(file name, header, rows) of every CSV the manifest names, read with the csv module."""
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    out = []
    for name in [*manifest["nodes"], *manifest["relationships"]]:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        out.append((name, header, rows))
    return out


def is_text(column: str) -> bool:
    return column not in (":LABEL", ":TYPE") and not column.endswith((":int", ":float", ":boolean"))


def test_neo4j_csvs_hold_no_spreadsheet_formula(hostile_kg: KnowledgeGraph, tmp_path: Path) -> None:
    csvs = read_csvs(export(hostile_kg, "neo4j", tmp_path / "neo4j"))
    text_cells = [
        cell for _, header, rows in csvs for row in rows
        for column, cell in zip(header, row, strict=True) if is_text(column)
    ]  # fmt: skip
    assert text_cells
    assert [c for c in text_cells if c.startswith(FORMULA_STARTS)] == []
    # numbers are no formula: a negative line number stays a number
    lines = [row[header.index("line:int")] for name, header, rows in csvs
             if name == "nodes-paper.csv" for row in rows]  # fmt: skip
    assert "-1" in lines


def test_neo4j_escaping_is_undone_exactly_by_the_manifest_rule(
    hostile_kg: KnowledgeGraph, tmp_path: Path
) -> None:
    folder = export(hostile_kg, "neo4j", tmp_path / "neo4j")
    (_, header, rows) = next(c for c in read_csvs(folder) if c[0] == "nodes-paper.csv")
    title = header.index("title")
    escaped = {row[title] for row in rows}
    assert '\'=HYPERLINK("http://evil.example","click")' in escaped
    assert "''Quoted Start Model" in escaped  # a real leading ' is escaped too: reversible
    assert {t[1:] if t.startswith("'") else t for t in escaped} == set(HOSTILE_TITLES)
    cypher = json.loads((folder / MANIFEST).read_text("utf-8"))["unescape_cypher"]
    assert (
        'MATCH (x:`Paper`) WHERE x.`title` STARTS WITH "\'" SET x.`title` = substring(x.`title`, 1)'
        in cypher
    )


# ---------------------------------------------------------------------- the terminal

DRIVER = """
import sys
from pathlib import Path

from kg.corpus import Corpus
import tests.test_hostile_outputs as hostile
import ui.commands.common as common

corpus = Corpus(Path("hostile.txt"), "0" * 64, hostile.hostile_papers())
common.load_corpus = lambda path: corpus  # every command reads its corpus through this
from ui.cli import main

sys.exit(main(sys.argv[1:]))
"""


def run_hostile(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kgrag ARGS` in a subprocess whose corpus is the hostile papers."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, "utf-8")
    return subprocess.run(
        [sys.executable, str(driver), *args], cwd=REPO, capture_output=True, text=True,
        timeout=120, env={"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
                          "KGRAG_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def unsafe_in(text: str) -> list[str]:
    return sorted({c for c in text if c in TERMINAL_UNSAFE})


@pytest.mark.parametrize(
    "args", [("papers",), ("authors",), ("lineage", "Bell"), ("lineage", "Bell", "--json")]
)
def test_cli_text_output_shows_control_characters_instead_of_sending_them(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_hostile(tmp_path, *args)
    assert unsafe_in(result.stdout) == [], result.stdout
    assert unsafe_in(result.stderr) == [], result.stderr
    assert "Traceback" not in result.stderr
    if args == ("papers",):
        assert result.returncode == 0, result.stderr
        assert "\\x1b[31mRed\\x1b[0m Attention" in result.stdout  # visible, not obeyed
        assert "\\u202eevil override Model" in result.stdout
        assert "Null\\x00Byte Model" in result.stdout


@pytest.mark.parametrize("args", [("papers", "--json"), ("authors", "--json")])
def test_cli_json_escapes_what_a_terminal_obeys_and_keeps_the_values(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_hostile(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert unsafe_in(result.stdout) == []  # C1 and U+202E too: json.dumps leaves those raw
    data = json.loads(result.stdout)
    if args[0] == "papers":
        assert {p["title"] for p in data} == set(HOSTILE_TITLES)


def test_cli_export_of_hostile_titles_writes_parseable_files(tmp_path: Path) -> None:
    for fmt, read in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        out = tmp_path / f"graph.{fmt}"
        result = run_hostile(tmp_path, "export", "--format", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert len(paper_titles(read(out))) == len(HOSTILE_TITLES)


def test_an_error_listing_hostile_titles_is_one_visible_line(tmp_path: Path) -> None:
    result = run_hostile(tmp_path, "lineage", "hostile")  # ambiguous: every title is listed
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kgrag: error: "), result.stderr
    assert unsafe_in(result.stderr) == []
    assert "\\x1b[31mRed\\x1b[0m Attention" in lines[0]
    assert "Line\\nbreak" in lines[0]  # a title's line break cannot forge a second line


def test_an_error_naming_a_hostile_argument_is_one_visible_line(run_kgrag) -> None:  # type: ignore[no-untyped-def]
    result = run_kgrag("lineage", "\x1b]0;pwned\x07\x1b[2J\rkgrag: ok\nsecond line")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kgrag: error: "), result.stderr
    assert unsafe_in(result.stderr) == []

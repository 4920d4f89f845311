"""`kgrag export --format neo4j`: the CSVs, read back with the csv module, hold the same graph.

The lineage and organisation queries are computed from the CSVs the way the Cypher in
docs/SCALING.md computes them (variable-length BUILDS_ON paths; PUBLISHED_BY then PART_OF*0..1)
and must equal what kg/queries.py returns on the original graph.
"""

from __future__ import annotations

import csv
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kg import neo4j as neo4j_module
from kg.errors import ExportError
from kg.export import export
from kg.graph import EDGE_LABELS, KnowledgeGraph, build_graph
from kg.neo4j import MANIFEST, NODE_LABELS, export_neo4j
from kg.queries import ancestors, descendants, lineage, papers_by

LIBRARY_BIB = Path(__file__).parent / "fixtures" / "library" / "library.bib"
KINDS_BY_LABEL = {label: kind for kind, label in NODE_LABELS.items()}


@dataclass
class CsvGraph:
    """What a bulk import would hold: nodes by id, relationships (start, end, type, props)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def out(self, node: str, rel: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        return [e for e in self.edges if e[0] == node and e[2] == rel]

    def into(self, node: str, rel: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        return [e for e in self.edges if e[1] == node and e[2] == rel]


def _value(text: str, kind: str) -> Any:
    if kind == "int":
        return int(text)
    if kind == "boolean":
        assert text in ("true", "false")
        return text == "true"
    if kind == "float":
        return float(text)
    return text.removeprefix("'")  # the formula escape, undone as the manifest's Cypher does


def read_back(folder: Path) -> CsvGraph:
    """Parse every CSV the manifest names, typing each column from its header."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "kgrag-neo4j v1"
    graph = CsvGraph()
    for name, count in manifest["nodes"].items():
        rows = list(csv.reader((folder / name).open(encoding="utf-8", newline="")))
        header = rows[0]
        assert header[:2] == ["id:ID", ":LABEL"] and len(rows) - 1 == count
        for row in rows[1:]:
            props = {}
            for column, cell in zip(header[2:], row[2:], strict=True):
                prop, _, kind = column.partition(":")
                props[prop] = _value(cell, kind)
            graph.nodes[row[0]] = props
            graph.labels[row[0]] = row[1]
    for name, count in manifest["relationships"].items():
        rows = list(csv.reader((folder / name).open(encoding="utf-8", newline="")))
        header = rows[0]
        assert header[:3] == [":START_ID", ":END_ID", ":TYPE"] and len(rows) - 1 == count
        if count:
            assert "evidence" in header
        for row in rows[1:]:
            props = {}
            for column, cell in zip(header[3:], row[3:], strict=True):
                prop, _, kind = column.partition(":")
                props[prop] = _value(cell, kind)
            assert row[0] in graph.nodes and row[1] in graph.nodes  # no dangling relationship
            graph.edges.append((row[0], row[1], row[2], props))
    return graph


def cypher_lineage(graph: CsvGraph, root: str) -> tuple[set[str], set[str], set[tuple[str, ...]]]:
    """Ancestors, descendants and the relationships on BUILDS_ON paths through `root`, as
    `MATCH p = (root)-[:BUILDS_ON*]->()` and `()-[:BUILDS_ON*]->(root)` collect them."""

    def walk(upward: bool) -> tuple[set[str], set[tuple[str, ...]]]:
        seen: set[str] = set()
        rels: set[tuple[str, ...]] = set()
        todo = deque([root])
        while todo:
            node = todo.popleft()
            steps = graph.out(node, "BUILDS_ON") if upward else graph.into(node, "BUILDS_ON")
            for start, end, _, props in steps:
                rels.add((start, end, props["relation"], props["evidence"]))
                nxt = end if upward else start
                if nxt not in seen and nxt != root:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen, rels

    (up, up_rels), (down, down_rels) = walk(True), walk(False)
    return up, down, up_rels | down_rels


def cypher_papers_of(graph: CsvGraph, org_label: str) -> list[str]:
    """`MATCH (p:Paper)-[:PUBLISHED_BY]->(:Organization)-[:PART_OF*0..1]->(o:Organization
    {label: $org}) RETURN DISTINCT p ORDER BY p.date, p.line`."""
    org = next(n for n, p in graph.nodes.items() if graph.labels[n] == "Organization"
               and p["label"] == org_label)  # fmt: skip
    orgs = {org} | {start for start, _, _, _ in graph.into(org, "PART_OF")}
    papers = {start for o in orgs for start, _, _, _ in graph.into(o, "PUBLISHED_BY")}
    ordered = sorted(papers, key=lambda n: (graph.nodes[n]["date"], graph.nodes[n]["line"]))
    return [graph.nodes[n]["paper_id"] for n in ordered]


@pytest.fixture(scope="module")
def exported(kg: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(kg, "neo4j", tmp_path_factory.mktemp("neo4j") / "graph")


@pytest.fixture(scope="module")
def back(exported: Path) -> CsvGraph:
    return read_back(exported)


def test_the_folder_has_one_nodes_file_per_kind_and_one_relationships_file_per_edge_kind(
    exported: Path, kg: KnowledgeGraph
) -> None:
    names = {p.name for p in exported.iterdir()}
    assert {f"nodes-{kind}.csv" for kind in NODE_LABELS} <= names
    assert {f"relationships-{kind}.csv" for kind in EDGE_LABELS} <= names
    command = json.loads((exported / MANIFEST).read_text(encoding="utf-8"))["import_command"]
    assert command.startswith("neo4j-admin database import full ")
    for name in names - {MANIFEST}:
        assert f"={name} " in command
    assert "--multiline-fields=true" in command
    # Quoting is exercised: the seed's fields hold commas (read back whole below).
    values = [str(v) for _, d in kg.graph.nodes(data=True) for v in d.values()]
    assert any("," in v for v in values)


def test_every_node_and_edge_comes_back_with_its_properties(
    back: CsvGraph, kg: KnowledgeGraph
) -> None:
    assert set(back.nodes) == set(kg.graph.nodes)
    for node, data in kg.graph.nodes(data=True):
        assert KINDS_BY_LABEL[back.labels[node]] == data["kind"]
        assert back.nodes[node] == {k: v for k, v in data.items() if k != "kind"}
    written = sorted((u, v, k.upper(), tuple(sorted((a, str(b)) for a, b in d.items() if a != "kind")))
                     for u, v, k, d in kg.graph.edges(keys=True, data=True))  # fmt: skip
    read = sorted((u, v, t, tuple(sorted((a, str(b)) for a, b in d.items())))
                  for u, v, t, d in back.edges)  # fmt: skip
    assert read == written


def test_every_edge_kept_its_evidence(back: CsvGraph, kg: KnowledgeGraph) -> None:
    evidence = {
        (u, v, k.upper()): d["evidence"] for u, v, k, d in kg.graph.edges(keys=True, data=True)
    }
    assert len(back.edges) == len(evidence) == kg.graph.number_of_edges()
    for start, end, rel, props in back.edges:
        assert props["evidence"] and props["evidence"] == evidence[(start, end, rel)]
    lineage_rels = [e for e in back.edges if e[2] == "BUILDS_ON"]
    assert lineage_rels and all(e[3]["method"] and e[3]["relation"] for e in lineage_rels)


def test_the_lineage_of_llama_2_from_the_csvs_is_kgrag_lineage(
    back: CsvGraph, kg: KnowledgeGraph
) -> None:
    family = lineage(kg, "Llama 2")
    up, down, rels = cypher_lineage(back, family.root.id)
    assert up == {n.id for n in family.ancestors} == {"paper:llama"}
    assert down == {n.id for n in family.descendants} == {"paper:code-llama"}
    assert rels == {(e.source.id, e.target.id, e.relation, e.evidence) for e in family.edges}


def test_every_lineage_from_the_csvs_is_kgrag_lineage(back: CsvGraph, kg: KnowledgeGraph) -> None:
    roots = {n for u, v, k in kg.graph.edges(keys=True) if k == "builds_on" for n in (u, v)}
    assert len(roots) > 10
    for root in sorted(roots):
        up, down, rels = cypher_lineage(back, root)
        family = lineage(kg, kg.node(root))
        assert up == {n.id for n in ancestors(kg, kg.node(root))}, root
        assert down == {n.id for n in descendants(kg, kg.node(root))}, root
        assert rels == {(e.source.id, e.target.id, e.relation, e.evidence) for e in family.edges}


def test_papers_of_every_organisation_from_the_csvs_are_kgrag_papers_org(
    back: CsvGraph, kg: KnowledgeGraph
) -> None:
    assert cypher_papers_of(back, "Google") == [p.id for p in papers_by(kg, org="Google")]
    assert len(cypher_papers_of(back, "Google")) == 5  # Google DeepMind's paper included
    for node, data in kg.graph.nodes(data=True):
        if data["kind"] == "organization":
            assert cypher_papers_of(back, data["label"]) == [
                p.id for p in papers_by(kg, org=data["label"])
            ], node


def test_a_library_with_authors_exports_author_nodes_and_authored_edges(tmp_path: Path) -> None:
    from kg.library import add_files

    library_kg = build_graph(add_files([LIBRARY_BIB], library_path=tmp_path / "lib.jsonl").corpus)
    back = read_back(export_neo4j(library_kg, tmp_path / "out"))
    assert back.labels["author:tri-dao"] == "Author"
    authored = [e for e in back.edges if e[2] == "AUTHORED" and e[1] == "paper:mamba"]
    assert {(e[0], e[3]["position"]) for e in authored} == {
        ("author:albert-gu", 1),
        ("author:tri-dao", 2),
    }
    header = (tmp_path / "out" / "relationships-authored.csv").read_text().splitlines()[0]
    assert "position:int" in header.split(",")


def test_a_lineage_root_exports_only_that_family(kg: KnowledgeGraph, tmp_path: Path) -> None:
    back = read_back(export_neo4j(kg, tmp_path / "family", root="Llama 2"))
    assert set(back.nodes) == {"paper:llama", "paper:llama-2", "paper:code-llama"}
    assert {(s, e) for s, e, t, _ in back.edges if t == "BUILDS_ON"} == {
        ("paper:llama-2", "paper:llama"),
        ("paper:code-llama", "paper:llama-2"),
    }


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_bad_output_paths_raise_a_typed_error_and_write_nothing(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    a_file = tmp_path / "graph.csv"
    a_file.write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportError, match="not a folder"):
        export_neo4j(kg, a_file)
    assert a_file.read_text(encoding="utf-8") == "keep me"

    with pytest.raises(ExportError, match="does not exist"):
        export_neo4j(kg, tmp_path / "missing" / "graph")
    assert not (tmp_path / "missing").exists()

    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ExportError, match="not a kgrag Neo4j export"):
        export_neo4j(kg, other)
    assert _snapshot(other) == {"cat.jpg": b"\xff\xd8"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.csv", "photos"]


def test_a_failed_export_leaves_the_earlier_one_whole_and_no_half_folder(
    kg: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = export_neo4j(kg, tmp_path / "graph", root="Llama 2")
    before = _snapshot(folder)
    real_write = neo4j_module._write_csv
    calls = []

    def disk_full(path: Path, rows: list[dict[str, Any]], fixed: int) -> int:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(path, rows, fixed)

    monkeypatch.setattr(neo4j_module, "_write_csv", disk_full)
    with pytest.raises(ExportError, match="No space left on device.*unchanged"):
        export_neo4j(kg, tmp_path / "graph")
    assert _snapshot(folder) == before
    assert [p.name for p in tmp_path.iterdir()] == ["graph"]  # no staging folder left

    monkeypatch.setattr(neo4j_module, "_write_csv", real_write)
    export_neo4j(kg, tmp_path / "graph")  # an earlier export is replaced whole
    assert len(read_back(folder).nodes) == kg.graph.number_of_nodes()
    assert [p.name for p in tmp_path.iterdir()] == ["graph"]


def test_the_cli_writes_the_folder_and_reports_a_bad_path_in_one_line(
    run_kgrag: Any, tmp_path: Path
) -> None:
    done = run_kgrag("export", "--format", "neo4j", "-o", str(tmp_path / "neo"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "neo" / "relationships-builds_on.csv").is_file()
    (tmp_path / "x.txt").write_text("", encoding="utf-8")
    failed = run_kgrag("export", "--format", "neo4j", "-o", str(tmp_path / "x.txt"))
    assert failed.returncode != 0 and "not a folder" in failed.stderr
    assert "Traceback" not in failed.stderr

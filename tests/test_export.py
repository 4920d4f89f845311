"""Exports read back the same with networkx and with python-igraph; writes are atomic."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import igraph
import networkx as nx
import pytest

from kg import export as export_module
from kg import fsutil
from kg.errors import ExportError
from kg.export import export, export_graph
from kg.graph import KnowledgeGraph


def attributes_equal(read: dict, written: dict) -> bool:
    """Same values, allowing a reader's float for an int and its "" / NaN for an empty value."""
    for key, value in written.items():
        got = read.get(key)
        if isinstance(value, bool):
            if bool(got) != value:
                return False
        elif isinstance(value, int):
            if got is None or math.isnan(float(got)) or int(got) != value:
                return False
        elif str(got) != str(value):
            return False
    return True


@pytest.fixture(scope="module")
def exported(kg: KnowledgeGraph) -> nx.MultiDiGraph:
    return export_graph(kg)


def test_export_graph_has_scalar_labelled_attributes(exported: nx.MultiDiGraph) -> None:
    for _, data in exported.nodes(data=True):
        assert data["label"] and data["kind"]
        assert all(isinstance(v, str | int | float | bool) for v in data.values())
    for _, _, data in exported.edges(data=True):
        assert data["label"] and data["kind"]
        assert all(isinstance(v, str | int | float | bool) for v in data.values())
        if data["kind"] == "builds_on":
            assert data["evidence"] and data["method"] and data["relation"]


def test_graphml_round_trip_with_networkx(kg: KnowledgeGraph, exported, tmp_path: Path) -> None:
    path = export(kg, "graphml", tmp_path / "kg.graphml")
    back = nx.read_graphml(path, force_multigraph=True)
    assert (back.number_of_nodes(), back.number_of_edges()) == (
        kg.graph.number_of_nodes(), kg.graph.number_of_edges(),
    )  # fmt: skip
    for node, data in exported.nodes(data=True):
        assert back.nodes[node] == data
    written = sorted((u, v, d["kind"], d["evidence"]) for u, v, d in exported.edges(data=True))
    read = sorted((u, v, d["kind"], d["evidence"]) for u, v, d in back.edges(data=True))
    assert read == written


def test_graphml_round_trip_with_igraph(kg: KnowledgeGraph, exported, tmp_path: Path) -> None:
    path = export(kg, "graphml", tmp_path / "kg.graphml")
    back = igraph.Graph.Read_GraphML(str(path))
    assert (back.vcount(), back.ecount()) == (
        exported.number_of_nodes(),
        exported.number_of_edges(),
    )
    assert back.is_directed()
    by_id = {v["id"]: v.attributes() for v in back.vs}
    for node, data in exported.nodes(data=True):
        assert attributes_equal(by_id[node], data), node
    lineage = [e for e in back.es if e["kind"] == "builds_on"]
    assert len(lineage) == sum(1 for *_, k in kg.graph.edges(keys=True) if k == "builds_on")
    edge = next(e for e in lineage if back.vs[e.source]["id"] == "paper:code-llama")
    assert back.vs[edge.target]["id"] == "paper:llama-2"
    assert edge["method"] == "rule" and "基于 Llama 2" in edge["evidence"]


def test_gexf_round_trip(kg: KnowledgeGraph, exported, tmp_path: Path) -> None:
    path = export(kg, "gexf", tmp_path / "kg.gexf")
    back = nx.read_gexf(path)
    assert (back.number_of_nodes(), back.number_of_edges()) == (
        exported.number_of_nodes(), exported.number_of_edges(),
    )  # fmt: skip
    for node, data in exported.nodes(data=True):
        assert attributes_equal(back.nodes[node], data), node
    kinds = sorted(d["kind"] for *_, d in back.edges(data=True))
    assert kinds == sorted(d["kind"] for *_, d in exported.edges(data=True))


def test_json_round_trip(kg: KnowledgeGraph, exported, tmp_path: Path) -> None:
    path = export(kg, "json", tmp_path / "kg.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["graph"]["format"] == "kgrag-graph v1"
    back = nx.node_link_graph(data, edges="edges")
    assert back.is_multigraph() and back.is_directed()
    assert dict(back.nodes(data=True)) == dict(exported.nodes(data=True))
    assert sorted(back.edges(keys=True)) == sorted(exported.edges(keys=True))


def test_lineage_subgraph_export(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = export(kg, "graphml", tmp_path / "llama.graphml", root="llama2")
    back = nx.read_graphml(path, force_multigraph=True)
    assert set(back.nodes) == {"paper:llama", "paper:llama-2", "paper:code-llama"}
    assert sorted(d["relation"] for *_, d in back.edges(data=True)) == ["extends", "successor"]
    assert igraph.Graph.Read_GraphML(str(path)).ecount() == 2


def test_export_under_a_file_instead_of_a_folder_leaves_no_file(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    """A path no user can write (root included): its parent is a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportError):
        export(kg, "graphml", blocker / "kg.graphml")
    assert blocker.read_text(encoding="utf-8") == "keep me"
    assert list(tmp_path.iterdir()) == [blocker]


def test_a_folder_refusing_new_files_leaves_no_file(
    kg: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal as above, for users (root) whom file modes do not stop."""

    real_open = os.open

    def refuse(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "open", refuse)
    with pytest.raises(ExportError, match="Permission denied"):
        export(kg, "gexf", tmp_path / "kg.gexf")
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_missing_folder_is_refused(kg: KnowledgeGraph, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export(kg, "json", tmp_path / "missing" / "kg.json")
    assert not (tmp_path / "missing").exists()


def test_a_failed_export_leaves_the_earlier_file_intact(
    kg: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "kg.graphml"
    export(kg, "graphml", target)
    before = target.read_bytes()

    def failing_write(graph, handle) -> None:
        handle.write(b"<partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_graphml", failing_write)
    with pytest.raises(ExportError, match="No space left"):
        export(kg, "graphml", target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["kg.graphml"]


def test_an_unknown_format_is_refused(kg: KnowledgeGraph, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="graphml, gexf, json"):
        export(kg, "dot", tmp_path / "kg.dot")

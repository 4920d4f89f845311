"""Export the knowledge graph as Neo4j bulk-import CSVs (`neo4j-admin database import full`).

One folder, written whole (`kg.fsutil.staging_dir` + `swap_in_folder`: an earlier export there
is replaced in one step, a failed export leaves it as it was and nothing half-written):

- `nodes-<kind>.csv` for each node kind (paper, organization, technique, category, author, work):
  `id:ID` (kgrag's node id, one ID space), `:LABEL` (`Paper`, `Organization`, …) and the node's
  attributes with typed headers (`line:int`, `generic:boolean`, strings untyped).
- `relationships-<kind>.csv` for each edge kind (published_by, in_category, uses_technique,
  builds_on, compared_against, part_of, authored, cites): `:START_ID`, `:END_ID`, `:TYPE` (the
  kind in capitals, `BUILDS_ON`) and the edge's attributes, `evidence` on every edge.
- `kgrag-neo4j.json`: the format version, the files with their row counts, and the import
  command line (`import_command`), which names every file.

Fields holding line breaks (abstracts, evidence sentences) are quoted, so the import takes
`--multiline-fields=true`; the command written here says so.

Formula injection (OWASP "CSV Injection"): a spreadsheet opening these files runs a cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(…)` in a
title). So every cell of a string column (ids included; `:LABEL`, `:TYPE` and the typed `:int`,
`:float`, `:boolean` columns hold no free text and are left as they are, so `-1` stays a number)
that starts with one of those, or with `'`, gets one `'` in front, as OWASP recommends.

The trade-off: neo4j-admin import and LOAD CSV know nothing of this convention (their quote
character is `"`), so such a value is imported with the extra `'`. Because a value that already
began with `'` was escaped too, the change is exactly reversible: drop one leading `'` from every
string property that has one. The manifest's `unescape_cypher` holds those statements (one for
each property of a label or relationship type in which a value was escaped): run them once after
the import to get the values exactly as kgrag holds them (a second run would strip a `'` that
belongs to the value).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.errors import ExportError
from kg.fsutil import output_folder, remove_tree, staging_dir, swap_in_folder
from kg.schema import EDGE_LABELS, KnowledgeGraph
from kg.subgraph import scalar, selection

__all__ = [
    "FORMAT",
    "MANIFEST",
    "NODE_LABELS",
    "export_neo4j",
    "import_command",
    "relationship_type",
]

FORMAT = "kgrag-neo4j v1"
MANIFEST = "kgrag-neo4j.json"
NODE_LABELS = {
    "paper": "Paper",
    "organization": "Organization",
    "technique": "Technique",
    "category": "Category",
    "author": "Author",
    "work": "Work",
}
_TYPES = ((bool, "boolean"), (int, "int"), (float, "float"))
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
"""Cell starts a spreadsheet reads as a formula (OWASP), and the escape character itself."""
_NOT_TEXT = (":LABEL", ":TYPE", *(f":{name}" for _, name in _TYPES))


def relationship_type(kind: str) -> str:
    """The Neo4j relationship type of an edge kind.

    Example:
        >>> relationship_type("builds_on")
        'BUILDS_ON'
    """
    return kind.upper()


def import_command(node_files: Iterable[str], relationship_files: Iterable[str]) -> str:
    """The `neo4j-admin` line that imports these files (run in the export folder) into `neo4j`."""
    parts = ["neo4j-admin database import full"]
    parts += [f"--nodes={name}" for name in node_files]
    parts += [f"--relationships={name}" for name in relationship_files]
    parts += ["--multiline-fields=true", "--overwrite-destination=true", "neo4j"]
    return " ".join(parts)


def export_neo4j(kg: KnowledgeGraph, folder: Path | str, root: str | None = None) -> Path:
    """Write the graph (or the lineage subgraph of `root`) as Neo4j bulk-import CSVs into
    `folder`; return the folder. `folder` must be new, empty, or an earlier export of this kind.
    Raises `ExportError` (nothing written, any earlier export unchanged) when it cannot."""
    target = _check_folder(Path(folder))
    nodes, edges = selection(kg, root)
    graph = kg.graph
    node_kinds = [*NODE_LABELS, *sorted({graph.nodes[n]["kind"] for n in nodes} - set(NODE_LABELS))]
    edge_kinds = [*EDGE_LABELS, *sorted({k for _, _, k in edges} - set(EDGE_LABELS))]
    staging: Path | None = None
    try:
        staging = staging_dir(target.parent, f".{target.name}-new-")
        counts: dict[str, int] = {}
        unescape: list[str] = []
        for kind in node_kinds:
            rows = [
                {"id:ID": n, ":LABEL": _label(kind), **_props(graph.nodes[n])}
                for n in sorted(nodes)
                if graph.nodes[n]["kind"] == kind
            ]
            name = f"nodes-{kind}.csv"
            counts[name], escaped = _write_csv(staging / name, rows, 2)
            unescape += _unescape_cypher(f"(x:{_quoted(_label(kind))})", escaped)
        for kind in edge_kinds:
            rows = [
                {":START_ID": u, ":END_ID": v, ":TYPE": relationship_type(kind),
                 **_props(graph.edges[u, v, k])}
                for u, v, k in sorted(edges)
                if k == kind
            ]  # fmt: skip
            name = f"relationships-{kind}.csv"
            counts[name], escaped = _write_csv(staging / name, rows, 3)
            unescape += _unescape_cypher(f"()-[x:{_quoted(relationship_type(kind))}]->()", escaped)
        node_files = [f"nodes-{k}.csv" for k in node_kinds]
        edge_files = [f"relationships-{k}.csv" for k in edge_kinds]
        manifest = {
            "format": FORMAT,
            "root": root or "",
            "nodes": {name: counts[name] for name in node_files},
            "relationships": {name: counts[name] for name in edge_files},
            "import_command": import_command(node_files, edge_files),
            "unescape_cypher": unescape,
        }
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        swap_in_folder(staging, target, last=MANIFEST)
    except OSError as exc:
        if staging is not None and staging.exists():
            remove_tree(staging)
        raise ExportError(
            f"cannot write the Neo4j export to {folder}: {exc.strerror or exc}. Any earlier "
            "export there is unchanged.", folder
        ) from exc  # fmt: skip
    return target


def _check_folder(folder: Path) -> Path:
    """The folder to write (symlinks followed): new, empty or an earlier Neo4j export."""
    target = output_folder(
        folder, ExportError, "the Neo4j export writes several CSV files, so -o names a folder "
        "(a new one, or an earlier Neo4j export to replace)"
    )  # fmt: skip
    if not target.parent.is_dir():
        raise ExportError(
            f"cannot write {folder}: folder {target.parent} does not exist. Create it first.",
            folder,
        )
    if target.is_dir() and any(target.iterdir()) and not _is_export(target):
        raise ExportError(
            f"{folder} holds other files and is not a kgrag Neo4j export, so it is not replaced: "
            "give a new or empty folder.", folder
        )  # fmt: skip
    return target


def _is_export(folder: Path) -> bool:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def _label(kind: str) -> str:
    return NODE_LABELS.get(kind) or kind.title().replace("_", "")


def _props(data: dict[str, Any]) -> dict[str, Any]:
    """Attributes as Neo4j properties: `kind` is the label or type already; scalars only."""
    return {k: scalar(v) for k, v in data.items() if k != "kind"}


def _write_csv(path: Path, rows: list[dict[str, Any]], fixed: int) -> tuple[int, list[str]]:
    """Write `rows` with a typed header: the first `fixed` columns as given, then each property
    typed from its values (a column of ints is `name:int`, of bools `name:boolean`). Returns the
    row count and the properties in which a cell was escaped against formula injection."""
    columns = list(dict.fromkeys(key for row in rows for key in row)) or (
        ["id:ID", ":LABEL"] if fixed == 2 else [":START_ID", ":END_ID", ":TYPE"]
    )
    header = columns[:fixed] + [_typed(c, [r[c] for r in rows if c in r]) for c in columns[fixed:]]
    text = [not column.endswith(_NOT_TEXT) for column in header]
    escaped: dict[str, None] = {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            cells = [_cell(row.get(c)) for c in columns]
            for i, cell in enumerate(cells):
                if text[i] and cell.startswith(_FORMULA_START):
                    cells[i] = "'" + cell
                    escaped[header[i]] = None
            writer.writerow(cells)
        handle.flush()
        os.fsync(handle.fileno())
    return len(rows), [_property(column) for column in escaped]


def _typed(column: str, values: list[Any]) -> str:
    for kind, name in _TYPES:
        if values and all(isinstance(v, kind) for v in values):
            if kind is int and any(isinstance(v, bool) for v in values):
                break
            return f"{column}:{name}"
    return column


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _property(column: str) -> str:
    """The property a header column stores: `id:ID` → `id`; `:START_ID`/`:END_ID` store none."""
    return column.partition(":")[0]


def _quoted(name: str) -> str:
    """A Cypher identifier in backticks (a doubled backtick stands for one)."""
    return "`" + name.replace("`", "``") + "`"


def _unescape_cypher(pattern: str, properties: list[str]) -> list[str]:
    """Statements that drop the escaping `'` from `properties` of what `pattern` matches."""
    return [
        f'MATCH {pattern} WHERE x.{n} STARTS WITH "\'" SET x.{n} = substring(x.{n}, 1)'
        for n in (_quoted(p) for p in properties if p)
    ]

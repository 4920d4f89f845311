"""Export the knowledge graph (or one work's lineage) as GraphML, GEXF or node-link JSON, or
as Neo4j bulk-import CSVs (`neo4j`, a folder: `kg.neo4j`), and the papers as BibTeX.

What is exported, and as which scalars, is `kg.subgraph`'s (`export_graph`, `scalar` and
`selection`, re-exported here). Files are written atomically (`kg.fsutil`): a failed export
leaves any earlier file at the path intact, and a device, FIFO or socket at the path is
refused, never replaced.

XML 1.0 cannot hold most control characters, not even as `&#0;`-style references, so in GraphML
and GEXF each one (a NUL or an escape character in a title) becomes U+FFFD, in ids and values
alike: the file always parses. JSON escapes them, so the JSON export keeps them exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from kg.errors import ExportError
from kg.fsutil import atomic_write
from kg.neo4j import export_neo4j
from kg.paper import Paper
from kg.queries import paper_authors
from kg.readers.bibtex import write_bibtex
from kg.readers.common import normalize_arxiv_id
from kg.schema import KnowledgeGraph, node_id_for_paper
from kg.subgraph import export_graph, scalar, selection

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "FORMATS",
    "credited_papers",
    "export",
    "export_bibtex",
    "export_graph",
    "scalar",
    "selection",
    "xml_safe",
]

FORMATS = ("graphml", "gexf", "json", "neo4j")
JSON_FORMAT = "kgrag-graph v1"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside XML 1.0's `Char` production (C0 controls but tab and line breaks, lone
surrogates, U+FFFE/U+FFFF)."""


def export(kg: KnowledgeGraph, fmt: str, path: Path | str, root: str | None = None) -> Path:
    """Write the graph (or the lineage subgraph of `root`) to `path` in `fmt`; return the path
    (for `neo4j`, a folder of CSV files)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    if fmt == "neo4j":
        return export_neo4j(kg, path, root)
    graph = export_graph(kg, root)
    writers: dict[str, Callable[[nx.MultiDiGraph, IO[bytes]], None]] = {
        "graphml": _write_graphml,
        "gexf": _write_gexf,
        "json": _write_json,
    }
    target = Path(path)
    atomic_write(target, lambda handle: writers[fmt](graph, handle), ExportError)
    return target


def xml_safe(value: Any) -> Any:
    """`value` with every character XML 1.0 cannot hold replaced by U+FFFD (non-strings as given).

    Example:
        >>> xml_safe("Null\\x00Byte") == "Null\\ufffdByte"
        True
    """
    return _NOT_XML.sub("\ufffd", value) if isinstance(value, str) else value


def _xml_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of `graph` every id, key and value of which XML can hold."""
    import networkx as nx

    out = nx.MultiDiGraph()
    out.graph.update({k: xml_safe(v) for k, v in graph.graph.items()})
    for node, data in graph.nodes(data=True):
        out.add_node(xml_safe(node), **{k: xml_safe(v) for k, v in data.items()})
    for u, v, key, data in graph.edges(keys=True, data=True):
        out.add_edge(xml_safe(u), xml_safe(v), key=xml_safe(key),
                     **{k: xml_safe(value) for k, value in data.items()})  # fmt: skip
    return out


def _write_graphml(graph: nx.MultiDiGraph, handle: IO[bytes]) -> None:
    import networkx as nx

    nx.write_graphml(_xml_graph(graph), handle, encoding="utf-8", prettyprint=True)


def _write_gexf(graph: nx.MultiDiGraph, handle: IO[bytes]) -> None:
    import networkx as nx

    nx.write_gexf(_xml_graph(graph), handle, encoding="utf-8", prettyprint=True)


def _write_json(graph: nx.MultiDiGraph, handle: IO[bytes]) -> None:
    import networkx as nx

    data = nx.node_link_data(graph, edges="edges")
    data["graph"]["format"] = JSON_FORMAT
    handle.write(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def credited_papers(kg: KnowledgeGraph) -> list[Paper]:
    """The corpus's papers with the authors the graph credits them: a paper of the list gets
    `data/seed_authors.json`'s names and the arXiv id they were checked on (what a BibTeX
    export writes); a paper with authors of its own is as it is."""
    papers = []
    for paper in kg.corpus.papers:
        credit = paper_authors(kg, node_id_for_paper(paper.id))
        if paper.authors or not credit.known:
            papers.append(paper)
            continue
        arxiv = paper.arxiv_id or normalize_arxiv_id(credit.source)
        papers.append(replace(paper, authors=tuple(a.label for a in credit.authors),
                              arxiv_id=arxiv))  # fmt: skip
    return papers


def export_bibtex(papers: Iterable[Paper], path: Path | str) -> Path:
    """Write the papers as BibTeX (every field a reader read, kg.readers.bibtex), atomically."""
    target = Path(path)
    data = write_bibtex(papers).encode("utf-8")

    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    atomic_write(target, write, ExportError)
    return target

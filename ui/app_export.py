"""The Export tab (and the `export_graph` API): GraphML, GEXF or JSON, whole graph or a lineage;
or every paper as BibTeX (as `kgrag export --format bibtex`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from kg.corpus import slugify
from kg.errors import KgragError
from ui.app_errors import message_for
from ui.app_format import error_box, notice_box
from ui.app_lineage import work_choices
from ui.app_redraw import Redraw
from ui.app_services import AppServices

FORMATS = {"graphml": ".graphml", "gexf": ".gexf", "json": ".json", "bibtex": ".bib"}
WHOLE = "Whole graph"


def build_export_tab(services: AppServices) -> Redraw:
    gr.Markdown(
        "Download the knowledge graph for Gephi, yEd, Cytoscape or your own code. "
        "GraphML and GEXF carry typed scalar attributes (`label` and `kind` on every node and "
        "edge, evidence and method on every lineage edge); JSON is networkx node-link data. "
        "BibTeX writes every paper of the corpus (with its authors) for a reference manager; "
        "the scope applies to the graph formats only."
    )
    with gr.Row(equal_height=False):
        fmt = gr.Radio(list(FORMATS), value="graphml", label="Format", elem_id="kg-export-format")
        root = gr.Dropdown(
            [WHOLE, *work_choices(services)], value=WHOLE, allow_custom_value=True,
            filterable=True, label="Scope: the whole graph, or one work's lineage subgraph",
            elem_id="kg-export-root",
        )  # fmt: skip
        button = gr.Button("Export", variant="primary", elem_id="kg-export-button")
    status = gr.HTML(elem_id="kg-export-status")
    download = gr.File(label="Download", interactive=False, elem_id="kg-export-file")

    def run(fmt_name: str, scope: str) -> tuple[str | None, str]:
        try:
            path = export_graph_file(services, fmt_name, scope)
        except Exception as exc:
            return None, error_box(message_for(exc))
        what = _what(fmt_name, scope)
        return str(path), notice_box(
            f"Exported {what} as {path.name} ({path.stat().st_size:,} bytes)."
        )

    button.click(run, [fmt, root], [download, status], api_visibility="private")

    def export_graph(fmt_name: str, scope: str) -> str:
        """API: the graph (or a work's lineage subgraph) as a GraphML, GEXF or JSON file, or
        every paper as BibTeX."""
        try:
            return str(export_graph_file(services, fmt_name, scope))
        except Exception as exc:
            raise gr.Error(message_for(exc)) from exc

    # The named endpoint `export_graph` (format, scope) -> file, for gradio_client; the hidden
    # button only gives the event a trigger.
    api_file = gr.File(visible=False)
    api_trigger = gr.Button(visible=False)
    api_trigger.click(export_graph, [fmt, root], [api_file], api_name="export_graph")

    def scopes() -> Any:
        return gr.Dropdown(choices=[WHOLE, *work_choices(services)])

    return Redraw(scopes, [root])


def _what(fmt: str, scope: str) -> str:
    if (fmt or "").strip().lower() == "bibtex":
        return "every paper of the corpus"
    return f"the lineage subgraph of {scope}" if scope and scope != WHOLE else "the whole graph"


def export_graph_file(services: AppServices, fmt: str, root: str = "") -> Path:
    """Write the graph (or `root`'s lineage subgraph) to a fresh temp file and return its path;
    `bibtex` writes every paper (the scope does not apply)."""
    from kg.export import credited_papers, export, export_bibtex

    fmt = (fmt or "graphml").strip().lower()
    if fmt not in FORMATS:
        raise KgragError(f"unknown export format {fmt!r}: choose {', '.join(FORMATS)}.")
    folder = Path(tempfile.mkdtemp(prefix="kgrag-export-"))
    if fmt == "bibtex":
        return export_bibtex(credited_papers(services.kg()), folder / "kgrag-papers.bib")
    root = "" if (root or "").strip() in ("", WHOLE) else root.strip()
    stem = f"kgrag-{slugify(root)}-lineage" if root else "kgrag-graph"
    path = folder / f"{stem}{FORMATS[fmt]}"
    export(services.kg(), fmt, path, root=root or None)
    return path

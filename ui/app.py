"""The kgrag Gradio app: Ask, Lineage, Papers, Export and Index tabs over the library.

This module wires the tabs (each in `ui/app_<tab>.py`) and launches the server on loopback.
Everything the page shows comes from the installed Gradio package and `ui/static/`: no CDN,
no fonts from the network, analytics off.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ui.app_services import AppServices
from ui.app_static import static_text

TITLE = "kgrag — AI papers 2023"
APP_CONCURRENCY = 16  # questions and clicks served at once (the LLM still answers one at a time)


def import_gradio() -> Any:
    """Gradio, imported with its usage analytics off (it reads the switch at import; kgrag never
    calls out)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio

    return gradio


def build_app(services: AppServices) -> Any:
    """The whole app as a `gr.Blocks` (not launched)."""
    gr = import_gradio()

    from ui.app_api import register_api
    from ui.app_ask import build_ask_tab
    from ui.app_export import build_export_tab
    from ui.app_index import build_index_tab
    from ui.app_lineage import build_lineage_tab
    from ui.app_papers import build_papers_tab
    from ui.app_redraw import Redraw, redraw_on_change

    interact = static_text("interact.js")
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        header = gr.HTML(header_html(services), elem_id="kg-header")
        with gr.Tabs(elem_id="kg-tabs"):
            with gr.Tab("Ask", id="ask", elem_id="tab-ask"):
                build_ask_tab(services, interact)
            with gr.Tab("Lineage", id="lineage", elem_id="tab-lineage"):
                lineage = build_lineage_tab(services, interact)
            with gr.Tab("Papers", id="papers", elem_id="tab-papers"):
                papers = build_papers_tab(services, interact)
            with gr.Tab("Export", id="export", elem_id="tab-export"):
                export = build_export_tab(services)
            with gr.Tab("Index", id="index", elem_id="tab-index"):
                added, overview = build_index_tab(services)
        # A new page shows the library as it is now, not as it was at start; an upload shows
        # in the page that made it without a reload.
        heading = Redraw(lambda: header_html(services), [header])
        redraw_on_change(app, [heading, lineage, papers, export, overview], added)
        register_api(services)
    return app


def header_html(services: AppServices) -> str:
    """The page header, with the number of papers the app serves now."""
    from ui.app_format import escape

    try:
        count = str(len(services.papers()))
    except Exception:
        count = "?"  # the tabs show the error
    return (
        '<div class="kg-header"><h1>kgrag</h1><span class="kg-sub">'
        f"knowledge graph + cited answers over {escape(count)} AI papers · offline</span></div>"
    )


def theme(gr: Any) -> Any:
    """Gradio's default theme with system fonts only (nothing fetched from Google Fonts)."""
    sans = [
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Noto Sans CJK SC",
        "PingFang SC",
        "sans-serif",
    ]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]
    return gr.themes.Default(primary_hue="indigo", neutral_hue="slate", font=sans, font_mono=mono)


def launch(
    services: AppServices, host: str, port: int, quiet: bool = False, warm_up: bool = True
) -> None:
    """Serve the app on `host:port` until interrupted; never through a share link.

    The models load in the background once the page is being served (`warm_up`).
    """
    gr = import_gradio()
    from starlette.middleware import Middleware

    from kg.limits import MAX_UPLOAD_BYTES
    from kg.pdf import DEFAULT_MAX_BYTES as PDF_MAX_BYTES
    from ui.app_offline import OfflinePage

    app = build_app(services)
    # Graph answers, refusals, lineage, papers and export never wait behind a generation: events
    # run side by side, and the LLM worker itself queues generations one at a time.
    app.queue(default_concurrency_limit=APP_CONCURRENCY)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        show_error=False,
        quiet=quiet,
        theme=theme(gr),
        css=static_text("app.css") + static_text("lineage.css"),
        footer_links=["api"],
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        prevent_thread_lock=True,
        app_kwargs={"middleware": [Middleware(OfflinePage)]},
        # Gradio refuses larger uploads before storing them: a PDF's limit (a list's is lower,
        # checked by the Index tab before it reads the file)
        max_file_size=max(MAX_UPLOAD_BYTES, PDF_MAX_BYTES),
    )
    shown = f"[{host}]" if ":" in host else host
    print(f"kgrag: serving on http://{shown}:{port}  (Ctrl+C to stop)", file=sys.stderr)
    if warm_up:
        services.warm_up()
    app.block_thread()

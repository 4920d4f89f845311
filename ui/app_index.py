"""The Index tab: the index manifest, and adding papers to the user's own copy of the list."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from kg.errors import CorpusError, KgragError
from kg.limits import MAX_UPLOAD_BYTES, check_upload_size
from ui.app_errors import message_for
from ui.app_format import error_box
from ui.app_services import AppServices

UPLOAD_LIMIT = MAX_UPLOAD_BYTES  # bytes: a paper list is text; anything bigger is a mistake


def build_index_tab(services: AppServices) -> None:
    overview = gr.HTML(index_overview(services), elem_id="kg-index-overview")
    with gr.Row():
        refresh = gr.Button("Refresh", elem_id="kg-index-refresh")
        update = gr.Button("Update index", variant="secondary", elem_id="kg-index-update")
    gr.Markdown(
        "### Add papers\nUpload a UTF-8 text file in the corpus format (a category heading such "
        "as 基座 or 多模态, then per paper an English title line and `发布时间:`, `发表单位:`, "
        "`影响力:`, `摘要:` lines). It is validated first: on any error nothing is merged. New "
        "papers go into your own copy of the list (the shipped file is never changed), papers "
        "whose title is already there are skipped, and the index embeds only the new papers."
    )
    with gr.Row(equal_height=False):
        upload = gr.File(label="Paper list (.txt)", file_types=[".txt"], type="filepath",
                         elem_id="kg-upload")  # fmt: skip
        add = gr.Button("Validate and add", variant="primary", elem_id="kg-upload-add")
    result = gr.HTML(elem_id="kg-upload-result")

    def do_refresh() -> str:
        return index_overview(services)

    def do_update(progress: Any = gr.Progress(track_tqdm=True)) -> str:  # noqa: B008
        try:
            progress(0, desc="Updating the index")
            services.update_index()
        except Exception as exc:
            return error_box(message_for(exc)) + index_overview(services)
        return index_overview(services)

    def do_add(
        path: str | None,
        progress: Any = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[str, str, None]:
        message = add_uploaded(services, path, progress)
        return message, index_overview(services), None  # cleared, ready for the next file

    refresh.click(do_refresh, None, [overview], api_visibility="private")
    update.click(do_update, None, [overview], api_visibility="private")
    add.click(do_add, [upload], [result, overview, upload], api_visibility="private")


def add_uploaded(services: AppServices, path: str | None, progress: Any) -> str:
    """Validate and merge an uploaded file, then update the index; a message for the page."""
    if not path:
        return error_box("choose a .txt file in the corpus format first.")
    try:
        try:
            text = _read_upload(Path(path))
        finally:
            discard_upload(Path(path))  # read once: accepted or not, Gradio's copy goes
        result = services.add_papers(text, Path(path).name)
    except CorpusError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        return (
            '<div class="kg-error" role="alert"><b>The file was not added.</b> '
            f"{escape(where + exc.detail)}<div class='kg-muted'>Nothing was merged; "
            "fix the line and upload the file again.</div></div>"
        )
    except Exception as exc:
        return error_box(message_for(exc))
    lines = [f"<b>Added {len(result.added)} paper(s)</b> to {escape(str(result.path))}."]
    lines += [
        f"<li>{escape(p.title)} <span class='kg-muted'>({p.date})</span></li>" for p in result.added
    ]
    if result.duplicates:
        titles = ", ".join(escape(p.title) for p in result.duplicates)
        lines.append(
            f"<div>Skipped {len(result.duplicates)} already in the corpus: {titles}.</div>"
        )
    for line, name in result.unknown_organizations:
        lines.append(
            f"<div class='kg-muted'>Line {line}: organisation {escape(name)!r} is not in the "
            "alias table; it is kept as written.</div>"
        )
    if result.added:
        try:
            progress(0, desc="Embedding the new papers")
            services.update_index()
            lines.append("<div>The index is up to date.</div>")
        except Exception as exc:
            lines.append(
                error_box("papers were added but the index was not updated: " + message_for(exc))
            )
    return f'<div class="kg-notice">{"".join(lines)}</div>'


def _read_upload(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            check_upload_size(os.fstat(handle.fileno()).st_size)  # before reading it whole
            data = handle.read(UPLOAD_LIMIT + 1)
    except OSError as exc:
        raise KgragError(f"cannot read the uploaded file ({exc}).") from exc
    check_upload_size(len(data))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(path.name, None, "the file is not UTF-8 text; save it as UTF-8.") from exc


def discard_upload(path: Path) -> None:
    """Remove an upload from Gradio's temp folder (and its per-upload folder once empty).

    Gradio keeps uploads until the server stops, or for good if it is killed; a paper list is
    read once, so its copy has no further use. Files outside that folder are never touched.
    """
    from gradio.utils import get_upload_folder

    uploads = Path(get_upload_folder()).resolve()
    try:
        real = path.resolve()
        if uploads not in real.parents:
            return
        real.unlink(missing_ok=True)
        if real.parent != uploads:
            real.parent.rmdir()
    except OSError:
        pass  # already gone, or the per-upload folder holds other files


def index_overview(services: AppServices) -> str:
    try:
        return _overview(services)
    except Exception as exc:
        return error_box(message_for(exc))


def _overview(services: AppServices) -> str:
    from kg.queries import graph_stats

    kg = services.kg()
    corpus = kg.corpus
    counts = graph_stats(kg)
    manifest = services.manifest()
    stats = [
        ("papers", str(counts.papers)),
        ("graph nodes", str(counts.node_count)),
        ("graph edges", str(counts.edge_count)),
        ("lineage edges", str(counts.lineage_count)),
        ("indexed passages", str(manifest.passages) if manifest else "—"),
    ]
    grid = "".join(f"<div class='kg-stat'><b>{escape(v)}</b><span>{escape(k)}</span></div>"
                   for k, v in stats)  # fmt: skip
    if manifest is None:
        state = "no index yet — it is built on the first question, or press “Update index”"
    elif manifest.corpus_sha256 == corpus.sha256:
        state = "up to date with the corpus"
    else:
        state = "stale: the corpus changed since it was built (press “Update index”)"
    rows = [
        ("Index", state),
        ("Index folder", str(services.index_dir())),
        ("Corpus", str(corpus.path)),
        ("Corpus sha256", corpus.sha256),
    ]
    if manifest is not None:
        rows += [
            ("Index corpus sha256", manifest.corpus_sha256),
            ("Embedder", f"{manifest.embedder} ({manifest.dim}-dim)"),
            ("Index type", manifest.index_type),
            ("Built at", manifest.built_at),
            ("kgrag version", manifest.kgrag_version),
        ]
    rows.append(("LLM model file", services.model_file()))
    table = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<div class="kg-stat-grid">{grid}</div><table class="kg-table kg-kv">{table}</table>'

"""The Index tab: the index manifest, and adding papers to the user's library (`kgrag add`).

An upload goes through `kg.library.add_files` like `kgrag add`: any format it reads (the seed
list, BibTeX, arXiv Atom, CSV, JSONL; judged by the content), the same added / merged /
unchanged / rejected report, then an incremental index update. `build_index_tab` returns the
upload's event, so the app can redraw the header and the other tabs after it, and the overview's
`Redraw` for each page load.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr

from kg.errors import CorpusError, KgragError
from kg.library.documents import keep_pdf
from kg.limits import check_upload_size
from kg.readers import reader_extensions, reader_formats
from kg.readers.pdf import is_pdf
from ui.app_errors import message_for
from ui.app_format import error_box, escape
from ui.app_redraw import Redraw
from ui.app_services import AppServices

FORMAT_CHOICES = ("auto", *reader_formats())  # as `kgrag add --format`
FILE_TYPES = list(reader_extensions())


def build_index_tab(services: AppServices) -> tuple[Any, Redraw]:
    overview = gr.HTML(index_overview(services), elem_id="kg-index-overview")
    with gr.Row():
        refresh = gr.Button("Refresh", elem_id="kg-index-refresh")
        update = gr.Button("Update index", variant="secondary", elem_id="kg-index-update")
    gr.Markdown(
        "### Add papers\nUpload a PDF (the paper itself: its title page, abstract and full "
        "text are read; an image-only or encrypted PDF is refused), or a UTF-8 file as "
        "`kgrag add` reads it: BibTeX (`.bib`, from "
        "Zotero, Google Scholar, DBLP…), arXiv Atom (`.xml`, as the arXiv API returns it), CSV "
        "or JSONL (columns named as the README says, or mapped below), or a paper list in the "
        "corpus format (a category heading such as 基座, then per paper a title line and "
        "`发布时间:`, `发表单位:`, `影响力:`, `摘要:` lines). The format is judged by the content. "
        "The whole file is read first: on any error nothing is added. New papers go into your "
        "library (the shipped list is never changed); a paper already there (same arXiv id, "
        "DOI or title) is merged: empty fields filled, differences reported, nothing "
        "overwritten. The index then embeds only the new text."
    )
    with gr.Row(equal_height=False):
        upload = gr.File(label=f"Library file ({', '.join(FILE_TYPES)})",
                         file_types=FILE_TYPES, type="filepath", elem_id="kg-upload")  # fmt: skip
        with gr.Column():
            fmt = gr.Dropdown(list(FORMAT_CHOICES), value="auto", label="Format",
                              elem_id="kg-upload-format")  # fmt: skip
            mapping = gr.Textbox(label="CSV / JSONL columns (optional)",
                                 placeholder="title=Title,date=Year,authors=Authors",
                                 elem_id="kg-upload-map")  # fmt: skip
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
        fmt: str,
        mapping: str,
        progress: Any = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[str, str, None]:
        message = add_uploaded(services, path, progress, fmt, mapping)
        return message, index_overview(services), None  # cleared, ready for the next file

    refresh.click(do_refresh, None, [overview], api_visibility="private")
    update.click(do_update, None, [overview], api_visibility="private")
    added = add.click(do_add, [upload, fmt, mapping], [result, overview, upload],
                      api_visibility="private")  # fmt: skip
    return added, Redraw(do_refresh, [overview])


def add_uploaded(
    services: AppServices, path: str | None, progress: Any, fmt: str = "auto", mapping: str = ""
) -> str:
    """Add an uploaded library file (`kg.library.add_files`), then update the index; the
    report (or the one error naming the line or entry) as HTML for the page."""
    from kg.readers import parse_mapping

    if not path:
        return error_box("choose a file first: a PDF, BibTeX, arXiv Atom, CSV, JSONL or a paper "
                         "list.")  # fmt: skip
    upload = Path(path)
    kept: Path | None = None  # a PDF copy this upload made, removed again if the add fails
    try:
        try:
            pdf = is_pdf(upload)
            _check_upload(upload, pdf)
            source = upload
            if pdf:  # the paper's PDF must outlive Gradio's temporary copy (its page images)
                source, made = keep_pdf(upload)
                kept = source if made else None
            # recorded under the file's own name: Gradio's temporary copy is deleted below
            report = services.add_files([source], fmt or "auto", parse_mapping(mapping),
                                        names=[upload.name])  # fmt: skip
        finally:
            discard_upload(upload)  # read once: accepted or not, Gradio's copy goes
    except CorpusError as exc:  # `ReaderError` too: the file, the line or entry key, what is wrong
        _remove(kept)
        if exc.path.name not in (upload.name, "--map"):
            return error_box(message_for(exc))  # the library's own list, not the upload
        return rejected_file_html(exc)
    except Exception as exc:
        _remove(kept)
        return error_box(message_for(exc))
    parts = [add_report_html(report)]
    if report.of("added") or report.of("merged"):
        try:
            progress(0, desc="Embedding the new text")
            services.update_index()
            parts.append("<div>The index is up to date.</div>")
        except Exception as exc:
            parts.append(
                error_box("papers were added but the index was not updated: " + message_for(exc))
            )
    return f'<div class="kg-notice">{"".join(parts)}</div>'


def rejected_file_html(exc: CorpusError) -> str:
    """A malformed upload: one message naming the file, the line or entry key, and the fault."""
    where = f"line {exc.line}: " if exc.line else ""
    name = "columns: " if exc.path.name == "--map" else f"{exc.path.name}: "
    return (
        '<div class="kg-error" role="alert"><b>The file was not added.</b> '
        f"{escape(name + where + exc.detail)}<div class='kg-muted'>Nothing was added or merged; "
        "fix the line or entry and upload the file again.</div></div>"
    )


def add_report_html(report: Any) -> str:
    """A `kg.library.AddReport` as `kgrag add` reports it: per entry what happened (fields
    filled, conflicts kept, why rejected), then the counts."""
    added, merged = len(report.of("added")), len(report.of("merged"))
    unchanged, rejected = report.of("unchanged"), report.of("rejected")
    files = "; ".join(f"{escape(p.name)} ({escape(f)}, {n} entries)" for p, f, n in report.files)
    head = (
        f"<b>Added {added} paper(s)</b>, merged {merged}, {len(unchanged)} unchanged, "
        f"{len(rejected)} rejected from {files} · {len(report.corpus.papers)} papers now in "
        f"the corpus (library {escape(str(report.path))})."
    )
    rows = "".join(_outcome_html(o) for o in report.outcomes if o.action != "unchanged")
    listing = f'<ul class="kg-list kg-add-report">{rows}</ul>' if rows else ""
    skipped = ""
    if unchanged:
        titles = ", ".join(escape(o.title) for o in unchanged)
        skipped = (f"<div>Skipped {len(unchanged)} already in the corpus (nothing new in the "
                   f"file): {titles}.</div>")  # fmt: skip
    return f"<div>{head}</div>{listing}{skipped}"


def _outcome_html(outcome: Any) -> str:
    ident = f" <code>{escape(outcome.id)}</code>" if outcome.id else ""
    details = []
    if outcome.filled:
        details.append(f"filled: {escape(', '.join(outcome.filled))}")
    details += [f"conflict in {escape(c.field)}: kept {escape(repr(c.kept))}, the file has "
                f"{escape(repr(c.offered))}" for c in outcome.conflicts]  # fmt: skip
    if outcome.reason:
        details.append(escape(outcome.reason))
    more = "".join(f"<div class='kg-muted'>{d}</div>" for d in details)
    return (
        f'<li data-action="{escape(outcome.action)}"><b>{escape(outcome.action)}</b>{ident} '
        f"{escape(outcome.title)} <span class='kg-muted'>({escape(outcome.source)})</span>"
        f"{more}</li>"
    )


def _check_upload(path: Path, pdf: bool) -> None:
    """The size limit, from the file's metadata before anything reads it whole: a list's, or
    for a PDF the PDF reader's own (`kg.pdf.DEFAULT_MAX_BYTES`, refused naming the file)."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise KgragError(f"cannot read the uploaded file ({exc}).") from exc
    if pdf:
        from kg.pdf import DEFAULT_MAX_BYTES, DEFAULT_MAX_PAGES, PdfLimitError

        if size > DEFAULT_MAX_BYTES:
            raise PdfLimitError(path.name, f"is {size / 1e6:.3g} MB", DEFAULT_MAX_PAGES,
                                DEFAULT_MAX_BYTES)  # fmt: skip
        return
    check_upload_size(size)


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


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

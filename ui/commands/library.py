"""`kgrag add`, `kgrag edit`, `kgrag remove` and `kgrag authors`: the user's own library (no
model loaded).

The index follows by itself: the next command that needs it embeds only new passages."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ui.commands.common import add_corpus_option, add_json_option, corpus_from, print_json


def _format_choices() -> tuple[str, ...]:
    from kg.readers import reader_formats

    return ("auto", *reader_formats())


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add this module's commands to the parser."""
    add = commands.add_parser(
        "add",
        help="add papers from PDFs, BibTeX, arXiv Atom, CSV, JSONL or paper-list files to your "
        "library",
        description="Read every FILE (a folder: every PDF under it; nothing is added if any is "
        "malformed or a PDF is refused), then add new papers, merge ones already known (same "
        "arXiv id, DOI or title: empty fields are filled, differences reported) and write your "
        "library once, atomically. A PDF's full text is searched, cited with its pages.",
    )
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--format", default="auto", choices=_format_choices(),
                     help="file format (default: judged by the content)")  # fmt: skip
    add.add_argument("--map", metavar="FIELD=COLUMN,...",
                     help="CSV/JSONL columns for kgrag fields, e.g. title=Title,date=Year")  # fmt: skip
    add.add_argument("--dry-run", action="store_true",
                     help="report what would change; write nothing")  # fmt: skip
    add_json_option(add)
    add.set_defaults(handler=run_add)

    edit = commands.add_parser(
        "edit",
        help="set a paper's organisation, category or date (written to your library)",
        description="Set the organisation(s), category or date of a paper (by id, as `kgrag "
        "papers` shows it). The values go into your library with the provenance 'edited' and "
        "win over the paper list's, which is never modified.",
    )
    edit.add_argument("id", metavar="ID", help="paper id, as `kgrag papers` shows")
    edit.add_argument("--org", metavar="ORG", help="organisation(s), any alias; several "
                      "separated by commas (谷歌, Google DeepMind)")  # fmt: skip
    edit.add_argument("--category", metavar="C", help="category, Chinese or English "
                      "(多模态, multimodal)")  # fmt: skip
    edit.add_argument("--date", metavar="YYYY-MM", help="publication month (or year YYYY)")
    edit.add_argument("--dry-run", action="store_true", help="report; write nothing")
    add_json_option(edit)
    edit.set_defaults(handler=run_edit)

    remove = commands.add_parser("remove", help="remove papers (by id) from your library")
    remove.add_argument("ids", nargs="+", metavar="ID", help="paper id, as `kgrag papers` shows")
    remove.add_argument("--dry-run", action="store_true", help="report; write nothing")
    add_json_option(remove)
    remove.set_defaults(handler=run_remove)

    authors = commands.add_parser("authors", help="list authors with paper counts and co-authors")
    authors.add_argument("name", nargs="?", metavar="NAME", help="only this author (any spelling)")
    add_corpus_option(authors)
    add_json_option(authors)
    authors.set_defaults(handler=run_authors)


def run_add(args: argparse.Namespace) -> int:
    from kg.library import add_files
    from kg.readers import parse_mapping

    with _page_bar() as progress:
        report = add_files(args.files, args.format, parse_mapping(args.map), dry_run=args.dry_run,
                           progress=progress)  # fmt: skip
    if args.json:
        print_json(add_json(report))
    else:
        _print_add(report)
    _warn_if_overridden()
    return 1 if report.of("rejected") else 0


@contextlib.contextmanager
def _page_bar() -> Iterator[Callable[[int], None] | None]:
    """A count of the PDF pages read, on stderr when it is a terminal (a folder of papers takes
    seconds to minutes); None (no bar) otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(desc="Reading PDFs", unit="page", file=sys.stderr, leave=False) as bar:
        yield bar.update


def add_json(report: Any) -> dict[str, Any]:
    """The `kgrag add --json` shape."""

    def entry(o: Any) -> dict[str, Any]:
        return {"id": o.id, "title": o.title, "source": o.source}

    return {
        "library": str(report.path),
        "dry_run": report.dry_run,
        "files": [{"path": str(p), "format": f, "entries": n} for p, f, n in report.files],
        "added": [entry(o) for o in report.of("added")],
        "merged": [
            {
                **entry(o),
                "filled": list(o.filled),
                "conflicts": [
                    {"field": c.field, "kept": c.kept, "offered": c.offered, "source": c.source}
                    for c in o.conflicts
                ],
            }
            for o in report.of("merged")
        ],  # fmt: skip
        "unchanged": [entry(o) for o in report.of("unchanged")],
        "rejected": [
            {"title": o.title, "source": o.source, "reason": o.reason}
            for o in report.of("rejected")
        ],  # fmt: skip
        "notes": list(report.notes),
        "papers": len(report.corpus.papers),
    }


def _print_add(report: Any) -> None:
    for o in report.outcomes:
        line = f"{o.action:<9} {o.id or '-':<32} {o.title}  ({o.source})"
        if o.filled:
            line += f"\n          filled: {', '.join(o.filled)}"
        for c in o.conflicts:
            line += f"\n          conflict in {c.field}: kept {c.kept!r}, file has {c.offered!r}"
        if o.reason:
            line += f"\n          {o.reason}"
        print(line)
    counts = ", ".join(f"{len(report.of(a))} {a}" for a in
                       ("added", "merged", "unchanged", "rejected"))  # fmt: skip
    verb = "would be" if report.dry_run else "now"
    print(f"{report.path}: {counts}; {len(report.corpus.papers)} papers {verb} in the corpus",
          file=sys.stderr)  # fmt: skip


def run_edit(args: argparse.Namespace) -> int:
    from kg.library import PaperEdit, edit_paper

    edit = PaperEdit(organizations=args.org, category=args.category, date=args.date)
    report = edit_paper(args.id, edit, dry_run=args.dry_run)
    if args.json:
        print_json(edit_json(report))
    else:
        for change in report.changes:
            print(f"{report.paper.id}: {change.field} {_shown(change.old)} → {_shown(change.new)}")
        if not report.changes:
            print(f"{report.paper.id}: nothing to change (it already has these values)")
        verb = "would be written to" if args.dry_run and report.changes else "in"
        print(f"{report.paper.title} ({verb} {report.path})", file=sys.stderr)
    _warn_if_overridden()
    return 0


def edit_json(report: Any) -> dict[str, Any]:
    """The `kgrag edit --json` shape: organisations as lists, the rest as text."""

    def value(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {
        "id": report.paper.id,
        "title": report.paper.title,
        "changed": {c.field: {"old": value(c.old), "new": value(c.new)} for c in report.changes},
        "library": str(report.path),
    }


def _shown(value: Any) -> str:
    text = ", ".join(value) if isinstance(value, tuple) else str(value)
    return repr(text) if text else "(none)"


def run_remove(args: argparse.Namespace) -> int:
    from kg.library import remove_papers

    report = remove_papers(args.ids, dry_run=args.dry_run)
    if args.json:
        print_json({
            "library": str(report.path),
            "removed": [{"id": p.id, "title": p.title} for p in report.removed],
            "papers": len(report.corpus.papers),
        })  # fmt: skip
    else:
        for paper in report.removed:
            print(f"removed   {paper.id:<32} {paper.title}")
        print(f"{report.path}: {len(report.corpus.papers)} papers in the corpus", file=sys.stderr)
    _warn_if_overridden()
    return 0


def run_authors(args: argparse.Namespace) -> int:
    from kg.graph import build_graph
    from kg.queries import author_summaries

    kg = build_graph(corpus_from(args))
    summaries = author_summaries(kg, args.name or None)  # one author's co-authors only
    if args.json:
        print_json([author_json(s) for s in summaries])
    else:
        for s in summaries:
            with_ = ", ".join(f"{n.label} ({c})" for n, c in s.top_coauthors(8))
            more = f", … {s.coauthor_count - 8} more" if s.coauthor_count > 8 else ""
            print(f"{len(s.papers):>3}  {s.author.label:<32} {with_}{more}")
        print(f"{len(summaries)} author(s)", file=sys.stderr)
    _note_unknown_authors(kg)
    return 0


def _note_unknown_authors(kg: Any) -> None:
    """Say which papers' authors are unknown: a listing without them is not the whole truth."""
    from kg.queries import papers_without_authors

    unknown = [p.id for p in papers_without_authors(kg)]
    if unknown:
        shown = ", ".join(unknown[:8]) + (", …" if len(unknown) > 8 else "")
        print(f"kgrag: note: the authors of {len(unknown)} paper(s) are unknown ({shown}); add "
              "them with `kgrag add` (a BibTeX or arXiv entry of the paper).", file=sys.stderr)  # fmt: skip


def author_json(summary: Any) -> dict[str, Any]:
    """One item of the `kgrag authors --json` list."""
    return {
        "id": summary.author.id,
        "name": summary.author.label,
        "papers": [p.id for p in summary.papers],
        "coauthors": [{"name": n.label, "papers": c} for n, c in summary.coauthors],
    }


def _warn_if_overridden() -> None:
    from rag.settings import Settings

    if Settings.from_env().corpus_pinned:  # no --corpus here: pinned means KGRAG_CORPUS
        print("kgrag: note: KGRAG_CORPUS is set, so other commands read that list, not your "
              "library; unset it to use the library.", file=sys.stderr)  # fmt: skip

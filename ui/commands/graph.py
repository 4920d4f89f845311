"""`kgrag` graph commands: stats, papers, lineage, check, export and `eval lineage` (no model
is loaded)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kg.records import paper_json  # the CLI's and the API's shape (re-exported for callers)
from ui.commands.common import add_corpus_option, add_json_option, corpus_from, print_json

__all__ = ["lineage_json", "paper_json", "register"]


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add this module's commands to the parser."""
    stats = commands.add_parser("stats", help="count the graph's nodes and edges by kind")
    _common(stats, run_stats)

    papers = commands.add_parser("papers", help="list papers, filtered by organisation, "
                                 "category or date")  # fmt: skip
    papers.add_argument("--org", help="organisation, any alias (谷歌 = Google)")
    papers.add_argument("--category", help="category, Chinese or English (多模态, multimodal)")
    papers.add_argument("--month", metavar="YYYY-MM", help="published in this month")
    papers.add_argument("--since", metavar="YYYY-MM", help="published in or after this month")
    papers.add_argument("--until", metavar="YYYY-MM", help="published in or before this month")
    papers.add_argument("--exact-org", action="store_true",
                        help="only papers the organisation signs itself, not its labs' "
                        "(by default Google includes Google DeepMind)")  # fmt: skip
    papers.add_argument("--author", help="written by this author (any spelling: T. Dao, Dao, Tri)")
    _common(papers, run_papers)

    lineage = commands.add_parser("lineage", help="what a work builds on and what builds on it")
    lineage.add_argument("name", metavar="NAME", help="paper or work name (llama2, 美杜莎, …)")
    _common(lineage, run_lineage)

    check = commands.add_parser("check", help="validate a paper list and the graph built from it")
    _common(check, run_check)

    export = commands.add_parser("export", help="write the graph as GraphML, GEXF, JSON or "
                                 "Neo4j bulk-import CSVs, or the papers as BibTeX")  # fmt: skip
    export.add_argument(
        "--format", required=True, choices=("graphml", "gexf", "json", "bibtex", "neo4j")
    )
    export.add_argument("--root", metavar="NAME", help="only this work's lineage subgraph")
    export.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write "
                        "(for neo4j, a folder of bulk-import CSVs)")  # fmt: skip
    add_corpus_option(export)
    export.set_defaults(handler=run_export)

    lineage_eval = evals.add_parser(
        "lineage",
        help="precision and recall of lineage edges against a gold file",
        description="Build the graph of a paper list and compare its lineage edges with the "
        "links a gold file lists (JSON, format kgrag-lineage-gold v1).",
    )
    lineage_eval.add_argument("--gold", required=True, metavar="FILE", help="gold lineage JSON")
    _common(lineage_eval, run_eval_lineage)


def _common(parser: argparse.ArgumentParser, handler: Any) -> None:
    add_corpus_option(parser)
    add_json_option(parser)
    parser.set_defaults(handler=handler)


def _graph(args: argparse.Namespace) -> Any:
    from kg.graph import build_graph

    return build_graph(corpus_from(args))


def run_stats(args: argparse.Namespace) -> int:
    from kg.queries import graph_stats

    stats = graph_stats(_graph(args)).to_json()
    if args.json:
        print_json(stats)
        return 0
    print(f"corpus: {stats['corpus']} ({stats['papers']} papers)")
    for title in ("nodes", "edges", "lineage_methods", "lineage_relations"):
        counts = stats[title]
        print(f"{title.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def run_papers(args: argparse.Namespace) -> int:
    from kg.queries import papers_by

    kg = _graph(args)
    papers = papers_by(kg, org=args.org, category=args.category, month=args.month,
                       since=args.since, until=args.until,
                       include_parts=not args.exact_org, author=args.author)  # fmt: skip
    if args.json:
        print_json([paper_json(p) for p in papers])
        return 0
    for p in papers:
        print(f"{p.date}  {p.id:<40}  {', '.join(p.organizations):<28}  {p.title}")
    print(papers_summary(kg, papers, args.org), file=sys.stderr)
    return 0


def papers_summary(kg: Any, papers: list[Any], org: str | None) -> str:
    """ "5 paper(s), 1 of them by Google DeepMind": an organisation's count says what its labs
    add (the same words in the CLI and the app)."""
    from kg.queries import labs_share

    shares = labs_share(kg, org, papers) if org else []
    labs = ", ".join(f"{n} of them by {lab}" for lab, n in shares)
    return f"{len(papers)} paper(s)" + (f", {labs}" if labs else "")


def run_lineage(args: argparse.Namespace) -> int:
    from kg.queries import lineage

    kg = _graph(args)
    family = lineage(kg, args.name)
    if args.json:
        print_json(family.to_json())
        return 0
    print(_node_text(kg, family.root))
    for title, nodes in (("builds on", family.ancestors), ("built on by", family.descendants)):
        print(f"{title}: " + (", ".join(_node_text(kg, n) for n in nodes) or "nothing known"))
    for e in family.edges:
        where = _evidence_place(e)
        print(f"  {e.source.label} —{e.relation}→ {e.target.label}  "
              f"[{e.method}{', ' + where if where else ''}]")  # fmt: skip
        print(f"      “{e.evidence}”")
    return 0


def _evidence_place(edge: Any) -> str:
    """Where a lineage edge's evidence is: the page of a full text's sentence, the line of the
    paper list, or the curated facts' file; nothing for an edge read from a name or title."""
    if edge.page:
        return f"p. {edge.page}"
    if edge.line:
        return f"line {edge.line}"
    return "data/lineage.json" if edge.method == "curated" else ""


def lineage_json(kg: Any, family: Any) -> dict[str, Any]:
    """The `kgrag lineage --json` shape: `Lineage.to_json()` (kept here for older imports)."""
    return dict(family.to_json())


def _node_text(kg: Any, node: Any) -> str:
    return f"{node.label} ({node.kind}, {node.date or 'date unknown'})"


def run_check(args: argparse.Namespace) -> int:
    from kg.check import check_path
    from kg.corpus import default_corpus_path

    report = check_path(default_corpus_path(args.corpus))
    if args.json:
        print_json({
            "source": report.source,
            "papers": report.papers,
            "ok": report.ok,
            "errors": [_problem_json(p) for p in report.errors],
            "warnings": [_problem_json(p) for p in report.warnings],
        })  # fmt: skip
    else:
        for p in report.problems:
            print(f"{report.location(p)}: {p.severity}: {p.message} [{p.code}]")
        print(f"{report.papers} papers, {len(report.errors)} error(s), "
              f"{len(report.warnings)} warning(s)")  # fmt: skip
    return 0 if report.ok else 1


def _problem_json(problem: Any) -> dict[str, Any]:
    """`line` is in `source` (null: the checked file); `entry`: the library entry to fix."""
    return {"code": problem.code, "line": problem.line, "message": problem.message,
            "source": problem.source, "entry": problem.entry}  # fmt: skip


def run_eval_lineage(args: argparse.Namespace) -> int:
    from kg.eval_lineage import evaluate_lineage, format_lineage_report, load_gold

    report = evaluate_lineage(_graph(args), load_gold(args.gold))
    if args.json:
        print_json(report.to_json())
    else:
        sys.stdout.write(format_lineage_report(report))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from kg.export import credited_papers, export, export_bibtex

    kg = _graph(args)
    if args.format == "bibtex":  # every paper, with the authors the graph credits it
        path = export_bibtex(credited_papers(kg), args.output)
        print(f"wrote {path}", file=sys.stderr)
        return 0
    path = export(kg, args.format, args.output, root=args.root)
    print(f"wrote {path}", file=sys.stderr)
    return 0

"""`kgrag citations NAME`: a paper's reference list (each entry with the corpus paper it names,
if any) and the papers of the corpus that cite it (no model is loaded)."""

from __future__ import annotations

import argparse
from typing import Any

from ui.commands.common import add_corpus_option, add_json_option, corpus_from, print_json

__all__ = ["register", "run_citations"]


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add `kgrag citations` to the parser."""
    citations = commands.add_parser(
        "citations", help="a paper's references and the papers of the corpus that cite it"
    )
    citations.add_argument("name", metavar="NAME", help="paper name or id (quillwort, 青梧, …)")
    add_corpus_option(citations)
    add_json_option(citations)
    citations.set_defaults(handler=run_citations)


def run_citations(args: argparse.Namespace) -> int:
    from kg.graph import build_graph
    from kg.queries import paper_citations

    found = paper_citations(build_graph(corpus_from(args)), args.name)
    if args.json:
        print_json(found.to_json())
        return 0
    _print_text(found)
    return 0


def _print_text(found: Any) -> None:
    paper = found.paper
    print(f"{paper.title or paper.label} ({paper.paper_id}, {paper.date or 'date unknown'})")
    if not found.references:
        print("references: none known (the paper has no full text in the corpus)")
    else:
        print(f"references ({len(found.references)}):")
    for number, entry in enumerate(found.references, 1):
        where = f"  → {entry.paper.paper_id} [{entry.how}]" if entry.paper else ""
        print(f"  [{number}] {entry.text}{where}")
    print(
        f"cited by ({len(found.cited_by)}):"
        if found.cited_by
        else "cited by: no paper of the corpus"
    )
    for link in found.cited_by:
        print(f"  {link.paper.paper_id}: {link.paper.title}")
        for page, sentence in link.contexts:
            print(f"      p.{page}: “{sentence}”")

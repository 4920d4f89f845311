"""`kgrag verify` (one claim against a paper) and `kgrag eval verify` (the stress set)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ui.commands.common import (
    add_index_options,
    add_json_option,
    print_json,
    settings_from,
    terminal_safe,
)

# Exit statuses: supported, anything else, bad input.
_SUPPORTED, _NOT_SUPPORTED, _BAD_INPUT = 0, 1, 2


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add `verify` and `eval verify` to the parser."""
    verify = commands.add_parser(
        "verify",
        help="check a claim against a paper: supported, contradicted or not stated",
        description="Check one claim (English or Chinese) against the paper it is about: "
        "supported, contradicted (the paper says otherwise: another figure, a swapped "
        "comparison, a moved property, a negation) or not_stated, with the evidence sentence "
        "and the reasons. Without --paper the paper is found by search. Exit 0 when supported, "
        "1 otherwise, 2 on bad input.",
    )
    verify.add_argument("claim", help="the sentence to check")
    verify.add_argument("--paper", default=None, help="paper id, title or name (default: search)")
    add_index_options(verify)
    add_json_option(verify)
    verify.set_defaults(handler=run_verify)

    stress = evals.add_parser(
        "verify",
        help="share of false claims rejected and faithful ones supported, per kind and part",
        description="Check every claim of a stress file (default data/eval/verify_stress.jsonl) "
        "against its paper and report, per kind and per part (tune, report, all), the share of "
        "false claims rejected and of faithful ones supported.",
    )
    stress.add_argument("--questions", type=Path, default=None, help="JSONL stress file")
    stress.add_argument("--baseline", action="store_true", help="the checker without role binding")
    stress.add_argument("--embedder", default=None, help="embedder (default: the settings')")
    add_json_option(stress)
    stress.set_defaults(handler=run_eval_verify)


def run_verify(args: argparse.Namespace) -> int:
    from kg.corpus import load_corpus
    from kg.errors import AmbiguousNameError, KgragError, UnknownNameError
    from kg.graph import build_graph
    from rag.checking.library import check_claim
    from rag.engine import build_embedder, build_retriever

    settings = settings_from(args)
    kg = build_graph(load_corpus(settings.corpus))
    embedder = build_embedder(settings)
    retriever = None
    if args.paper is None and args.claim.strip():  # the claim's papers are found by search
        retriever = build_retriever(settings, kg.corpus, embedder=embedder, progress=False)
    try:
        verdict = check_claim(kg, args.claim, embedder, retriever, args.paper)
    except (UnknownNameError, AmbiguousNameError) as exc:  # only --paper names a thing
        print(f"kgrag: error: --paper: {terminal_safe(str(exc))}", file=sys.stderr)
        return _BAD_INPUT
    except KgragError as exc:
        print(f"kgrag: error: {terminal_safe(str(exc))}", file=sys.stderr)
        return _BAD_INPUT
    if args.json:
        print_json(verdict.to_json())
    else:
        print(f"{verdict.verdict}: {verdict.claim}")
        if verdict.paper_title:
            print(f"paper: {verdict.paper_title} [{verdict.paper_id}]")
        if verdict.evidence:
            page = f" (p. {verdict.page})" if verdict.page is not None else ""
            print(f"evidence{page}: {verdict.evidence}")
        for reason in verdict.reasons:
            print(f"  - {reason}")
    return _SUPPORTED if verdict.supported else _NOT_SUPPORTED


def run_eval_verify(args: argparse.Namespace) -> int:
    from rag.engine import build_embedder
    from rag.evaluation.verify import (
        STRESS,
        evaluate_verify,
        format_verify,
        load_stress,
        verify_json,
    )

    claims = load_stress(args.questions or STRESS)
    embedder = build_embedder(settings_from(args))
    report = evaluate_verify(claims, embedder, baseline=args.baseline)
    if args.json:
        print_json(verify_json(report))
    else:
        print(format_verify(report))
    return 0

"""`kgrag ask` (a checked, cited answer, streamed), `kgrag eval answers` and `kgrag eval pdf`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ui.commands.common import add_engine_options, add_json_option, print_json, settings_from

if TYPE_CHECKING:
    from rag.answering.engine import Engine
    from rag.answering.records import Answer


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add `ask`, `eval answers` and `eval pdf` to the parser."""
    ask = commands.add_parser(
        "ask",
        help="answer a question from the corpus with verified citations",
        description="Answer a question (English or Chinese) from the corpus. Structural "
        "questions are answered exactly from the graph; others by retrieval + the local LLM, "
        "whose citations are checked sentence by sentence.",
    )
    ask.add_argument("question", help="the question, in English or Chinese")
    add_engine_options(ask)
    add_json_option(ask)
    ask.set_defaults(handler=run_ask)

    answers = evals.add_parser(
        "answers",
        help="evaluate answers: citations, refusals, routes, language, key facts",
        description="Run every question of a JSONL file through `kgrag ask` and score it.",
    )
    answers.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="JSONL question file (default: the shipped data/eval/answers_dev.jsonl)",
    )
    answers.add_argument(
        "--baseline",
        choices=("naive",),
        default=None,
        help="also run a baseline on the same questions in the same run and print both side by "
        "side (naive: top-3 abstracts, 500 characters each, the same LLM, no checks)",
    )
    add_engine_options(answers)
    add_json_option(answers)
    answers.set_defaults(handler=run_eval_answers)

    pdf = evals.add_parser(
        "pdf",
        help="evaluate answers from PDF bodies: the fact stated, cited to its page",
        description="Ask every question of a PDF question file (its PDFs must be in the "
        "library: kgrag add tests/fixtures/pdf/*.pdf) and count the facts stated and the pages "
        "cited right, per part and language.",
    )
    pdf.add_argument("--questions", type=Path, default=None,
                     help="JSONL question file (default: data/eval/pdf_body_dev.jsonl)")  # fmt: skip
    add_engine_options(pdf)
    add_json_option(pdf)
    pdf.set_defaults(handler=run_eval_pdf)


def _engine(args: argparse.Namespace) -> Engine:
    from rag.engine import build_engine

    return build_engine(settings_from(args))


def run_ask(args: argparse.Namespace) -> int:
    from kg.limits import check_question

    check_question(args.question)  # before anything heavy loads
    from rag.answering.pipeline import stream
    from rag.answering.records import Answer

    engine = _engine(args)
    answer: Answer | None = None
    streamed: list[str] = []
    for item in stream(args.question, engine):
        if isinstance(item, Answer):
            answer = item
        elif not args.json:
            streamed.append(item)
            sys.stdout.write(item)
            sys.stdout.flush()
    assert answer is not None
    if args.json:
        print_json(answer.to_json())
    else:
        print_checked(answer, repeat=answer.text.strip() != "".join(streamed).strip())
    return 0


def print_checked(answer: Answer, repeat: bool = True) -> None:
    """The checked answer (what survived verification) and its sources, after the stream."""
    out = sys.stdout
    if repeat:
        out.write("\n\n── checked answer " + "─" * 42 + "\n")
        out.write(answer.text + "\n")
    else:
        out.write("\n")
    notes = [f"route: {answer.route}"]
    if answer.extractive:
        notes.append("extractive")
    if answer.removed_citations:
        notes.append(f"{answer.removed_citations} invented citation(s) removed")
    if answer.unsupported_sentences:
        notes.append(f"{answer.unsupported_sentences} unsupported sentence(s) dropped")
    out.write("(" + "; ".join(notes) + ")\n")
    if answer.sources:
        out.write("\nSources:\n")
        cited = {c.id for c in answer.citations}
        for number, source in enumerate(answer.sources, start=1):
            mark = "*" if source.id in cited else " "
            out.write(f"{mark}{source_mark(number, source.page)} {source.title} ({source.id})\n")
            if source.snippet:
                out.write(f"      {source.snippet}\n")


def source_mark(number: int, page: int | None) -> str:
    """`[P1]`, or `[P1, p. 4]` for a source whose evidence is on a PDF page."""
    return f"[P{number}, p. {page}]" if page is not None else f"[P{number}]"


def run_eval_answers(args: argparse.Namespace) -> int:
    from rag.evaluation.answers import (
        default_questions_path,
        evaluate,
        format_report,
        load_questions,
    )

    questions = load_questions(args.questions or default_questions_path())
    if args.baseline:
        from rag.evaluation.answers import compare, format_comparison

        comparison = compare(questions, _engine(args), args.baseline, progress=not args.json)
        if args.json:
            print_json(comparison.to_json())
        else:
            sys.stdout.write(format_comparison(comparison))
        return 0
    report = evaluate(questions, _engine(args), progress=not args.json)
    if args.json:
        print_json(report.to_json())
    else:
        sys.stdout.write(format_report(report))
    return 0


def run_eval_pdf(args: argparse.Namespace) -> int:
    from rag.evaluation.pdf_answers import (
        DEV_QUESTIONS,
        evaluate,
        format_table,
        load_questions,
        summary,
    )

    questions = load_questions(args.questions or DEV_QUESTIONS)
    results = evaluate(questions, _engine(args), progress=not args.json)
    if args.json:
        print_json({"summary": summary(results), "questions": [r.to_json() for r in results]})
    else:
        sys.stdout.write(format_table(results))
    return 0

"""Evidence budget: how often the asked fact reaches the prompt, per evidence token budget.

For every fact question of `data/eval/answer_facts_dev.jsonl` (no LLM needed): the sources
kgrag would show, and whether one of the question's `expect_any` strings is in their evidence.
This is how `rag.answering.evidence.EVIDENCE_TOKENS` was chosen. Prints figures; asserts nothing.

`python -m bench.evidence --pdf` asks the body-fact questions of data/eval/pdf_body_dev.jsonl
instead, over the five fixture PDFs added to a temporary library, at the default budget, per
part (tune, report) and language: the fact in the prompt and in the best sentence.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from unittest import mock

from kg.tables import DATA_DIR
from rag.answering import evidence
from rag.answering.route import route
from rag.answering.sources import contexts_for
from rag.engine import build_engine
from rag.evaluation.answers import load_questions
from rag.settings import Settings

BUDGETS = (60, 90, 110, 120, 130, 170, 250)


def main(argv: list[str] | None = None) -> None:
    if "--pdf" in (sys.argv[1:] if argv is None else argv):
        pdf_bodies()
        return
    print("== evidence (asked fact in the prompt, by token budget) ==")
    engine = build_engine(Settings.from_env(), progress=False)
    questions = [q for q in load_questions(DATA_DIR / "eval" / "answer_facts_dev.jsonl")
                 if q.kind == "fact"]  # fmt: skip
    for budget in BUDGETS:
        found, quoted, tokens, seconds, misses = 0, 0, [], [], []
        with mock.patch.object(evidence, "EVIDENCE_TOKENS", budget):
            for q in questions:
                start = time.perf_counter()
                contexts, _, chosen = contexts_for(
                    engine, route(engine.kg, q.question), budget=budget
                )
                seconds.append(time.perf_counter() - start)
                text = "\n".join(c.passage for c in contexts).casefold()
                best = chosen.best(contexts[0].paper.id) if contexts else None
                quoted += bool(
                    best and any(e.casefold() in best.text.casefold() for e in q.expect_any)
                )
                tokens.append(evidence.estimate_tokens(text))
                if any(e.casefold() in text for e in q.expect_any):
                    found += 1
                else:
                    misses.append(q.question)
        print(f"budget {budget:>4} tokens: fact in prompt {found}/{len(questions)} "
              f"({found / len(questions):.0%}), evidence tokens p50 {statistics.median(tokens):.0f}"
              f", max {max(tokens)}, best sentence states it {quoted}/{len(questions)}"
              f", selection p50 {statistics.median(seconds) * 1000:.0f} ms")  # fmt: skip
        if budget == evidence.EVIDENCE_TOKENS or misses and budget == BUDGETS[-1]:
            for m in misses:
                print(f"    missing: {m}")


def pdf_bodies() -> None:
    """The asked body fact in the prompt and in the best sentence, per part and language."""
    from bench.pdf import PAPERS, PDFS
    from kg.library import add_files

    print("== evidence over PDF bodies (data/eval/pdf_body_dev.jsonl, default budget) ==")
    rows = [json.loads(line) for line in (DATA_DIR / "eval" / "pdf_body_dev.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        os.environ["KGRAG_DATA_DIR"] = folder
        os.environ.pop("KGRAG_CORPUS", None)
        add_files([PDFS / f"{name}.pdf" for name in PAPERS])
        engine = build_engine(Settings.from_env(), progress=False)
        counts: Counter[tuple[str, str]] = Counter()
        for row in rows:
            analysis = route(engine.kg, row["question"])
            contexts, _, chosen = contexts_for(engine, analysis) if analysis.kind != "graph" \
                else ([], 0.0, None)  # fmt: skip
            text = "\n".join(c.passage for c in contexts)
            best = chosen.best(contexts[0].paper.id) if contexts and chosen else None
            for group in (row["part"], row["lang"], "all"):
                counts[(group, "n")] += 1
                counts[(group, "prompt")] += any(f in text for f in row["expect_any"])
                counts[(group, "best")] += bool(
                    best and any(f in best.text for f in row["expect_any"])
                )
    print("| group | questions | fact in the prompt | fact in the best sentence |")
    print("|---|---|---|---|")
    for group in ("tune", "report", "en", "zh", "all"):
        n = counts[(group, "n")]
        print(f"| {group} | {n} | {counts[(group, 'prompt')]} | {counts[(group, 'best')]} |")


if __name__ == "__main__":
    main()

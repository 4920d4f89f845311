"""Answers from PDF bodies: is the fact stated, and cited to the page it is on?

The question file is JSONL (default `data/eval/pdf_body_dev.jsonl`), one
`{"id", "question", "lang", "pdf": file name, "page": int, "expect_any": [str, ...], "part"}` a
line; the PDFs must be in the library (`kgrag add tests/fixtures/pdf/*.pdf`), found by their file
name. A question counts as answered when the answer holds one of `expect_any` (the fact itself: a
number with its unit, a name); its page is right when the answer's citation of that PDF's paper
carries the question's page. Scores are given for the whole file and for each part
(`report`: never tuned on) and each language.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.corpus import Corpus
from kg.errors import KgragError
from kg.tables import DATA_DIR
from rag.answering.engine import Engine
from rag.answering.records import Answer

__all__ = [
    "DEV_QUESTIONS",
    "PdfQuestion",
    "PdfResult",
    "evaluate",
    "format_table",
    "load_questions",
    "papers_by_pdf",
    "score",
    "summary",
]

DEV_QUESTIONS = DATA_DIR / "eval" / "pdf_body_dev.jsonl"


@dataclass(frozen=True)
class PdfQuestion:
    id: str
    question: str
    language: str
    pdf: str
    page: int
    expect_any: tuple[str, ...]
    part: str | None = None


@dataclass(frozen=True)
class PdfResult:
    question: PdfQuestion
    fact: bool  # the answer states the fact
    cited: bool  # the answer cites the PDF's paper
    cited_page: int | None  # the page that citation carries
    extractive: bool  # a quote, not the model's words
    answer: str

    @property
    def page_right(self) -> bool:
        return self.cited and self.cited_page == self.question.page

    def to_json(self) -> dict[str, Any]:
        q = self.question
        return {"id": q.id, "part": q.part, "lang": q.language, "fact": self.fact,
                "cited": self.cited, "cited_page": self.cited_page, "page": q.page,
                "page_right": self.page_right, "extractive": self.extractive,
                "answer": self.answer}  # fmt: skip


def load_questions(path: Path | str = DEV_QUESTIONS) -> list[PdfQuestion]:
    """The questions of a JSONL file; `KgragError` naming the line of a malformed one."""
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(PdfQuestion(str(row["id"]), str(row["question"]), str(row["lang"]),
                                   str(row["pdf"]), int(row["page"]),
                                   tuple(str(e) for e in row["expect_any"]), row.get("part")))  # fmt: skip
        except (ValueError, KeyError, TypeError) as exc:
            raise KgragError(f"{path}:{number}: not a PDF question line ({exc}).") from exc
    return out


def papers_by_pdf(corpus: Corpus, questions: Sequence[PdfQuestion]) -> dict[str, str]:
    """The library paper read from each question's PDF file name; `KgragError` for any missing."""
    found = {Path(p.pdf_path).name: p.id for p in corpus.papers if p.pdf_path}
    missing = sorted({q.pdf for q in questions} - set(found))
    if missing:
        raise KgragError(f"the library has no paper read from {', '.join(missing)}: add the PDFs "
                         "first (kgrag add tests/fixtures/pdf/*.pdf).")  # fmt: skip
    return found


def score(question: PdfQuestion, answer: Answer, paper_id: str) -> PdfResult:
    cited = [c for c in answer.citations if c.id == paper_id]
    return PdfResult(question, any(e in answer.text for e in question.expect_any), bool(cited),
                     cited[0].page if cited else None, answer.extractive, answer.text)  # fmt: skip


def evaluate(
    questions: Sequence[PdfQuestion], engine: Engine, progress: bool = True
) -> list[PdfResult]:
    """Ask every question of `questions` and score the answer."""
    from rag.answering.pipeline import ask

    papers = papers_by_pdf(engine.kg.corpus, questions)
    items: Iterable[PdfQuestion] = questions
    if progress:
        from tqdm import tqdm

        items = tqdm(questions, desc="questions", unit="q")
    return [score(q, ask(q.question, engine), papers[q.pdf]) for q in items]


def summary(results: Sequence[PdfResult]) -> list[dict[str, Any]]:
    """One row per group (all, each part, each language): counts of facts, right pages, both,
    papers cited and quotes."""
    groups: dict[str, list[PdfResult]] = {"all": list(results)}
    for r in results:
        for key in (r.question.part, r.question.language):
            if key:
                groups.setdefault(key, []).append(r)
    return [
        {"group": name, "n": len(rows), "fact": sum(r.fact for r in rows),
         "page": sum(r.page_right for r in rows),
         "fact_and_page": sum(r.fact and r.page_right for r in rows),
         "cited": sum(r.cited for r in rows), "extractive": sum(r.extractive for r in rows)}
        for name, rows in groups.items()
    ]  # fmt: skip


def format_table(results: Sequence[PdfResult]) -> str:
    lines = ["| group | n | fact | right page | fact and page | paper cited | quotes |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in summary(results):
        n = row["n"] or 1
        cells = [f"{row[k]} ({row[k] / n:.0%})"
                 for k in ("fact", "page", "fact_and_page", "cited", "extractive")]  # fmt: skip
        lines.append(f"| {row['group']} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

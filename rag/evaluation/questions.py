"""Question files of the evaluation harnesses: JSONL, one object a line, gold papers given as
paper ids or title substrings, and an optional `"part"`: `tune` (rules, lexicons and thresholds may
be fitted on it) or `report` (never tuned on: the honest score; see `data/eval/README.md`). Read and
resolved here for every harness (`rag.evaluation.retrieval`, `rag.evaluation.answers`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kg.corpus import Corpus
from kg.errors import KgragError

__all__ = ["PARTS", "QuestionFileError", "line_part", "read_question_lines", "resolve_gold"]

# The parts of a dev set, in the order reports show them; a line without one belongs to neither
# (a question file of one's own) and counts in the whole only.
PARTS = ("tune", "report")


class QuestionFileError(KgragError):
    """A question file line is malformed or names no single paper."""


def read_question_lines(path: Path | str) -> list[tuple[str, Any]]:
    """`(where, record)` for each non-blank line, `where` being `path:line` for messages; a line
    that is not JSON, an unreadable file or one without questions raises `QuestionFileError`."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QuestionFileError(f"cannot read {path} ({exc.strerror or exc}).") from exc
    numbered = [(f"{path}:{n}", line) for n, line in enumerate(lines, start=1) if line.strip()]
    records = [(where, _json_line(where, line)) for where, line in numbered]
    if not records:
        raise QuestionFileError(f"{path} holds no questions (one JSON object per line).")
    return records


def _json_line(where: str, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise QuestionFileError(f"{where}: not JSON ({exc}).") from exc


def line_part(where: str, record: Any) -> str | None:
    """The line's `part` (one of `PARTS`), or None when it has none."""
    part = record.get("part") if isinstance(record, dict) else None
    if part is None or part in PARTS:
        return part
    raise QuestionFileError(f'{where}: "part" must be one of {", ".join(PARTS)}, not {part!r}.')


def resolve_gold(gold: str, corpus: Corpus, where: str = "") -> str:
    """A paper id as given, or the one paper whose title contains `gold` (case-insensitive)."""
    if gold in corpus.by_id():
        return gold
    needle = gold.casefold().strip()
    matches = [p for p in corpus.papers if needle and needle in p.title.casefold()]
    if len(matches) == 1:
        return matches[0].id
    prefix = f"{where}: " if where else ""
    if not matches:
        raise QuestionFileError(f"{prefix}gold {gold!r} is neither a paper id nor part of a title.")
    names = ", ".join(p.id for p in matches[:5])
    raise QuestionFileError(
        f"{prefix}gold {gold!r} matches several titles ({names}); be more specific."
    )

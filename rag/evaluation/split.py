"""The two parts of the dev sets (`data/eval/*_dev.jsonl`): the families a split keeps whole, the
rule that chose the `report` part, and the counts: `python -m rag.evaluation.split`.

A family is every line, in any dev set, asked about the same set of gold papers or naming the same
`"family"`, and what those join with: the paraphrases, translations and follow-ups of one question
share their gold papers (or, out of corpus, a `"family"` name), so tuning on one of them would lift
the others. Any other line without gold papers is a family of its own. No family straddles the
parts.

`propose` chose the report part once, before any system answered a question of it; the parts are
data in each line since (`"part"`, read by `rag.evaluation.questions.line_part`). A new line joins
its family's part; a new family goes where the shares stay near a third. Never tune on `report`.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.corpus import Corpus
from kg.lang import detect_language
from kg.tables import DATA_DIR
from rag.evaluation.questions import PARTS, line_part, read_question_lines, resolve_gold

__all__ = ["DEV_SETS", "REPORT_SHARE", "DevLine", "dev_lines", "family_keys", "format_counts",
           "main", "propose"]  # fmt: skip

EVAL_DIR = DATA_DIR / "eval"
DEV_SETS = (
    "retrieval_dev.jsonl",
    "answers_dev.jsonl",
    "answer_facts_dev.jsonl",
    "injection_dev.jsonl",
    "structural_dev.jsonl",
)
REPORT_SHARE = 1 / 3


@dataclass(frozen=True)
class DevLine:
    """One line of a dev set, as the split sees it."""

    file: str
    where: str
    question: str
    family: str
    part: str | None
    language: str
    kind: str

    def strata(self) -> tuple[tuple[str, ...], ...]:
        """The groups whose report share the split keeps near a third: the file, the file's
        lines in this language, the file's lines of this kind."""
        return (self.file,), (self.file, "lang", self.language), (self.file, "kind", self.kind)


def family_keys(record: dict[str, Any], gold_ids: Iterable[str]) -> tuple[str, ...]:
    """What ties a line to others: its gold papers as a set and its `"family"` name; a line with
    neither is tied by its question alone.

    Example:
        >>> family_keys({"question": "Who wrote GPTQ?"}, ["llama", "gptq", "llama"])
        ('gold:gptq+llama',)
        >>> family_keys({"question": "明天天气?"}, []), family_keys({"family": "mamba"}, [])
        (('question:明天天气?',), ('family:mamba',))
    """
    ids = sorted(set(gold_ids))
    keys = [f"gold:{'+'.join(ids)}"] if ids else []
    keys += [f"family:{record['family']}"] if record.get("family") else []
    return tuple(keys) or (f"question:{record['question']}",)


def _join(keyed: Sequence[tuple[str, ...]]) -> list[str]:
    """One family name per line: lines sharing any key are joined (union-find), the family
    named by its smallest key."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for keys in keyed:
        for key in keys[1:]:
            a, b = sorted((root(keys[0]), root(key)))
            parent[b] = a
    return [root(keys[0]) for keys in keyed]


def dev_lines(
    corpus: Corpus, names: Sequence[str] = DEV_SETS, folder: Path = EVAL_DIR
) -> list[DevLine]:
    """Every line of the named dev sets, with its family, part, language and kind (`class`,
    else `kind`, else `route`)."""
    rows = [(name, where, record) for name in names
            for where, record in read_question_lines(folder / name)]  # fmt: skip
    keys = [
        family_keys(record, [resolve_gold(g, corpus, where) for g in record.get("gold", [])])
        for _, where, record in rows
    ]
    return [
        DevLine(name, where, str(record["question"]), family, line_part(where, record),
                record.get("lang") or detect_language(str(record["question"])),
                record.get("class") or record.get("kind") or record.get("route") or "")
        for (name, where, record), family in zip(rows, _join(keys), strict=True)
    ]  # fmt: skip


def propose(lines: Sequence[DevLine], share: float = REPORT_SHARE) -> frozenset[str]:
    """The families the rule puts in `report`. Starting with none, each family in the order of
    its name's SHA-256 changes part when that lowers Σ (reported − share·n)² / n over the strata
    (`DevLine.strata`); sweeps repeat until no change helps. Deterministic, and blind to any
    system's answers.

    Example:
        >>> lines = [DevLine("a", "", "q", f, None, "en", "fact") for f in "xyz"]
        >>> len(propose(lines))
        1
    """
    sizes = dict(Counter(s for line in lines for s in line.strata()))
    by_family: dict[str, Counter[tuple[str, ...]]] = {}
    for line in lines:
        by_family.setdefault(line.family, Counter()).update(line.strata())

    def loss(reported: Counter[tuple[str, ...]]) -> float:
        return sum((reported[s] - share * n) ** 2 / n for s, n in sizes.items())

    order = sorted(by_family, key=lambda f: hashlib.sha256(f.encode("utf-8")).hexdigest())
    chosen: set[str] = set()
    reported: Counter[tuple[str, ...]] = Counter()
    moved = True
    while moved:
        moved = False
        for family in order:
            trial = (
                reported - by_family[family] if family in chosen else reported + by_family[family]
            )
            if loss(trial) < loss(reported) - 1e-12:
                reported, moved = trial, True
                chosen ^= {family}
    return frozenset(chosen)


def format_counts(lines: Sequence[DevLine]) -> str:
    """Lines per file and part, split by language: the split's table."""
    languages = sorted({line.language for line in lines})
    header = f"{'file':<24}{'part':<8}" + "".join(f"{lang:>6}" for lang in languages)
    rows = [header + f"{'all':>6}{'share':>7}"]
    for name in dict.fromkeys(line.file for line in lines):
        mine = [line for line in lines if line.file == name]
        for part in (*PARTS, None):
            chosen = [line for line in mine if part is None or line.part == part]
            counts = Counter(line.language for line in chosen)
            rows.append(f"{name:<24}{part or 'all':<8}"
                        + "".join(f"{counts[lang]:>6}" for lang in languages)
                        + f"{len(chosen):>6}{len(chosen) / len(mine):>7.0%}")  # fmt: skip
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    from kg.corpus import SHIPPED_CORPUS, load_corpus

    parser = argparse.ArgumentParser(prog="python -m rag.evaluation.split",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.parse_args(argv)
    print(format_counts(dev_lines(load_corpus(SHIPPED_CORPUS))))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

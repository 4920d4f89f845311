"""Measure the title-similarity threshold on `data/eval/pdf_references_dev.json`:
`python -m kg.citations.calibrate` prints the scores and the table `docs/PDF.md` holds.

Each gold entry's title is scored (`title_similarity`) against the title of every other fixture
paper. A pair is positive when the entry cites that paper. Real lists also print a cited title
cut short or with its subtitle changed, so each positive is scored twice more, as variants: its
last word dropped, and its title before the colon dropped (`Tamarack: A benchmark…` → `A
benchmark…`). The threshold is the midpoint between the highest negative and the lowest positive
of the `tune` part; the `report` part (the entries of the files `report_files` names in
`data/citation_resolution.json`, chosen once by `rag.evaluation.split.propose` with the citing
file as the family) is only scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.citations.resolve import RESOLUTION_FILE, title_similarity
from kg.tables import DATA_DIR, load_json

__all__ = ["Pair", "calibrate", "main", "pairs", "score_at"]

DEV_SET = DATA_DIR / "eval" / "pdf_references_dev.json"


@dataclass(frozen=True)
class Pair:
    """An entry's title (or a variant of it) against one fixture paper's title."""

    part: str
    citing: str
    title: str
    candidate: str
    positive: bool
    variant: str
    score: float


def _variants(title: str) -> list[tuple[str, str]]:
    words = title.split()
    head, sep, tail = title.partition(":")
    found = [("as printed", title), ("last word dropped", " ".join(words[:-1]))]
    return found + (
        [("name before the colon dropped", tail.strip())] if sep and tail.strip() else []
    )


def pairs(dev: dict[str, Any], report_files: frozenset[str]) -> list[Pair]:
    """Every scored pair of the dev set, in file and entry order."""
    titles = {name: paper["title"] for name, paper in dev["papers"].items()}
    out = []
    for citing, entries in dev["references"].items():
        part = "report" if citing in report_files else "tune"
        for entry in entries:
            for name, title in titles.items():
                if name == citing:
                    continue
                positive = entry["cites"] == name
                for variant, text in (
                    _variants(entry["title"]) if positive else [("as printed", entry["title"])]
                ):
                    out.append(Pair(part, citing, text, name, positive, variant,
                                    title_similarity(text, title)))  # fmt: skip
    return out


def calibrate(found: list[Pair]) -> float:
    """The midpoint between the tune part's highest negative and lowest positive score."""
    tune = [p for p in found if p.part == "tune"]
    high_negative = max(p.score for p in tune if not p.positive)
    low_positive = min(p.score for p in tune if p.positive)
    return round((high_negative + low_positive) / 2, 2)


def score_at(found: list[Pair], threshold: float, part: str) -> dict[str, int]:
    """True and false positives and negatives of `part` at `threshold`."""
    chosen = [p for p in found if p.part == part]
    return {
        "tp": sum(p.positive and p.score >= threshold for p in chosen),
        "fn": sum(p.positive and p.score < threshold for p in chosen),
        "fp": sum(not p.positive and p.score >= threshold for p in chosen),
        "tn": sum(not p.positive and p.score < threshold for p in chosen),
    }


def main(dev_path: Path = DEV_SET) -> int:
    dev = json.loads(dev_path.read_text(encoding="utf-8"))
    settings = load_json(RESOLUTION_FILE)
    found = pairs(dev, frozenset(settings["report_files"]))
    threshold = calibrate(found)
    print(f"threshold (tune midpoint): {threshold}  (stored: {settings['title_threshold']})")
    for part in ("tune", "report"):
        chosen = [p for p in found if p.part == part]
        neg = max(p.score for p in chosen if not p.positive)
        pos = min(p.score for p in chosen if p.positive)
        print(f"{part}: {sum(p.positive for p in chosen)} positive, "
              f"{sum(not p.positive for p in chosen)} negative pairs; highest negative "
              f"{neg:.3f}, lowest positive {pos:.3f}; {score_at(found, threshold, part)}")  # fmt: skip
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

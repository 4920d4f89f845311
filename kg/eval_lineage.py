"""`kgrag eval lineage`: precision and recall of the graph's lineage edges against a gold file.

Gold file (JSON): `{"format": "kgrag-lineage-gold v1", "edges": [{"child", "parent", "why"?}]}`;
child and parent are paper ids or names (any alias) of corpus papers or works. Predicted edges
are the `builds_on` edges whose child is a paper of the corpus (curated facts between two
outside works are not the corpus's lineage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import KgragError
from kg.names import resolve
from kg.queries import lineage_edges
from kg.records import LineageEdge
from kg.schema import KnowledgeGraph

__all__ = ["GoldEdge", "LineageReport", "evaluate_lineage", "format_lineage_report", "load_gold"]

GOLD_FORMAT = "kgrag-lineage-gold v1"
_WORKS = ("paper", "work")


@dataclass(frozen=True)
class GoldEdge:
    child: str
    parent: str
    why: str = ""


@dataclass(frozen=True)
class LineageReport:
    """Gold and predicted (child id, parent id) pairs, and the predicted edges themselves."""

    gold: tuple[tuple[str, str], ...]
    predicted: tuple[LineageEdge, ...]

    @property
    def pairs(self) -> set[tuple[str, str]]:
        return {(e.source.id, e.target.id) for e in self.predicted}

    @property
    def found(self) -> list[tuple[str, str]]:
        return [g for g in self.gold if g in self.pairs]

    @property
    def missing(self) -> list[tuple[str, str]]:
        return [g for g in self.gold if g not in self.pairs]

    @property
    def extra(self) -> list[LineageEdge]:
        return [e for e in self.predicted if (e.source.id, e.target.id) not in set(self.gold)]

    @property
    def precision(self) -> float:
        return len(self.found) / len(self.pairs) if self.pairs else 1.0

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.gold) if self.gold else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "gold": len(self.gold),
            "predicted": len(self.pairs),
            "correct": len(self.found),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "missing": [{"child": c, "parent": p} for c, p in self.missing],
            "extra": [_edge_json(e) for e in self.extra],
            "edges": [
                _edge_json(e) | {"correct": (e.source.id, e.target.id) in set(self.gold)}
                for e in self.predicted
            ],  # fmt: skip
        }


def load_gold(path: Path | str) -> list[GoldEdge]:
    """Read a gold file; a malformed one is an error naming the file and what is wrong."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != GOLD_FORMAT:
            raise KgragError(f"{path}: the format key must be {GOLD_FORMAT!r}.")
        return [GoldEdge(str(e["child"]), str(e["parent"]), str(e.get("why", "")))
                for e in raw["edges"]]  # fmt: skip
    except OSError as exc:
        raise KgragError(f"cannot read the gold file {path}: {exc.strerror or exc}.") from exc
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise KgragError(f"{path}: not a lineage gold file ({exc}); it must hold "
                         '{"format": "kgrag-lineage-gold v1", "edges": [{"child", "parent"}]}.') from exc  # fmt: skip


def evaluate_lineage(kg: KnowledgeGraph, gold: list[GoldEdge]) -> LineageReport:
    """Compare the graph's lineage edges with the gold ones (names resolved in this graph)."""
    pairs = tuple(dict.fromkeys(
        (resolve(kg, g.child, _WORKS).id, resolve(kg, g.parent, _WORKS).id) for g in gold
    ))  # fmt: skip
    predicted = tuple(e for e in lineage_edges(kg) if e.source.kind == "paper")
    return LineageReport(pairs, predicted)


def format_lineage_report(report: LineageReport) -> str:
    lines = [
        f"lineage edges: {len(report.gold)} gold, {len(report.pairs)} found, "
        f"{len(report.found)} correct",
        f"  precision {report.precision:.3f}   recall {report.recall:.3f}",
    ]
    lines += [f"  MISSING {c} → {p}" for c, p in report.missing]
    lines += [f"  EXTRA   {e.source.id} → {e.target.id} ({e.relation}, {e.method}): "
              f"“{e.evidence[:80]}”" for e in report.extra]  # fmt: skip
    return "\n".join(lines) + "\n"


def _edge_json(edge: LineageEdge) -> dict[str, Any]:
    return {"child": edge.source.id, "parent": edge.target.id, "relation": edge.relation,
            "method": edge.method, "evidence": edge.evidence, "paper": edge.paper,
            "line": edge.line}  # fmt: skip

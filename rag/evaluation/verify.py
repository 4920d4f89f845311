"""`kgrag eval verify`: how often the claim checker rejects false claims and supports true ones.

The stress file (`data/eval/verify_stress.jsonl`) is JSONL, one claim a line: `{"id", "claim",
"paper" (its title), "corpus" (`shipped`, `unseen`: data/eval/verify_unseen_corpus.txt, or
`papers_2024`: data/eval/papers_2024.txt), "source" (the sentence it restates), "kind"
(faithful, swap, negation, inverted_comparison, property_moved, figure_rebound, unstated),
"label" (supported, contradicted, not_stated), "part" (tune, report)}`. Each claim is checked
against its paper's whole entry (`rag.checking.verify.verify_claim`). A false claim counts as
rejected when the verdict is not `supported`; a faithful one when it is. Rates are given per
kind and per part (tune, report, all).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.tables import DATA_DIR
from rag.evaluation.questions import PARTS, QuestionFileError, line_part, read_question_lines

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from rag.checking.verify import Verdict

__all__ = [
    "CORPORA",
    "STRESS",
    "StressClaim",
    "VerifyReport",
    "evaluate_verify",
    "format_verify",
    "load_stress",
    "verify_json",
]

STRESS = DATA_DIR / "eval" / "verify_stress.jsonl"
CORPORA = {
    "shipped": DATA_DIR / "ai_papers_2023.txt",
    "unseen": DATA_DIR / "eval" / "verify_unseen_corpus.txt",
    "papers_2024": DATA_DIR / "eval" / "papers_2024.txt",
}
KINDS = ("faithful", "swap", "negation", "inverted_comparison", "property_moved",
         "figure_rebound", "unstated")  # fmt: skip
LABELS = ("supported", "contradicted", "not_stated")


@dataclass(frozen=True)
class StressClaim:
    id: str
    claim: str
    paper: str
    corpus: str
    kind: str
    label: str
    part: str | None


@dataclass(frozen=True)
class ClaimResult:
    claim: StressClaim
    verdict: str
    reasons: tuple[str, ...]

    @property
    def correct(self) -> bool:
        """A false claim rejected, a faithful one supported."""
        return (self.verdict == "supported") == (self.claim.label == "supported")


@dataclass(frozen=True)
class VerifyReport:
    results: tuple[ClaimResult, ...]
    baseline: bool

    def rate(self, part: str | None = None, kind: str | None = None, false: bool | None = None
             ) -> tuple[int, int]:  # fmt: skip
        """(correct, total) over the results of `part` (None: all), `kind` and, with `false`,
        only false (True) or only faithful (False) claims."""
        chosen = [
            r for r in self.results
            if (part is None or r.claim.part == part) and (kind is None or r.claim.kind == kind)
            and (false is None or (r.claim.label != "supported") == false)
        ]  # fmt: skip
        return sum(r.correct for r in chosen), len(chosen)


def load_stress(path: Path | str = STRESS) -> list[StressClaim]:
    """The claims of a stress file; a malformed line raises `QuestionFileError` naming it."""
    out = []
    for where, record in read_question_lines(path):
        if not isinstance(record, dict):
            raise QuestionFileError(f"{where}: not a JSON object.")
        missing = [
            k for k in ("id", "claim", "paper", "corpus", "kind", "label") if not record.get(k)
        ]
        if missing:
            raise QuestionFileError(f"{where}: missing {', '.join(missing)}.")
        if record["corpus"] not in CORPORA:
            raise QuestionFileError(f"{where}: corpus must be one of {', '.join(CORPORA)}.")
        if record["kind"] not in KINDS or record["label"] not in LABELS:
            raise QuestionFileError(f"{where}: kind or label is not one the harness knows.")
        out.append(StressClaim(record["id"], record["claim"], record["paper"], record["corpus"],
                               record["kind"], record["label"], line_part(where, record)))  # fmt: skip
    return out


def evaluate_verify(
    claims: Sequence[StressClaim],
    embedder: object,
    *,
    baseline: bool = False,
    graphs: Callable[[str], KnowledgeGraph] | None = None,
) -> VerifyReport:
    """Check every claim against its paper; `baseline`: without role binding."""
    from rag.checking.library import find_paper, graph_checker, paper_source
    from rag.checking.verify import verify_claim

    graphs = graphs or _graph
    checkers: dict[str, Any] = {}
    results = []
    for item in claims:
        kg = graphs(item.corpus)
        if item.corpus not in checkers:
            checkers[item.corpus] = graph_checker(kg, embedder)
            checkers[item.corpus].document_vectors = _cached(embedder)
        source = paper_source(kg, find_paper(kg, item.paper))
        verdict: Verdict = verify_claim(item.claim, [source], checkers[item.corpus],
                                        bind_roles=not baseline)  # fmt: skip
        results.append(ClaimResult(item, verdict.verdict, verdict.reasons))
    return VerifyReport(tuple(results), baseline)


def format_verify(report: VerifyReport) -> str:
    """The table: per kind, the share rejected (false claims) or supported (faithful), by part."""
    title = "today's checker (no role binding)" if report.baseline else "with role binding"
    lines = [f"kgrag eval verify — {title}", "",
             f"{'kind':<22}{'tune':>14}{'report':>14}{'all':>14}"]  # fmt: skip
    rows: list[tuple[str, str | None, bool | None]] = [(k, k, None) for k in KINDS]
    rows += [("false rejected", None, True), ("faithful supported", None, False)]
    for label, kind, false in rows:
        cells = [_cell(*report.rate(part, kind, false)) for part in (*PARTS, None)]
        lines.append(f"{label:<22}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def verify_json(report: VerifyReport) -> dict[str, Any]:
    """Rates per part and kind, and the verdict of every claim."""
    parts: dict[str, Any] = {}
    for part in (*PARTS, None):
        name = part or "all"
        parts[name] = {
            "false_rejected": _share(*report.rate(part, None, True)),
            "faithful_supported": _share(*report.rate(part, None, False)),
            "kinds": {k: _share(*report.rate(part, k)) for k in KINDS},
        }
    claims = [{"id": r.claim.id, "kind": r.claim.kind, "label": r.claim.label,
               "part": r.claim.part, "verdict": r.verdict, "correct": r.correct,
               "reasons": list(r.reasons)} for r in report.results]  # fmt: skip
    return {"baseline": report.baseline, "parts": parts, "claims": claims}


def _share(correct: int, total: int) -> dict[str, Any]:
    return {
        "correct": correct,
        "total": total,
        "rate": round(correct / total, 4) if total else None,
    }


def _cell(correct: int, total: int) -> str:
    return f"{correct}/{total} {100 * correct / total:.0f}%" if total else "-"


_GRAPHS: dict[str, Any] = {}


def _graph(corpus: str) -> KnowledgeGraph:
    """The graph of a stress corpus, built once."""
    from kg.corpus import load_corpus
    from kg.graph import build_graph

    if corpus not in _GRAPHS:
        _GRAPHS[corpus] = build_graph(load_corpus(CORPORA[corpus]))
    return _GRAPHS[corpus]  # type: ignore[no-any-return]


def _cached(embedder: Any) -> Callable[[Sequence[str]], Any]:
    """Document vectors embedded once per text (clauses and sentences recur across claims)."""
    import numpy as np

    cache: dict[str, Any] = {}

    def encode(texts: Sequence[str]) -> Any:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode_documents(missing), strict=True))
        return np.stack([cache[t] for t in texts])

    return encode

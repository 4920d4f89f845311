"""Which way a figure goes: a claim keeps the direction its source gives each figure it restates.

"减少了 8,000 倍" restated as "8,000 times more", "节省了 42.5%" as "costs 42.5% more": the figure is
the source's and so is its measure, but the change goes the other way. For each figure of the
claim that the source sentence states with the same value and unit, the direction word nearest
to it in its clause (`data/figure_cues.json` `directions`: up (more, faster, 提高) or down (fewer,
reduces, 节省)) is read on both sides; a claim whose word goes the other way is contradicted. A
figure without a direction word near it on either side is left to the other checks, and so is a
level reached ("falls to 1.3x", 下降到 1.3 倍: the speedup is 1.3x, whichever word says so).
"""

from __future__ import annotations

from rag.checking.figure_text import (
    Figure,
    clause_at,
    clause_start,
    figure_cues,
    figures,
    same_values,
)

__all__ = ["direction_conflicts"]

# The kinds of figure that state a change (a model's size in B is a name's part, not a change).
_CHANGES = ("multiple", "percent")
# How far from a figure (characters, either side, within its clause) its direction word stands.
_REACH = 20


def direction_conflicts(claim: str, source: str) -> list[str]:
    """The claim's figures that go the other way than the same figures of `source`."""
    stated = figures(source)
    out = []
    for figure in figures(claim):
        if figure.kind not in _CHANGES:
            continue
        same = [f for f in stated if _same_unit(f, figure) and same_values(f, figure)]
        ours = _direction(claim, figure)
        theirs = {d for d in (_direction(source, f) for f in same) if d}
        if ours and theirs and ours not in theirs:
            out.append(
                f"the claim gives {figure.text} as {_WORDS[ours]}; the source gives it as "
                f"{_WORDS[theirs.pop()]}: “{clause_at(source, same[0].start).strip()}”"
            )
    return out


def _same_unit(a: Figure, b: Figure) -> bool:
    """One unit, or units of one kind (倍 and times are both multiples)."""
    return a.unit.casefold() == b.unit.casefold() or bool(a.kind) and a.kind == b.kind


def _direction(text: str, figure: Figure) -> str | None:
    """'up' or 'down': the direction word nearest to `figure` within its clause and reach, with
    no other figure between them ("by 8.7% with 54x fewer": fewer is the 54x's)."""
    begin = clause_start(text, figure.start)
    clause = clause_at(text, figure.start)
    at, end = figure.start - begin, figure.start - begin + len(figure.text)
    others = [f.start for f in figures(clause) if f.start != at]
    best: tuple[int, str] | None = None
    for rule in figure_cues().rules("directions"):
        for m in rule.cue.regex.finditer(clause):
            low, high = (m.end(), at) if m.end() <= at else (end, m.start())
            if any(low <= o < high for o in others) or not 0 <= high - low <= _REACH:
                continue
            if best is None or high - low < best[0]:
                level = bool(figure_cues().regex("direction_levels").search(clause[low:high]))
                best = (high - low, "" if level else rule.then)
    return best[1] if best else None


_WORDS = {"up": "an increase or a larger amount", "down": "a decrease or a smaller amount"}

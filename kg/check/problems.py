"""What `kgrag check` reports: each `Problem` (severity, code, message, where to fix it) and
the `Report` of a whole list, which says where each problem is to be fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Problem", "Report"]


@dataclass(frozen=True)
class Problem:
    """`line` is in the checked file unless `source` names another (the list under a library,
    the file an added paper came from); `entry` is the library entry (paper id) to fix."""

    severity: str  # "error" | "warning"
    code: str
    message: str
    line: int | None = None
    paper: str | None = None  # the paper it is about, if one
    source: str | None = None
    entry: str | None = None


@dataclass(frozen=True)
class Report:
    source: str
    papers: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def location(self, problem: Problem) -> str:
        """Where to fix `problem`: `library.jsonl: entry 'id' (from refs.bib:12)`, `file:line`
        or the checked file."""
        if problem.entry:
            name = Path(problem.source or self.source).name
            origin = f" (from {name}:{problem.line})" if problem.line else ""
            return f"{self.source}: entry {problem.entry!r}{origin}"
        source = problem.source or self.source
        return f"{source}:{problem.line}" if problem.line else source

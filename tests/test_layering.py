"""The layers of ARCHITECTURE.md, checked on the source: `kg/` never imports `rag` or `ui`,
`rag/` never imports `ui`, and `ui/` does no graph work (no networkx, no attribute dicts)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("package", "forbidden"), [("kg", {"rag", "ui"}), ("rag", {"ui"}),
                                                     ("ui", {"networkx"})])  # fmt: skip
def test_no_import_runs_back_up(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & forbidden
    }
    assert not offenders


def test_the_ui_reads_no_graph_attributes() -> None:
    walks = re.compile(r"\.graph\.(nodes|edges|in_edges|out_edges|has_node)\b|\.nodes\(data=")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "ui").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if walks.search(line)
    ]
    assert not offenders

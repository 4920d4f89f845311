"""docs/ARCHITECTURE.md maps every module: a module the map does not name is a room nobody can
find. A module is named by its path (`rag/engine.py`), or inside its package's entry by its name
(`rag/checking/` … `roles`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ARCHITECTURE.md"


def _modules() -> list[Path]:
    return sorted(p.relative_to(ROOT) for top in ("kg", "rag", "ui")
                  for p in (ROOT / top).rglob("*.py") if p.name != "__init__.py")  # fmt: skip


def _named(module: Path, doc: str) -> bool:
    if str(module) in doc:
        return True
    package = f"{module.parent}/"
    return package in doc and re.search(rf"`{re.escape(module.stem)}(\.py)?[`( ]", doc) is not None


def test_every_module_is_on_the_architecture_map() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert len(_modules()) > 100
    assert [str(m) for m in _modules() if not _named(m, doc)] == []


def test_the_check_would_see_a_module_missing() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert not _named(Path("rag/checking/no_such_module.py"), doc)
    assert not _named(Path("kg/nowhere.py"), doc)

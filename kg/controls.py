"""Characters that are never text, removed from everything kgrag reads: `strip_controls(text)`
and `clean_paper(paper)` (every field of a record, whatever read it: a reader, the paper list,
the library).

They make exports invalid XML or fool a terminal or an editor: the C0 controls but tab, newline
and carriage return; DEL and the C1 controls; the bidi embeddings, overrides and isolates (text
shown in another order than it is read); lone surrogates (not encodable) and U+FFFE / U+FFFF.
A terminal escape sequence goes whole, leaving no "[31m" behind.
"""

from __future__ import annotations

import dataclasses
import re

from kg.paper import Paper

__all__ = ["clean_paper", "strip_controls"]

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window titles, links
    r"|\x1b[ -/]*[0-~]"  # the other escapes
)
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def strip_controls(text: str) -> tuple[str, int]:
    """`text` without control characters and escape sequences; how many were removed.

    >>> strip_controls("Mam\\x00ba \\x1b[31mred\\x1b[0m\\tok")
    ('Mamba red\\tok', 3)
    """
    text, escapes = _ESCAPE.subn("", text)
    text, controls = _CONTROL.subn("", text)
    return text, escapes + controls


def clean_paper(paper: Paper) -> tuple[Paper, dict[str, int]]:
    """`paper` with `strip_controls` applied to every text of every field (offsets into the
    abstract moved with it), and how many were removed from each field that had any."""
    changes: dict[str, object] = {}
    removed: dict[str, int] = {}
    for name in (f.name for f in dataclasses.fields(paper)):
        value, count = _strip_all(getattr(paper, name))
        if count:
            changes[name], removed[name] = value, count
    if "abstract" in changes:
        changes["abstract_spans"] = tuple(
            (len(strip_controls(paper.abstract[:offset])[0]), line)
            for offset, line in paper.abstract_spans
        )
    return dataclasses.replace(paper, **changes), removed  # type: ignore[arg-type]


def _strip_all(value: object) -> tuple[object, int]:
    """`strip_controls` over a string, or the strings in a tuple (of tuples); the count."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, tuple):
        parts = [_strip_all(v) for v in value]
        return tuple(v for v, _ in parts), sum(n for _, n in parts)
    return value, 0

"""The library file, `$KGRAG_DATA_DIR/library.jsonl`: JSON Lines with a version header,

    {"format": "kgrag-library v1", "about": "…"}
    {"paper": {"id": "flashattention", "title": "…", "authors": ["Tri Dao", …], …}}
    {"removed": {"id": "llama", "title": "LLaMA: …", "keys": ["title:llama…"]}}

read line by line with every line checked (`load_library`), written whole and atomically
(`save_library`), one writer at a time (`locked`).

Why JSON Lines rather than SQLite: one paper a line, so an add or a remove shows up as a few
readable lines in a diff or an editor; the standard library reads and writes it; the header
carries the format version; and a whole-file rewrite (10,000 papers are ~10 MB) replaced with
one `os.replace` is atomic, which is all the transaction this store needs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.controls import clean_paper, strip_controls
from kg.errors import CorpusError, LibraryError, WriteError
from kg.fsutil import atomic_write_text
from kg.limits import check_corpus_size, max_corpus_bytes, read_bounded
from kg.paper import Paper
from kg.paths import user_library_path
from kg.readers.common import parse_json

__all__ = [
    "LIBRARY_FORMAT",
    "LIBRARY_MAGIC",
    "Library",
    "Removal",
    "is_library_file",
    "library_text",
    "load_library",
    "locked",
    "paper_from_json",
    "paper_to_json",
    "read_library",
    "removal_from_json",
    "save_library",
]

LIBRARY_FORMAT = "kgrag-library v1"
LIBRARY_MAGIC = b'{"format": "kgrag-library'  # the first bytes of every library file
_ABOUT = ("kgrag's library: papers added with `kgrag add` (one JSON object a line), layered over "
          "the paper list. Change it with `kgrag add`, `kgrag edit` and `kgrag remove`.")  # fmt: skip


@dataclass(frozen=True)
class Removal:
    """A paper of the list the user removed; `keys` let a later `kgrag add` bring it back."""

    id: str
    title: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    path: Path
    papers: tuple[Paper, ...] = ()
    removed: tuple[Removal, ...] = ()


def load_library(path: Path | None = None, data: bytes | None = None) -> Library:
    """The library at `path` (default: the user's); an empty one if there is no file yet.

    Every line is checked (a hand edit may have broken one): a line that is not a library
    record of the right shape is a `LibraryError` naming the line and its entry."""
    path = path or user_library_path()
    if data is None:
        try:
            data = read_library(path)
        except FileNotFoundError:
            return Library(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data[: exc.start].count(b"\n") + 1
        raise LibraryError(f"{path}:{number}: is not UTF-8 text. {_FIX}") from exc
    papers: list[Paper] = []
    removed: list[Removal] = []
    seen: dict[str, int] = {}  # paper id → its line: two lines of one id, one would be lost
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        record = _record(path, number, line)
        if isinstance(record, Removal):
            removed.append(record)
        elif isinstance(record, Paper):
            if record.id in seen:
                raise LibraryError(f"{path}:{number}: entry {record.id!r}: line {seen[record.id]} "
                                   "has the same id. Merge the two lines into one, or delete "
                                   "one.")  # fmt: skip
            seen[record.id] = number
            papers.append(record)
    return Library(path, tuple(papers), tuple(removed))


_FIX = "Fix or delete that line (each line is one paper; adding its file again brings it back)."


def read_library(path: Path) -> bytes:
    """The library's bytes: a regular file within the paper-list limit (`kg.limits`)."""
    try:
        return read_bounded(path, max_corpus_bytes(), check_corpus_size)
    except FileNotFoundError:
        raise  # no library yet: the caller decides what that means
    except OSError as exc:
        raise LibraryError(f"cannot read {path} ({exc.strerror or exc}).") from exc
    except CorpusError as exc:
        raise LibraryError(f"{exc} Move it away; `kgrag add` then starts a new library.") from exc


def _record(path: Path, number: int, line: str) -> Paper | Removal | None:
    """One line of the library: the header (None), a paper, or a removal."""
    try:
        record = parse_json(line)
        if number == 1:
            _check_header(record)
            return None
        if not isinstance(record, dict) or set(record) not in ({"paper"}, {"removed"}):
            raise ValueError('not {"paper": {…}} or {"removed": {…}}')
        if "paper" in record:
            return paper_from_json(record["paper"])
        return removal_from_json(record["removed"])
    except ValueError as exc:
        raise LibraryError(f"{path}:{number}: {_entry_name(line)}not a library record ({exc}). "
                           f"{_FIX}") from exc  # fmt: skip


def _check_header(record: object) -> None:
    found = record.get("format") if isinstance(record, dict) else None
    if found != LIBRARY_FORMAT:
        raise ValueError(f"format {found!r} is not {LIBRARY_FORMAT}")


def _entry_name(line: str) -> str:
    """`entry 'mamba': ` when the line's id (else title) can be read, for the error message."""
    try:
        record = parse_json(line)
        body = next(iter(record.values())) if isinstance(record, dict) and record else None
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    names = (body.get(k) for k in ("id", "title"))
    name = next((n for n in names if isinstance(n, str) and n.strip()), "")
    return f"entry {strip_controls(name)[0][:80]!r}: " if name else ""


def is_library_file(path: Path) -> bool:
    """Whether the file at `path` starts as a library does (False when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(LIBRARY_MAGIC)) == LIBRARY_MAGIC
    except OSError:
        return False


def library_text(library: Library) -> str:
    """The library file's text: the header, then one line per paper, then one per removal."""
    lines = [json.dumps({"format": LIBRARY_FORMAT, "about": _ABOUT}, ensure_ascii=False)]
    lines += [json.dumps({"paper": paper_to_json(p)}, ensure_ascii=False) for p in library.papers]
    lines += [json.dumps({"removed": {"id": r.id, "title": r.title, "keys": list(r.keys)}},
                         ensure_ascii=False) for r in library.removed]  # fmt: skip
    return "\n".join(lines) + "\n"


def save_library(library: Library) -> None:
    """Write the library atomically: a new file in the same folder, fsynced, then one rename.
    An interruption (an error, Ctrl-C) before the rename leaves the old file as it was."""
    path = library.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LibraryError(f"cannot write {path} ({exc.strerror or exc}).") from exc
    try:
        atomic_write_text(path, library_text(library))  # kg.fsutil: regular files only
    except WriteError as exc:
        raise LibraryError(f"{exc} The library is unchanged.") from exc


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One `kgrag add` / `remove` at a time: each reads, changes and rewrites the whole file."""
    import fcntl

    lock = path.with_name(path.name + ".lock")
    # O_NONBLOCK: a FIFO put in the lock file's place fails to open at once instead of waiting
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # the data folder's place holds a file, or cannot be made
        raise LibraryError(f"cannot use {path.parent} as the data folder "
                           f"({exc.strerror or exc}). Point KGRAG_DATA_DIR at a folder.") from exc  # fmt: skip
    try:
        fd = os.open(lock, flags, 0o666)
    except OSError as exc:
        raise LibraryError(f"cannot lock the library with {lock} ({exc.strerror or exc}). "
                           "Remove it if it is not a file.") from exc  # fmt: skip
    with os.fdopen(fd, "w") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LibraryError(f"cannot lock the library with {lock}: it is not a regular file. "
                               "Remove it.")  # fmt: skip
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def paper_to_json(paper: Paper) -> dict[str, Any]:
    data = dataclasses.asdict(paper)
    return {k: v for k, v in data.items() if v not in ("", [], (), 0) or k in ("id", "title")}


# How each `Paper` field is stored in JSON, by its annotation: (item type, shape), the shape
# 0 for a value, 1 for a list of values, 2 for a list of pairs.
_SHAPES: dict[str, tuple[type, int]] = {
    "str": (str, 0),
    "int": (int, 0),
    "tuple[str, ...]": (str, 1),
    "tuple[tuple[str, str], ...]": (str, 2),
    "tuple[tuple[int, int], ...]": (int, 2),
}
_SHAPE_NAMES = {(str, 0): "text", (int, 0): "a whole number", (str, 1): "a list of text",
                (str, 2): "a list of [text, text] pairs",
                (int, 2): "a list of [number, number] pairs"}  # fmt: skip
_PAPER_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(Paper)}
_PAPER_DEFAULTS = {"organizations": (), "category": "", "category_label": "", "influence": "",
                   "abstract": "", "source": "", "line": 0, "date": ""}  # fmt: skip


def paper_from_json(data: object) -> Paper:
    """A `Paper` from its library JSON; `ValueError` naming the field when it is not one
    (an unknown field, a value of the wrong type). Control characters are removed, as they are
    from every file read (a library written before that may hold some)."""
    if not isinstance(data, dict):
        raise ValueError("the paper is not an object {…}")
    unknown = sorted(set(data) - set(_PAPER_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    values = {
        name: _typed(name, value, _SHAPES[_PAPER_FIELDS[name]]) for name, value in data.items()
    }
    for name in ("id", "title"):
        if not str(values.get(name, "")).strip():
            raise ValueError(f"field {name!r} is missing or empty")
    paper, _removed = clean_paper(Paper(**{**_PAPER_DEFAULTS, **values}))
    return paper


def removal_from_json(data: object) -> Removal:
    """A `Removal` from its library JSON (`{"id", "title", "keys"}`); `ValueError` if not one."""
    shapes = {"id": (str, 0), "title": (str, 0), "keys": (str, 1)}
    if not isinstance(data, dict) or set(data) != set(shapes):
        raise ValueError('a removal is {"id": …, "title": …, "keys": […]}')
    values = {name: _typed(name, data[name], shape) for name, shape in shapes.items()}
    keys = tuple(strip_controls(k)[0] for k in values["keys"])
    return Removal(strip_controls(values["id"])[0], strip_controls(values["title"])[0], keys)


def _typed(name: str, value: object, shape: tuple[type, int]) -> Any:
    """`value` as the field stores it (lists as tuples), or `ValueError` naming the field."""
    if not _fits(value, *shape):
        raise ValueError(f"field {name!r} is not {_SHAPE_NAMES[shape]}")
    if shape[1] == 0:
        return value
    return tuple(tuple(v) if isinstance(v, list) else v for v in value)  # type: ignore[attr-defined]


def _fits(value: object, kind: type, shape: int) -> bool:
    if shape == 0:
        return isinstance(value, kind) and not isinstance(value, bool)
    if not isinstance(value, list):
        return False
    if shape == 1:
        return all(_fits(v, kind, 0) for v in value)
    return all(isinstance(v, list) and len(v) == 2 and _fits(v, kind, 1) for v in value)

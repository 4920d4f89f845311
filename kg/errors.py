"""Typed errors raised by the kgrag library. Each message says what to do.

Only the CLI and the app turn these into user-facing messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class KgragError(Exception):
    """Base class of every error kgrag raises on purpose."""


class CorpusError(KgragError):
    """A paper list could not be read or parsed."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class UnknownNameError(KgragError):
    """No work, paper, organisation or category goes by this name."""

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown name {name!r}.{hint} Try `kgrag papers` to list the corpus.")


class UnknownAuthorError(UnknownNameError):
    """No author of the corpus goes by this name. `unlisted` are the ids of the papers whose
    authors are not known: the person may have written one of them."""

    def __init__(
        self, name: str, suggestions: Sequence[str] = (), unlisted: Sequence[str] = ()
    ) -> None:
        super().__init__(name, suggestions)
        self.unlisted = tuple(unlisted)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        shown = ", ".join(self.unlisted[:5]) + (", …" if len(self.unlisted) > 5 else "")
        unknown = (f" The authors of {len(self.unlisted)} paper(s) are unknown ({shown}); add "
                   "them with `kgrag add` (a BibTeX or arXiv entry of the paper)."
                   if self.unlisted else "")  # fmt: skip
        Exception.__init__(self, f"no author {name!r} in the corpus.{hint}{unknown}")


class AmbiguousNameError(KgragError):
    """A name matches several things; the caller must pick one."""

    def __init__(self, name: str, candidates: Sequence[str]) -> None:
        self.name = name
        self.candidates = tuple(candidates)
        super().__init__(
            f"{name!r} is ambiguous: it could be {', '.join(self.candidates)}. Use a fuller name."
        )


class WriteError(KgragError):
    """A file could not be written; any earlier file at the path is left intact."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(message)


class NotARegularFileError(WriteError):
    """The output path is a device, FIFO, socket or folder: kgrag writes only regular files."""


class ExportError(WriteError):
    """An export could not be written; any earlier file at the path is left intact."""


class ReaderError(CorpusError):
    """A library file (BibTeX, arXiv Atom, CSV, JSONL) is malformed; nothing from it was added.

    Names the file, the line (or the entry's key) and what is wrong."""

    def __init__(
        self, path: Path | str, line: int | None, message: str, key: str | None = None
    ) -> None:
        self.key = key
        super().__init__(path, line, f"entry {key!r}: {message}" if key else message)


class LibraryError(KgragError):
    """The user's library (`library.jsonl` in the data folder) cannot be read, written or changed."""


class InvalidFieldError(KgragError):
    """A value given for a paper's field is not one kgrag can store (`kgrag edit`: an unknown
    category, a malformed date); nothing was changed."""

    def __init__(self, field: str, value: str, expected: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field} {value!r} is not {expected}. Nothing was changed.")


class LimitError(KgragError):
    """An input is larger than kgrag's documented limit for it (the message names the limit)."""

"""Add papers to the user's own copy of the paper list (the shipped `data/` file is never touched).

An uploaded list is validated with `kg.corpus.parse_corpus` first; on any error nothing is
written. Otherwise its new papers (duplicates by title are skipped and reported) are appended,
under their category headings, to `kg.paths.user_corpus_path()` — made from the base corpus on
first use — and the merged file is re-parsed before it atomically replaces the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.corpus import load_corpus
from kg.errors import WriteError
from kg.fsutil import atomic_write_text
from kg.limits import check_corpus_size, max_corpus_bytes, read_bounded
from kg.paper import Corpus, Paper
from kg.paths import base_list_path, user_corpus_path
from kg.readers.seed import parse_corpus
from kg.tables import fold, load_category_table

__all__ = ["MergeResult", "add_papers"]


@dataclass(frozen=True)
class MergeResult:
    """What an upload changed: papers added, papers skipped as duplicates, the merged corpus."""

    path: Path
    added: tuple[Paper, ...]
    duplicates: tuple[Paper, ...]
    corpus: Corpus
    unknown_organizations: tuple[tuple[int, str], ...] = ()


def add_papers(text: str, source: str = "<upload>", base: Path | None = None) -> MergeResult:
    """Validate `text` and merge its new papers into the user's corpus copy, atomically.

    Raises `CorpusError` (with the upload's line number) and writes nothing when the upload is
    malformed. With no new paper (all duplicates) the user's copy is left as it was.
    """
    upload = parse_corpus(text, source)
    base_path = base if base is not None else base_list_path()
    existing = load_corpus(base_path)
    new, duplicates = _split_duplicates(existing.papers, upload.papers)
    target = user_corpus_path()
    if not new:
        return MergeResult(target, (), duplicates, existing, upload.unknown_organizations)
    base_text = _read_list(base_path)
    merged_text = base_text.rstrip("\n") + "\n\n" + _entries_text(text, upload, new)
    merged = parse_corpus(merged_text, target)  # never write a file that does not parse
    _write_atomically(target, merged_text)
    added = tuple(p for p in merged.papers if fold(p.title) in {fold(n.title) for n in new})
    return MergeResult(target, added, duplicates, load_corpus(target), upload.unknown_organizations)


def _split_duplicates(
    existing: tuple[Paper, ...], uploaded: tuple[Paper, ...]
) -> tuple[tuple[Paper, ...], tuple[Paper, ...]]:
    seen = {fold(p.title) for p in existing}
    new: list[Paper] = []
    duplicates: list[Paper] = []
    for paper in uploaded:
        key = fold(paper.title)
        (duplicates if key in seen else new).append(paper)
        seen.add(key)
    return tuple(new), tuple(duplicates)


def _entries_text(text: str, upload: Corpus, keep: tuple[Paper, ...]) -> str:
    """The upload's lines for the kept papers, each group under its category heading."""
    lines = text.splitlines()
    categories = load_category_table()
    ignored = {i.line for i in upload.ignored}
    starts = sorted(p.line for p in upload.papers)
    kept_lines = {p.line for p in keep}
    out: list[str] = []
    heading = None
    for paper in sorted(upload.papers, key=lambda p: p.line):
        if paper.line not in kept_lines:
            continue
        if paper.category_label != heading:
            heading = paper.category_label
            out += [heading, ""]
        end = next((s for s in starts if s > paper.line), len(lines) + 1)
        for number in range(paper.line, end):
            line = lines[number - 1]
            if number in ignored or categories.lookup(line.strip()) is not None:
                continue
            out.append(line)
        while out and not out[-1].strip():
            out.pop()
        out.append("")
    return "\n".join(out)


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create {path.parent} for your copy of the paper list "
                         f"({exc.strerror or exc}); set KGRAG_DATA_DIR to a folder you can "
                         "write to.", path) from exc  # fmt: skip
    atomic_write_text(path, text)


def _read_list(path: Path) -> str:
    """The paper list's text, bounded like every read of a list (it was just parsed whole)."""
    return read_bounded(path, max_corpus_bytes(), check_corpus_size).decode("utf-8-sig")

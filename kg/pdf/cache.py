"""Extracted text kept by the PDF's sha256: `<cache_dir>/<sha256>.json`, one file per PDF,
written atomically (`kg.fsutil`), so reading the same bytes again (under any name) costs a hash
and a JSON load.

An entry records its format and `PARSER_VERSION`; an entry of another version, or one that
cannot be read, is ignored and rewritten, so a better extractor never serves stale text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kg.errors import WriteError
from kg.fsutil import atomic_write_text
from kg.pdf.records import PdfDocument

__all__ = ["CACHE_FORMAT", "PARSER_VERSION", "cache_path", "load_cached", "store"]

CACHE_FORMAT = "kgrag-pdf-text v1"
# Raise when extraction changes what it returns for the same PDF: older entries are re-read.
PARSER_VERSION = 2  # 2: a display formula's stray rows go back to the formula
_SHA256 = re.compile(r"[0-9a-f]{64}")


def cache_path(cache_dir: Path, sha256: str) -> Path:
    """Where the entry of the PDF with this sha256 lives."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return cache_dir / f"{sha256}.json"


def load_cached(cache_dir: Path, sha256: str) -> PdfDocument | None:
    """The cached document of these bytes, or None (absent, other version, unreadable)."""
    try:
        raw = json.loads(cache_path(cache_dir, sha256).read_text(encoding="utf-8"))
        if raw.get("format") != CACHE_FORMAT or raw.get("parser") != PARSER_VERSION:
            return None
        document = PdfDocument.from_json(raw["document"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return document if document.sha256 == sha256 else None


def store(cache_dir: Path, document: PdfDocument) -> bool:
    """Keep `document` under its sha256; False when the cache folder cannot be written (the
    read itself still succeeded: the cache only saves time)."""
    payload = {"format": CACHE_FORMAT, "parser": PARSER_VERSION, "document": document.to_json()}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache_path(cache_dir, document.sha256),
                          json.dumps(payload, ensure_ascii=False))  # fmt: skip
    except (OSError, WriteError):
        return False
    return True

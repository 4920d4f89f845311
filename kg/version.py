"""kgrag's own version, as installed (`kgrag --version`, the index manifest)."""

from __future__ import annotations


def kgrag_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kgrag")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"

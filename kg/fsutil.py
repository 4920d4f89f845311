"""Safe writes: every file kgrag writes goes through `atomic_write` (or a `staging_dir`).

- Only regular files are written: a device, FIFO, socket or folder at the output path is refused
  with `NotARegularFileError` (renaming over `/dev/null` or a FIFO would silently replace it).
- A symlink is followed: the file it points to is replaced, the link stays.
- The data goes to a temporary file beside the target, is flushed to disk, then renamed over the
  target in one step, so a failed write leaves any earlier file intact and never a half file.
- New files and folders get the modes the user's umask allows (created with 0o666 / 0o777 and
  let the kernel apply the umask); `tempfile.mkstemp`/`mkdtemp` would give 0600 / 0700.
- A folder that cannot itself be renamed (a mount point: EBUSY; and EXDEV, EPERM) is updated
  file by file instead (`replace_contents`): each file is renamed into place in one step and the
  folder's manifest is removed first and put back last, so a reader sees no manifest (nothing to
  trust) or the complete new one, never old and new files passing for one index.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from kg.errors import NotARegularFileError, WriteError

__all__ = [
    "file_sha256",
    "file_kind",
    "atomic_write",
    "atomic_write_text",
    "check_output_path",
    "check_writable",
    "is_mount_point",
    "is_read_only",
    "output_folder",
    "remove_tree",
    "replace_contents",
    "staging_dir",
    "swap_in_folder",
]

_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, for an error message: "a FIFO (named pipe)", "a folder", …"""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_output_path(path: Path | str, error: type[WriteError] = WriteError) -> Path:
    """The file to write for `path` (symlinks followed); refuse anything but a regular file.

    Raises `NotARegularFileError` for a device, FIFO, socket or folder, and `error` when the
    folder that would hold the file does not exist.
    """
    target = Path(os.path.realpath(path))
    try:
        # stat the path as given (following links): /dev/stdout → /proc/self/fd/1 → a pipe has
        # no path realpath could name, but its stat still says FIFO.
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise error(f"cannot write {path}: {exc.strerror or exc}.", path) from exc
    if mode is not None and not stat.S_ISREG(mode):
        kind = file_kind(mode)
        hint = "give a file path" if stat.S_ISDIR(mode) else "give the path of a regular file"
        raise NotARegularFileError(
            f"{path} is {kind}; kgrag writes only regular files: {hint}.", path
        )
    if not target.parent.is_dir():
        raise error(
            f"cannot write {path}: folder {target.parent} does not exist. Create it first.", path
        )
    return target


def output_folder(path: Path | str, error: type[WriteError], hint: str) -> Path:
    """The real folder to write for `path` (a symlink is followed, not replaced); `error` saying
    `hint` (what to do) when something other than a folder is there."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_dir():
        raise error(f"{path} is not a folder; {hint}.", path)
    return target


def atomic_write(
    path: Path | str,
    write: Callable[[BinaryIO], None],
    error: type[WriteError] = WriteError,
) -> Path:
    """Write a regular file at `path` with `write(handle)`, all or nothing; return the file written.

    Failures raise `error` (a `WriteError` subclass) naming the path; a special file at the path
    raises `NotARegularFileError` whatever `error` is.
    """
    target = check_output_path(path, error)
    temp, fd = _create_temp(target, error)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        check_output_path(path, error)  # it may have changed while we wrote
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise error(f"cannot write {path}: {exc.strerror or exc}. Any earlier file there is "
                    "unchanged.", path) from exc  # fmt: skip
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: Path | str, text: str, error: type[WriteError] = WriteError) -> Path:
    """`atomic_write` of UTF-8 text."""
    data = text.encode("utf-8")

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return atomic_write(path, write, error)


def _create_temp(target: Path, error: type[WriteError]) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temp, os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise error(f"cannot write to {target.parent}: {exc.strerror or exc}. Choose a "
                        "folder you can write to.", target) from exc  # fmt: skip


def staging_dir(parent: Path, prefix: str) -> Path:
    """A new empty folder `parent/<prefix><random>` with umask-respecting modes."""
    while True:
        folder = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            os.mkdir(folder, 0o777)
            return folder
        except FileExistsError:
            continue


def remove_tree(path: Path) -> bool:
    """Remove a folder kgrag made, even one whose modes were made read-only; False if it stays."""

    def make_writable_and_retry(function: Callable[..., object], name: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(name) or ".", 0o700)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, 0o700)
            function(name)
        except OSError:
            pass

    if not path.is_dir() or path.is_symlink():
        return not path.exists()
    shutil.rmtree(path, onerror=make_writable_and_retry)  # onexc needs 3.12
    return not path.exists()


def swap_in_folder(staging: Path, folder: Path, last: str | None = None) -> bool:
    """Put the folder `staging` in place of `folder` in one step (the folder-sized `atomic_write`:
    readers see the old contents or the new, never a mix), then remove the old contents.

    `folder` may be absent. Where the kernel cannot exchange two paths, the old folder is moved
    aside first and put back if the second rename fails. Where `folder` cannot be renamed at all
    (a mount point), its files are replaced one by one, `last` (the manifest) last
    (`replace_contents`). Returns False when the old contents could not be removed (they are left
    in a `.<name>-old-*` folder beside `folder`).
    """
    if not folder.exists():
        os.rename(staging, folder)
        return True
    if not is_mount_point(folder):
        try:
            return _swap_whole(staging, folder)
        except OSError as exc:
            if exc.errno not in _FOLDER_STAYS:
                raise
    replace_contents(staging, folder, last)
    return remove_tree(staging)


# rename(2) of a folder that must stay where it is: a mount point (EBUSY), a folder on another
# mount than the staging one (EXDEV), a filesystem that refuses to rename folders (EPERM).
_FOLDER_STAYS = (errno.EBUSY, errno.EXDEV, errno.EPERM)


def is_mount_point(folder: Path) -> bool:
    """Whether `folder` is a mount point, which no rename can move or replace."""
    return os.path.ismount(folder)


def _swap_whole(staging: Path, folder: Path) -> bool:
    if exchange_paths(staging, folder):
        return remove_tree(staging)  # it now holds the previous contents
    old = staging_dir(folder.parent, f".{folder.name}-old-")
    try:
        os.rename(folder, old / folder.name)
    except OSError:
        remove_tree(old)
        raise
    try:
        os.rename(staging, folder)
    except OSError:
        os.rename(old / folder.name, folder)  # put the previous contents back
        raise
    return remove_tree(old)


def replace_contents(staging: Path, folder: Path, last: str | None = None) -> None:
    """Move each file of `staging` into `folder`, replacing the file of that name in one step.

    `last` (a manifest) is removed before the first file moves and put in place after all the
    others, so a reader never takes old and new files for one complete set. Files of `folder`
    that `staging` lacks are left alone (a mount point may hold `lost+found`)."""
    names = sorted(p.name for p in staging.iterdir() if p.name != last)
    if last is not None:
        (folder / last).unlink(missing_ok=True)
        if (staging / last).exists():
            names.append(last)
    for name in names:
        _move_into(staging / name, folder / name)
    _fsync_folder(folder)


def _move_into(source: Path, target: Path) -> None:
    """`os.replace`, or where `source` is on another mount, a copy beside `target` renamed over it."""
    try:
        os.replace(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with source.open("rb") as src, open(temp, "xb") as dst:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    source.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable (some filesystems cannot open a folder: skip)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(folder: Path) -> None:
    """Raise the OSError a write in `folder` would meet (a read-only mount, modes, a full inode
    table), by creating and removing a probe file there: asked before a long job, not after it."""
    if is_read_only(folder):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder))
    probe = folder / f".kgrag-probe-{secrets.token_hex(4)}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    os.close(fd)
    os.unlink(probe)


def is_read_only(path: Path) -> bool:
    """Whether `path` lies on a read-only mount (which stops root too, whatever the modes say)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (models are gigabytes): the one file hasher
    (model store, doctor, index manifest)."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()

"""Every write is to a regular file, atomic, with the modes the user's umask gives."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.errors import ExportError, NotARegularFileError
from kg.export import export
from kg.fsutil import atomic_write_text, remove_tree, staging_dir
from kg.graph import KnowledgeGraph


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_an_export_onto_a_fifo_is_refused_and_the_fifo_stays(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match="FIFO"):
        export(kg, "json", fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"], "no temporary file is left"


def test_an_export_onto_a_character_device_copy_is_refused(
    kg: KnowledgeGraph, tmp_path: Path
) -> None:
    """As root, `mknod` makes a copy of /dev/full; renaming over it would replace the device."""
    device = tmp_path / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.stat("/dev/full").st_rdev)
    except (PermissionError, FileNotFoundError):
        pytest.skip("mknod needs root and /dev/full")
    with pytest.raises(NotARegularFileError, match="character device"):
        export(kg, "graphml", device)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_dev_null_and_a_symlink_to_it_are_refused(kg: KnowledgeGraph, tmp_path: Path) -> None:
    with pytest.raises(NotARegularFileError):
        export(kg, "json", "/dev/null")
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    with pytest.raises(NotARegularFileError):
        export(kg, "json", link)
    assert link.is_symlink()


def test_a_socket_and_a_folder_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(NotARegularFileError, match="socket"):
            atomic_write_text(path, "x")
    with pytest.raises(NotARegularFileError, match="folder"):
        atomic_write_text(tmp_path, "x")


def test_a_symlink_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


@pytest.mark.usefixtures("umask")
def test_written_files_follow_the_umask(kg: KnowledgeGraph, tmp_path: Path) -> None:
    export(kg, "json", tmp_path / "kg.json")
    assert stat.S_IMODE(os.stat(tmp_path / "kg.json").st_mode) == 0o644
    os.umask(0o077)
    atomic_write_text(tmp_path / "private.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "private.txt").st_mode) == 0o600


@pytest.mark.usefixtures("umask")
def test_staging_folders_follow_the_umask(tmp_path: Path) -> None:
    folder = staging_dir(tmp_path, ".x-new-")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755


def test_a_read_only_tree_kgrag_made_can_still_be_removed(tmp_path: Path) -> None:
    tree = tmp_path / "old"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x", encoding="utf-8")
    for path in (tree / "sub", tree):
        path.chmod(0o500)
    assert remove_tree(tree) and not tree.exists()


def test_export_errors_stay_export_errors(kg: KnowledgeGraph, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export(kg, "json", tmp_path / "nowhere" / "x.json")


def test_kgrag_export_to_dev_stdout_on_a_pipe_is_refused(run_kgrag) -> None:  # type: ignore[no-untyped-def]
    done = run_kgrag("export", "--format", "json", "-o", "/dev/stdout")
    assert done.returncode == 2
    assert "FIFO" in done.stderr and "regular file" in done.stderr and done.stdout == ""

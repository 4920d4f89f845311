"""Index folders that cannot be renamed or written: a mount point is updated file by file, and a
read-only place is refused before any embedding, in one clear line (FAISS and Milvus Lite).

Two kinds of test: with the kernel's answers simulated (`FakeMount`: rename gives EBUSY as on a
mount point, writes give EROFS as on a read-only mount, which stops root too), and with real
mounts in a private mount namespace (`unshare -rm`), skipped where the system allows none.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kg import fsutil
from kg.corpus import Corpus, load_corpus
from rag.indexing.index import open_index, read_manifest
from rag.stores.base import IndexWriteError
from rag.stores.faiss import MANIFEST, PASSAGES, VECTORS
from tests.fixtures.kg import REPO, paper_entry

INDEX_FILES = [MANIFEST, PASSAGES, VECTORS]


def small_corpus(folder: Path, papers: int) -> Corpus:
    path = folder / f"papers-{papers}.txt"
    entries = [paper_entry(f"Sparse Widget Model {i}", abstract=f"关于部件 {i} 的摘要。")
               for i in range(papers)]  # fmt: skip
    path.write_text("基座\n\n" + "\n".join(entries), "utf-8")
    return load_corpus(path)


def refuse_writes(monkeypatch: pytest.MonkeyPatch, refuses: Callable[[Path], bool]) -> None:
    """Every write call on a path `refuses` names fails with EROFS, as on a read-only mount."""
    real_open, real_os_open = io.open, os.open
    originals = {name: getattr(os, name) for name in ("mkdir", "replace", "unlink", "rename")}

    def refused(path: object) -> bool:
        return isinstance(path, str | os.PathLike) and refuses(Path(path))

    def erofs(path: object) -> OSError:
        return OSError(errno.EROFS, "Read-only file system", str(path))

    def guarded_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(c in mode for c in "wax+") and refused(file):
            raise erofs(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and refused(path):
            raise erofs(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guarded(name: str):  # type: ignore[no-untyped-def]
        def call(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if refused(path) or (args and refused(args[0])):
                raise erofs(path)
            return originals[name](path, *args, **kwargs)

        return call

    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for name in originals:
        monkeypatch.setattr(os, name, guarded(name))


class FakeMount:
    """`folder` behaves as a mount point: no rename moves it (EBUSY, as the kernel answers), and
    `os.path.ismount` says so unless `detected` is False (a bind mount on the same filesystem).
    With `read_only`, every write inside it fails with EROFS."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path, *, detected: bool = True,
                 read_only: bool = False) -> None:  # fmt: skip
        self.folder = folder.resolve()
        real_exchange, real_rename, real_ismount = (
            fsutil.exchange_paths, os.rename, os.path.ismount,
        )  # fmt: skip

        def exchange(a: Path, b: Path) -> bool:
            if self.folder in (Path(a).resolve(), Path(b).resolve()):
                raise OSError(errno.EBUSY, "Device or resource busy", str(b))
            return real_exchange(a, b)

        def rename(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.folder in (Path(src).resolve(), Path(dst).resolve()):
                raise OSError(errno.EBUSY, "Device or resource busy", str(src))
            return real_rename(src, dst, *args, **kwargs)

        monkeypatch.setattr(fsutil, "exchange_paths", exchange)
        monkeypatch.setattr(os, "rename", rename)
        if detected:
            monkeypatch.setattr(
                os.path, "ismount", lambda p: Path(p).resolve() == self.folder or real_ismount(p)
            )
        if read_only:
            refuse_writes(monkeypatch, lambda p: self.folder in (p.resolve(), *p.resolve().parents))


def leftovers(*folders: Path) -> list[str]:
    return sorted(p.name for f in folders for p in f.iterdir() if p.name.startswith(".ix-"))


# ---------------------------------------------------------------------- simulated mounts


def test_an_index_folder_no_rename_can_move_is_updated_file_by_file(
    hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ix"
    folder.mkdir()
    FakeMount(monkeypatch, folder, detected=False)  # EBUSY at the swap, nothing seen before
    assert open_index(small_corpus(tmp_path, 2), hashing_embedder, folder, progress=False
                      ).state.action == "built"  # fmt: skip
    grown = small_corpus(tmp_path, 3)
    assert open_index(grown, hashing_embedder, folder, progress=False).state.action == "updated"
    index = open_index(grown, hashing_embedder, folder, progress=False)
    assert index.state.action == "reused" and len(index.passages) == 3
    assert read_manifest(folder).corpus_sha256 == grown.sha256  # type: ignore[union-attr]
    assert sorted(p.name for p in folder.iterdir()) == INDEX_FILES
    assert leftovers(tmp_path, folder) == []


def test_a_mount_point_index_under_a_read_only_folder_is_staged_and_locked_inside_itself(
    hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    parent = tmp_path / "ro-parent"
    folder = parent / "ix"
    folder.mkdir(parents=True)
    small, grown = small_corpus(tmp_path, 2), small_corpus(tmp_path, 3)
    FakeMount(monkeypatch, folder)
    refuse_writes(monkeypatch, lambda p: p.resolve().parent == parent.resolve())
    assert open_index(small, hashing_embedder, folder, progress=False).state.action == "built"
    assert open_index(grown, hashing_embedder, folder, progress=False).state.action == "updated"
    assert open_index(grown, hashing_embedder, folder, progress=False).state.action == "reused"
    assert sorted(p.name for p in parent.iterdir()) == ["ix"]
    assert leftovers(folder) == []


def test_a_read_only_index_mount_is_refused_before_any_embedding(
    hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ix"
    small = small_corpus(tmp_path, 2)
    open_index(small, hashing_embedder, folder, progress=False)
    hashing_embedder.documents_encoded.clear()
    with monkeypatch.context() as patch:
        FakeMount(patch, folder, read_only=True)
        with pytest.raises(IndexWriteError, match="--index-dir") as raised:
            open_index(small_corpus(tmp_path, 3), hashing_embedder, folder, progress=False)
    assert str(folder) in str(raised.value)
    assert hashing_embedder.documents_encoded == []  # refused first, not after the embedding
    assert open_index(small, hashing_embedder, folder, progress=False).state.action == "reused"


# ---------------------------------------------------------------------- real mounts

MOUNT_SCRIPT = """
import json, subprocess, sys
from pathlib import Path

from rag.indexing.index import open_index
from rag.stores.base import IndexWriteError
from tests.fixtures.retrieval import HashingEmbedder
from tests.test_index_mounts import small_corpus

folder, how = Path(sys.argv[1]), sys.argv[2]
mount = {
    "tmpfs": ["mount", "-t", "tmpfs", "tmpfs", str(folder)],
    "bind": ["mount", "--bind", str(folder), str(folder)],  # same filesystem: ismount is False
}[how.removesuffix("-ro")]
subprocess.run(mount, check=True)
embedder, out = HashingEmbedder(), {}
for papers in (2, 3, 3):
    out.setdefault("actions", []).append(
        open_index(small_corpus(folder.parent, papers), embedder, folder, progress=False)
        .state.action)
if how.endswith("-ro"):
    remount = "remount,ro" if how.startswith("tmpfs") else "remount,bind,ro"
    subprocess.run(["mount", "-o", remount, str(folder)], check=True)
    embedder.documents_encoded.clear()
    try:
        open_index(small_corpus(folder.parent, 4), embedder, folder, progress=False)
    except IndexWriteError as exc:
        out["error"] = str(exc)
    out["embedded"] = len(embedder.documents_encoded)
out["files"] = sorted(p.name for p in folder.iterdir())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def mount_namespace(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip unless this system lets us mount in a private user + mount namespace."""
    if not (sys.platform.startswith("linux") and shutil.which("unshare") and shutil.which("mount")):
        pytest.skip("needs `unshare` and `mount` (Linux) to mount a real folder")
    where = tmp_path_factory.mktemp("probe-mount")
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", str(where)],
                           capture_output=True, timeout=30)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("`unshare -rm` cannot mount here (user namespaces disabled?)")


def in_namespace(tmp_path: Path, how: str) -> dict:  # type: ignore[type-arg]
    folder = tmp_path / "ix"
    folder.mkdir()
    script = tmp_path / "mounted.py"
    script.write_text(MOUNT_SCRIPT, "utf-8")
    result = subprocess.run(
        ["unshare", "-rm", sys.executable, str(script), str(folder), how], cwd=REPO,
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("how", ["tmpfs", "bind"])
def test_an_index_on_a_real_mount_point_is_built_updated_and_reused(
    mount_namespace: None, tmp_path: Path, how: str
) -> None:
    out = in_namespace(tmp_path, how)
    assert out["actions"] == ["built", "updated", "reused"]
    assert [f for f in out["files"] if not f.endswith(".lock")] == INDEX_FILES


@pytest.mark.parametrize("how", ["tmpfs-ro", "bind-ro"])
def test_a_real_read_only_mount_is_refused_before_any_embedding(
    mount_namespace: None, tmp_path: Path, how: str
) -> None:
    out = in_namespace(tmp_path, how)
    assert "Read-only file system" in out["error"] and "--index-dir" in out["error"]
    assert out["embedded"] == 0


# ---------------------------------------------------------------------- Milvus Lite


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kgrag: error: "), result.stderr
    for word in words:
        assert word in lines[0]


def index_into(run: Callable[..., subprocess.CompletedProcess[str]], corpus: Path, uri: str
               ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return run("index", "--corpus", str(corpus), "--embedder", "use-multilingual",
               "--vector-uri", uri)  # fmt: skip


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux)")
def test_milvus_lite_where_no_one_can_write_is_one_error_line(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # /proc takes no new file, not even from root: a read-only place any test user can name
    corpus = small_corpus(tmp_path, 2).path
    assert_one_line_error(index_into(run_kgrag, corpus, "/proc/kgrag-test.db"),
                          "/proc/kgrag-test.db", "cannot be written")  # fmt: skip


def test_milvus_lite_failing_to_start_prints_kgrags_error_only(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "kg.db"  # Milvus Lite keeps a .db folder: a file there stops it
    blocker.write_text("not a Milvus Lite store", "utf-8")
    corpus = small_corpus(tmp_path, 2).path
    assert_one_line_error(index_into(run_kgrag, corpus, str(blocker)), str(blocker))


def test_milvus_lite_on_a_real_read_only_mount_is_one_error_line(
    mount_namespace: None, tmp_path: Path
) -> None:
    place = tmp_path / "ro"
    place.mkdir()
    corpus = small_corpus(tmp_path, 2).path
    command = 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"'
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", command, "sh", str(place), sys.executable, "-m", "ui.cli",
         "index", "--corpus", str(corpus), "--embedder", "use-multilingual",
         "--vector-uri", str(place / "kg.db")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "KGRAG_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    assert_one_line_error(result, str(place / "kg.db"), "Read-only file system")


def test_doctor_fails_a_stale_index_it_cannot_write_and_passes_a_current_one(
    hashing_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A read-only index folder is fine while the index matches the list; once the list
    changes, the next search would have to rebuild it, so doctor says so now."""
    from rag.doctor import index_check
    from rag.settings import Settings

    folder = tmp_path / "ix"
    small = small_corpus(tmp_path, 2)
    open_index(small, hashing_embedder, folder, progress=False)
    monkeypatch.setenv("KGRAG_INDEX_DIR", str(folder))
    monkeypatch.delenv("KGRAG_VECTOR_URI", raising=False)
    monkeypatch.setenv("KGRAG_CORPUS", str(small.path))
    FakeMount(monkeypatch, folder, read_only=True)
    assert index_check(Settings.from_env()).status == "ok"
    monkeypatch.setenv("KGRAG_CORPUS", str(small_corpus(tmp_path, 3).path))
    check = index_check(Settings.from_env())
    assert check.status == "fail" and str(folder) in check.detail
    assert "Read-only file system" in check.detail

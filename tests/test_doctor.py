"""`kgrag doctor`, `kgrag --version`, and the CLI surviving an LLM that really crashes."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from rag.doctor import llm_file_check
from rag.settings import Settings

Run = Callable[..., CompletedProcess[str]]
CHECKS = {"python", "llama.cpp build", "LLM file", "LLM generation", "models", "embedder",
          "index", "folders", "disk", "graphviz", "chromium"}  # fmt: skip


def tiny_gguf(elements: int = 1024) -> tuple[bytes, bytes]:
    """(header, tensor data) of a GGUF v3 file with one F32 tensor of `elements` values."""

    def text(value: bytes) -> bytes:
        return struct.pack("<Q", len(value)) + value

    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    header += text(b"general.name") + struct.pack("<I", 8) + text(b"tiny")
    header += text(b"weights") + struct.pack("<IQIQ", 1, elements, 0, 0)  # 1 dim, F32, offset 0
    header += b"\0" * (-len(header) % 32)  # the data section starts aligned
    return header, b"\0" * (4 * elements)


def test_doctor_checks_the_model_in_use_not_only_the_installed_one(
    run_kgrag: Run, tmp_path: Path
) -> None:
    header, data = tiny_gguf()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(header + data[: len(data) // 2])  # a copy that stopped half-way
    done = run_kgrag("doctor", "--no-generate", "--json", KGRAG_MODEL=str(truncated))
    report = json.loads(done.stdout)
    model = next(c for c in report["checks"] if c["name"] == "LLM file")
    assert model["status"] == "fail", model
    assert str(truncated) in model["detail"] and "cut short" in model["detail"]
    assert "KGRAG_MODEL" in model["fix"]
    assert report["ok"] is False and done.returncode == 1


@pytest.mark.parametrize(
    "cut, says",
    [(8192, "inside the header"), (None, "its tensors need")],
    ids=["inside-the-header", "inside-the-tensors"],
)
def test_a_cut_copy_of_the_real_model_fails_the_llm_file_check(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: int | None, says: str
) -> None:
    copy = tmp_path / "cut.gguf"
    with model_path.open("rb") as source:
        copy.write_bytes(source.read(cut or 64 * 1024**2))  # None: past the header, not the end
    monkeypatch.setenv("KGRAG_MODEL", str(copy))
    check = llm_file_check(Settings.from_env())
    assert check.status == "fail" and str(copy) in check.detail and says in check.detail


def test_a_whole_gguf_passes_and_a_shipped_name_with_another_size_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.models.catalogue import QWEN_CODER

    whole = tmp_path / "tiny.gguf"
    whole.write_bytes(b"".join(tiny_gguf()))
    monkeypatch.setenv("KGRAG_MODEL", str(whole))
    check = llm_file_check(Settings.from_env())
    assert check.status == "ok", check
    assert "GGUF v3, tiny, 1 tensors" in check.detail
    named = tmp_path / QWEN_CODER.target  # whole as a GGUF, but not the shipped file
    named.write_bytes(whole.read_bytes())
    monkeypatch.setenv("KGRAG_MODEL", str(named))
    check = llm_file_check(Settings.from_env())
    assert check.status == "fail" and "truncated or damaged" in check.detail


def test_a_folder_or_a_missing_file_is_not_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path, says in ((tmp_path, "not a regular file"), (tmp_path / "absent.gguf", "not exist")):
        monkeypatch.setenv("KGRAG_MODEL", str(path))
        check = llm_file_check(Settings.from_env())
        assert check.status == "fail" and says in check.detail


def test_version_prints_the_installed_version(run_kgrag: Run) -> None:
    from kg.version import kgrag_version

    done = run_kgrag("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kgrag {kgrag_version()}"


@pytest.mark.llm
def test_doctor_json_lists_every_check_with_its_state(run_kgrag: Run) -> None:
    done = run_kgrag("doctor", "--json")
    report = json.loads(done.stdout)
    assert set(report) == {"ok", "checks"}
    by_name = {check["name"]: check for check in report["checks"]}
    assert set(by_name) == CHECKS
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in report["checks"])
    assert all(c["status"] in ("ok", "warn", "fail") for c in report["checks"])
    assert by_name["llama.cpp build"]["status"] == "ok", by_name["llama.cpp build"]
    assert "AMX" not in by_name["llama.cpp build"]["detail"]
    assert by_name["LLM generation"]["status"] == "ok", by_name["LLM generation"]
    assert by_name["LLM file"]["status"] == "ok", by_name["LLM file"]
    assert by_name["models"]["status"] == "ok"
    assert report["ok"] is (done.returncode == 0)
    assert all(c["fix"] for c in report["checks"] if c["status"] != "ok")


@pytest.mark.llm
def test_doctor_fails_with_the_fix_when_the_llm_crashes(run_kgrag: Run) -> None:
    done = run_kgrag("doctor", "--json", KGRAG_WORKER_FAULT="abort")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    generation = next(c for c in report["checks"] if c["name"] == "LLM generation")
    assert generation["status"] == "fail"
    assert "SIGABRT" in generation["detail"]
    assert "rag.llm.build install --force" in generation["fix"]
    assert report["ok"] is False


@pytest.mark.llm
def test_ask_survives_a_segfaulting_llm_with_one_clear_line(run_kgrag: Run) -> None:
    done = run_kgrag(
        "ask", "How does speculative decoding speed up inference?", KGRAG_WORKER_FAULT="segv"
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("kgrag: error:")]
    assert len(error_lines) == 1
    assert "SIGSEGV" in error_lines[0]
    assert "kgrag doctor" in error_lines[0]
    graph = run_kgrag("ask", "What did Meta publish?", KGRAG_WORKER_FAULT="segv")
    assert graph.returncode == 0  # graph answers never touch the LLM


def test_doctor_says_when_graphviz_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import doctor

    assert doctor.graphviz_check().status == "ok"  # make install brings it
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    missing = doctor.graphviz_check()
    assert missing.status == "warn" and "make graphviz" in missing.fix

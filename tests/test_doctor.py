"""`kgrag doctor`, `kgrag --version`, and the CLI surviving an LLM that really crashes."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]
CHECKS = {"python", "llama.cpp build", "LLM generation", "models", "embedder", "index", "folders",
          "disk", "chromium"}  # fmt: skip


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
    assert "rag.llama_build install --force" in generation["fix"]
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

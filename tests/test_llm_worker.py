"""The LLM runs in a worker process: text streams across the boundary, and a worker that really
dies (abort, segfault) becomes a typed error while the next question gets a fresh worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.llm.generator import LlamaCppGenerator, Message
from rag.llm.worker import LlmWorkerCrashedError, WorkerGenerator
from rag.models.catalogue import ModelMissingError

pytestmark = pytest.mark.llm

QUESTION = [Message("user", "Name three colours, separated by commas.")]


@pytest.fixture(scope="module")
def worker(model_path: Path) -> Iterator[WorkerGenerator]:
    generator = WorkerGenerator(model_path, max_tokens=24)
    generator.warm()
    yield generator
    generator.close()


def test_text_streams_from_the_worker_piece_by_piece(worker: WorkerGenerator) -> None:
    arrivals = []
    pieces = []
    started = time.perf_counter()
    for piece in worker.stream(QUESTION):
        arrivals.append(time.perf_counter() - started)
        pieces.append(piece)
    assert len(pieces) > 3
    assert "".join(pieces).strip()
    assert arrivals[0] < arrivals[-1]  # the first piece came before the last was generated
    assert worker.last_usage["prompt_tokens"] > 0


@pytest.mark.parametrize("fault, signal_name", [("abort", "SIGABRT"), ("segv", "SIGSEGV")])
def test_a_dying_worker_is_a_typed_error_and_the_next_question_gets_a_fresh_one(
    worker: WorkerGenerator, monkeypatch: pytest.MonkeyPatch, fault: str, signal_name: str
) -> None:
    worker.close()  # the next worker starts with the fault in its environment
    monkeypatch.setenv("KGRAG_WORKER_FAULT", fault)
    worker.warm()
    crashed_pid = worker.pid
    with pytest.raises(LlmWorkerCrashedError) as error:
        list(worker.stream(QUESTION))
    assert signal_name in str(error.value)
    assert "kgrag doctor" in str(error.value)
    monkeypatch.delenv("KGRAG_WORKER_FAULT")
    assert "".join(worker.stream(QUESTION)).strip()
    assert worker.pid not in (None, crashed_pid)


def test_a_reader_that_stops_early_leaves_the_worker_ready(worker: WorkerGenerator) -> None:
    stream = worker.stream(QUESTION)
    next(stream)
    stream.close()  # the caller walked away mid-answer: the generation is cancelled
    pid = worker.pid
    assert "".join(worker.stream(QUESTION)).strip()
    assert worker.pid == pid  # the same warm worker answered


def test_a_missing_model_crosses_the_boundary_as_its_own_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelMissingError, match="not a GGUF"):
        list(WorkerGenerator(broken).stream(QUESTION))


def test_tokens_are_counted_in_the_worker_by_the_model_s_own_tokenizer(
    worker: WorkerGenerator, generator: LlamaCppGenerator
) -> None:
    text = "大语言模型 speculative decoding " + "".join(chr(0x20000 + 7 * i) for i in range(50))
    pid = worker.pid
    assert worker.count_tokens(text) == generator.count_tokens(text) > 50
    assert worker.pid == pid  # counted by the warm worker, which still answers
    assert "".join(worker.stream(QUESTION)).strip()


def test_the_model_is_located_when_the_worker_starts_not_when_it_is_built() -> None:
    def locate() -> Path:
        raise ModelMissingError("no model installed")

    worker = WorkerGenerator(locate)  # an engine builds this before any question
    assert worker.n_ctx > worker.max_tokens > 0
    with pytest.raises(ModelMissingError, match="no model installed"):
        worker.count_tokens("a question")

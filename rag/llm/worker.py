"""The LLM in a child process: a native crash there becomes a typed error here, never a dead app.

llama.cpp is native code. A fault in it (a bad CPU kernel, a broken model file, the kernel's
out-of-memory killer) takes the whole process with it; in-process that is the app or the CLI. So
`WorkerGenerator` runs `LlamaCppGenerator` in a child (`python -m rag.llm.worker`), kept warm
between questions, and speaks JSON lines with it over pipes:

    parent → child   {"op": "generate", "messages": [{"role", "content"}…], "max_tokens": N}
                     {"op": "tokenize", "text": "…"}       (count its tokens; nothing generated)
                     {"op": "cancel"}                      (stop the generation in progress)
    child → parent   {"ready": true}                       (model loaded)
                     {"tokens": N}                         (the answer to a tokenize)
                     {"piece": "text"} … {"done": true, "prompt_tokens": N, "evaluated": N}
                     {"error": "message", "kind": "model"}  (a clean, reported failure)

If the child dies, the parent raises `LlmWorkerCrashedError` (which says what to do) and starts a
fresh child for the next question. One generation runs at a time; callers queue on a lock and
`ahead()` says how many generations a new question would wait for.

`KGRAG_WORKER_FAULT=abort|segv|exit` (`rag.settings.worker_fault`, read when the child starts)
makes the child fail at its next generation, so crash handling can be tested end to end with a
real dying process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kg.errors import KgragError
from rag.llm.generator import DEFAULT_MAX_TOKENS, DEFAULT_N_CTX, LlamaCppGenerator, ModelLocation
from rag.llm.generators import GeneratorRequest
from rag.models.catalogue import ModelMissingError, kgrag_home
from rag.protocols import Generator, Message

__all__ = ["LlmWorkerCrashedError", "WorkerGenerator", "from_request"]


class LlmWorkerCrashedError(KgragError):
    """The LLM's worker process died while loading or answering."""


def from_request(request: GeneratorRequest) -> Generator:
    """llama.cpp in a worker process, as the settings ask (`rag.llm.generators`' default)."""
    return WorkerGenerator(request.model, max_tokens=request.max_tokens,
                           chat_format=request.chat_format)  # fmt: skip


class WorkerGenerator:
    """A `Generator` whose llama.cpp runs in a kept-warm child process."""

    def __init__(
        self,
        model_path: ModelLocation,
        n_ctx: int | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        n_threads: int | None = None,
        chat_format: str | None = None,
    ) -> None:
        """`model_path`: the GGUF file, or what locates it when the worker first starts (so
        that building an engine, or measuring its context window, needs no installed model).
        `chat_format`: llama-cpp-python's chat format (None: the GGUF file's own template)."""
        self._locate = model_path if callable(model_path) else (lambda: Path(model_path))
        self._model_path: Path | None = None
        self.n_ctx = n_ctx or DEFAULT_N_CTX
        self.max_tokens = max_tokens or DEFAULT_MAX_TOKENS
        self.temperature = temperature
        self.n_threads = n_threads
        self.chat_format = chat_format
        self._proc: subprocess.Popen[str] | None = None
        self._run_lock = threading.Lock()  # one generation at a time
        self._count_lock = threading.Lock()
        self._active = 0  # generations running or queued
        self.last_usage: dict[str, int] = {}

    # ---- lifecycle -----------------------------------------------------------------------
    def warm(self) -> None:
        """Start the worker and load the model now (not at the first question)."""
        with self._run_lock:
            self._ensure_started()

    def close(self) -> None:
        with self._run_lock:
            self._stop()

    def ahead(self) -> int:
        """How many generations (running or queued) a new question would wait for."""
        return self._active

    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            self._model_path = Path(self._locate())
        return self._model_path

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for the model (`rag.protocols.TokenCounter`), counted by its
        tokenizer in the worker: starts the worker if needed, never generates."""
        with self._run_lock:
            proc = self._ensure_started()
            self._send(proc, {"op": "tokenize", "text": text})
            reply = self._receive(proc)
        if "error" in reply:
            raise _reported_error(reply)
        return int(reply["tokens"])

    # ---- the Generator protocol ----------------------------------------------------------
    def stream(self, messages: Sequence[Message], max_tokens: int | None = None) -> Iterator[str]:
        with self._count_lock:
            self._active += 1
        try:
            with self._run_lock:
                yield from self._generate(messages, max_tokens or self.max_tokens)
        finally:
            with self._count_lock:
                self._active -= 1

    def _generate(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        proc = self._ensure_started()
        request = {
            "op": "generate",
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
        }
        self._send(proc, request)
        finished = False
        try:
            while True:
                reply = self._receive(proc)
                if "piece" in reply:
                    yield str(reply["piece"])
                elif reply.get("done"):
                    finished = True
                    self.last_usage = {k: int(v) for k, v in reply.items() if k != "done"}
                    return
                elif "error" in reply:
                    finished = True
                    raise _reported_error(reply)
        finally:
            if not finished and proc.poll() is None:
                self._cancel(proc)  # the caller stopped reading: end the generation cleanly

    # ---- process plumbing ----------------------------------------------------------------
    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = None
        command = self.command()
        log = _log_path()
        with log.open("a", encoding="utf-8") as log_file:
            proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
                text=True, encoding="utf-8", bufsize=1, cwd=_package_root(),
            )  # fmt: skip
        reply = self._receive(proc)
        if "error" in reply:
            proc.wait(timeout=10)
            raise _reported_error(reply)
        self._proc = proc
        return proc

    def command(self) -> list[str]:
        """The child's command line (`python -m rag.llm.worker …`): locates the model."""
        command = [sys.executable, "-m", "rag.llm.worker", "--model", str(self.model_path),
                   "--n-ctx", str(self.n_ctx), "--temperature", str(self.temperature)]  # fmt: skip
        if self.n_threads:
            command += ["--threads", str(self.n_threads)]
        if self.chat_format is not None:
            command += ["--chat-format", self.chat_format]
        return command

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _send(self, proc: subprocess.Popen[str], message: dict[str, Any]) -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._crashed(proc) from None

    def _receive(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise self._crashed(proc)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _cancel(self, proc: subprocess.Popen[str]) -> None:
        try:
            self._send(proc, {"op": "cancel"})
            while True:
                reply = self._receive(proc)
                if reply.get("done") or "error" in reply:
                    return
        except LlmWorkerCrashedError:
            return

    def _crashed(self, proc: subprocess.Popen[str]) -> LlmWorkerCrashedError:
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if self._proc is proc:
            self._proc = None
        return LlmWorkerCrashedError(
            f"the LLM worker stopped ({_describe_exit(code)}) while answering; the app and your "
            "question are fine, and a fresh worker starts with the next question. If it happens "
            f"again, run `kgrag doctor` (worker log: {_log_path()})."
        )


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " — killed, perhaps for lack of memory" if -code == signal.SIGKILL else ""
        return f"{name}{hint}"
    return f"exit status {code}"


def _reported_error(reply: dict[str, Any]) -> KgragError:
    if reply.get("kind") == "model":
        return ModelMissingError(str(reply["error"]))
    return KgragError(str(reply["error"]))


def _log_path() -> Path:
    folder = kgrag_home() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "llm-worker.log"


def _package_root() -> str:
    """The folder holding the `rag` package, so `-m rag.llm.worker` imports this same code."""
    return str(Path(__file__).resolve().parent.parent)


# ---- the child ---------------------------------------------------------------------------
def child_generator(argv: Sequence[str]) -> LlamaCppGenerator:
    """The in-process generator the child runs, from its command line (`WorkerGenerator.command`
    after `-m rag.llm.worker`); the model is not loaded yet."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rag.llm.worker")
    parser.add_argument("--model", required=True)
    parser.add_argument("--n-ctx", type=int, required=True)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--chat-format", default=None)
    args = parser.parse_args(argv)
    return LlamaCppGenerator(args.model, n_threads=args.threads, n_ctx=args.n_ctx,
                             temperature=args.temperature, chat_format=args.chat_format)  # fmt: skip


def _child_main(argv: Sequence[str]) -> int:
    import queue

    from rag.settings import worker_fault

    generator = child_generator(argv)
    fault = worker_fault()

    # The protocol owns the real stdout; anything native code prints goes to the log instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message, ensure_ascii=False) + "\n")
        out.flush()

    try:
        generator.llama()
    except ModelMissingError as exc:
        send({"error": str(exc), "kind": "model"})
        return 1
    send({"ready": True})

    # A reader thread, so a cancel is seen while a generation runs; lines keep their order, so
    # a cancel that arrives after its generation ended is cleared before the next one starts.
    requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
    cancel = threading.Event()

    def read() -> None:
        for line in sys.stdin:
            message = json.loads(line)
            if message.get("op") == "cancel":
                cancel.set()
            else:
                requests.put(message)
        cancel.set()
        requests.put(None)

    threading.Thread(target=read, name="kgrag-worker-stdin", daemon=True).start()
    while (request := requests.get()) is not None:
        cancel.clear()
        if request.get("op") == "tokenize":
            try:
                send({"tokens": generator.count_tokens(str(request["text"]))})
            except (ValueError, RuntimeError) as exc:
                send({"error": f"the LLM could not count tokens: {exc}", "kind": "generate"})
            continue
        _inject_fault(fault)
        messages = [Message(m["role"], m["content"]) for m in request["messages"]]
        try:
            for piece in generator.stream(messages, max_tokens=int(request["max_tokens"])):
                send({"piece": piece})
                if cancel.is_set():
                    break
        except (ValueError, RuntimeError) as exc:  # llama.cpp's reported errors (context full…)
            send({"error": f"the LLM could not answer: {exc}", "kind": "generate"})
            continue
        send({"done": True, **generator.last_usage})
    return 0


def _inject_fault(fault: str) -> None:
    if fault == "abort":
        os.abort()
    elif fault == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif fault == "exit":
        os._exit(3)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))

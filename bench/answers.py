"""Answer latency, from one run: kgrag against the naive pipeline and bare llama.cpp.

- Cold `kgrag ask` processes: a graph answer, an out-of-corpus refusal and a retrieval answer,
  from process start to the first answer byte and to the end.
- Warm, in this process, on the same retrieval questions: kgrag (`rag.answering.pipeline.stream`), the naive
  pipeline (`rag.evaluation.naive`: top-3 abstracts, 500 characters each, no checks) and bare llama.cpp
  answering the naive prompt (a bare `create_chat_completion`). Medians, and their ratios to
  bare llama.cpp; the issue's targets are first token ≤ 0.2× and whole answer ≤ 0.35×.
- Prefix reuse: prompt tokens per kgrag question and how many of them llama.cpp evaluated
  (the rest were the cached prefix of the previous call: the fixed system message).
Prints figures; asserts nothing. Timings on a shared machine are noisy: compare the ratios,
which come from the same run.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answering.pipeline import Answer, Engine, build_messages, stream
from rag.engine import build_engine
from rag.evaluation.naive import naive_messages, naive_papers, naive_stream
from rag.llm.generator import LlamaCppGenerator, Message
from rag.settings import Settings

GRAPH_QUESTION = "Meta发表了哪些论文?"
REFUSAL_QUESTION = "Who won the 2022 FIFA World Cup?"
LIGHT_REFUSAL_QUESTION = (
    "红烧肉怎么做?"  # shares no word with the corpus: refused without the embedder
)
RAG_QUESTIONS = (
    "What speed-up does Medusa-1 achieve?",
    "GPTQ 在 NVIDIA A6000 上的推理加速是多少?",
    "How many parameters does CogAgent have?",
    "Mixtral 推理时每个标记只使用多少活动参数?",
    "What tool-calling dataset did Gorilla publish?",
)
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timing:
    first: float
    total: float
    evaluated: int | None = None  # prompt tokens llama.cpp evaluated (not reused)
    prompt: int | None = None


def main() -> None:
    print("== answers: kgrag vs naive pipeline vs bare llama.cpp ==")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (shared machine)")
    settings = Settings.from_env()
    generator = LlamaCppGenerator(settings.model_path, chat_format=settings.chat_format)
    engine = build_engine(settings, generator=generator, progress=False)
    assert engine.retriever is not None  # the index is built before the cold runs reuse it
    cold_runs()
    llama = generator.llama()
    engine.warm_up()  # what the app does at start: sentence vectors and the fixed prefix
    ours = [_kgrag(engine, llama, q) for q in RAG_QUESTIONS]
    naive = [_timed(naive_stream(q, engine)) for q in RAG_QUESTIONS]
    bare = [_bare(llama, naive_messages(q, naive_papers(engine, q)), generator.max_tokens)
            for q in RAG_QUESTIONS]  # fmt: skip
    _table(ours, naive, bare)
    _prefix(ours)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB (engine with embedder + LLM)")


def cold_runs() -> None:
    """`kgrag ask` in a fresh process: first answer byte on stdout, and the end."""
    for label, question in (("graph", GRAPH_QUESTION), ("refusal", REFUSAL_QUESTION),
                            ("refusal zh", LIGHT_REFUSAL_QUESTION),
                            ("retrieval", RAG_QUESTIONS[0])):  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ask", question],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.read(1)
        first = time.perf_counter() - start
        proc.communicate()
        total = time.perf_counter() - start
        print(f"cold `kgrag ask` ({label:<10}): first output {first:6.2f} s, done {total:6.2f} s")


def _kgrag(engine: Engine, llama: Any, question: str) -> Timing:
    before = llama.input_ids[: llama.n_tokens].tolist()
    timing = _timed(stream(question, engine))
    prompt = _prompt_tokens(llama, _last_messages(engine, question))
    reused = _common_prefix(before, llama.input_ids[: llama.n_tokens].tolist(), len(prompt))
    return Timing(timing.first, timing.total, len(prompt) - reused, len(prompt))


def _last_messages(engine: Engine, question: str) -> list[Message]:
    from rag.answering.route import route
    from rag.answering.sources import contexts_for

    analysis = route(engine.kg, question)
    contexts, _, _ = contexts_for(engine, analysis)
    return build_messages(analysis.question, analysis.language, contexts)


def _timed(items: Iterator[str | Answer]) -> Timing:
    start = time.perf_counter()
    first = 0.0
    for item in items:
        if isinstance(item, str) and item.strip() and not first:
            first = time.perf_counter() - start
    return Timing(first, time.perf_counter() - start)


def _bare(llama: Any, messages: Sequence[Message], max_tokens: int) -> Timing:
    start = time.perf_counter()
    first = 0.0
    for chunk in llama.create_chat_completion(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        stream=True, max_tokens=max_tokens, temperature=0.0,
    ):  # fmt: skip
        if chunk["choices"][0]["delta"].get("content") and not first:
            first = time.perf_counter() - start
    return Timing(first, time.perf_counter() - start)


def _prompt_tokens(llama: Any, messages: Sequence[Message]) -> list[int]:
    """The prompt as the GGUF's ChatML template lays it out, tokenized."""
    text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    text += "<|im_start|>assistant\n"
    return list(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def _common_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    n = 0
    for x, y in zip(a[:limit], b[:limit], strict=False):
        if x != y:
            break
        n += 1
    return n


def _table(ours: list[Timing], naive: list[Timing], bare: list[Timing]) -> None:
    b_first = statistics.median(t.first for t in bare)
    b_total = statistics.median(t.total for t in bare)
    print(f"\nwarm, median of {len(ours)} retrieval questions (same run):")
    print(f"  {'system':<16} {'first token':>12} {'× bare':>7} {'answer':>9} {'× bare':>7}")
    for name, rows in (("kgrag", ours), ("naive pipeline", naive), ("bare llama.cpp", bare)):
        first = statistics.median(t.first for t in rows)
        total = statistics.median(t.total for t in rows)
        print(f"  {name:<16} {first:10.2f} s {first / b_first:6.2f}× {total:7.2f} s "
              f"{total / b_total:6.2f}×")  # fmt: skip
    print("  targets: kgrag first token ≤ 0.20× bare, whole answer ≤ 0.35× bare")


def _prefix(ours: list[Timing]) -> None:
    print("\nprefix reuse (kgrag, warm): prompt tokens → evaluated per question")
    for question, t in zip(RAG_QUESTIONS, ours, strict=True):
        print(f"  {t.prompt:>4} → {t.evaluated:>4}  {question}")


if __name__ == "__main__":
    main()

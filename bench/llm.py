"""The installed llama.cpp build: which CPU features it uses, prompt-evaluation and generation
speed, and what the worker process boundary costs (first token and total, worker vs in-process,
same prompts, same run). Prints figures; asserts nothing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

from rag.llm.build import plan_build, reported_features
from rag.llm.generator import LlamaCppGenerator, Message
from rag.llm.worker import WorkerGenerator
from rag.settings import Settings

RUNS = 3
MAX_TOKENS = 48
# About 400 prompt tokens: long enough that prompt evaluation shows, like an answer's sources.
FILLER = (
    "Speculative decoding drafts several tokens with a small model and verifies them in one "
    "forward pass of the large model, accepting the longest prefix that matches. "
) * 12


def prompt(run: int) -> list[Message]:
    # A different first line per run: llama.cpp cannot reuse the previous prompt's prefix.
    return [
        Message("system", f"Run {run}. Answer in two sentences."),
        Message("user", f"{FILLER}\nSummarise the method above."),
    ]


def main() -> None:
    import llama_cpp

    print("== llm (llama.cpp build and worker) ==")
    info = llama_cpp.llama_print_system_info()
    report = reported_features(info.decode() if isinstance(info, bytes) else str(info))
    plan = plan_build()
    print(f"llama-cpp-python {llama_cpp.__version__}, wheel key {plan.key}")
    print(f"features in use: {' '.join(sorted(k for k, v in report.items() if v))}")
    print(f"CMake options on: {' '.join(plan.enabled)} (AMX off, GGML_NATIVE off)")
    model = Settings.from_env().model_path()
    in_process = LlamaCppGenerator(model, max_tokens=MAX_TOKENS)
    worker = WorkerGenerator(model, max_tokens=MAX_TOKENS)
    worker.warm()
    in_process.llama()
    rows = {"in-process": _measure(in_process.stream, 0), "worker": _measure(worker.stream, 100)}
    tokens = in_process.last_usage.get("prompt_tokens", 0)
    print(f"\nsame {tokens}-token prompts, {RUNS} runs each, no prefix reuse, median:")
    print(f"{'':12} {'first token':>12} {'total':>8} {'prompt tok/s':>13} {'gen tok/s':>10}")
    for name, (first, total, pieces) in rows.items():
        prompt_rate = tokens / first if first else 0.0
        gen_rate = (pieces - 1) / (total - first) if total > first else 0.0
        print(f"{name:12} {first:11.2f}s {total:7.2f}s {prompt_rate:13.1f} {gen_rate:10.1f}")
    ratio_first = rows["worker"][0] / rows["in-process"][0]
    ratio_total = rows["worker"][1] / rows["in-process"][1]
    print(f"worker / in-process: first token x{ratio_first:.3f}, total x{ratio_total:.3f}")
    worker.close()


def _measure(stream: object, offset: int) -> tuple[float, float, int]:
    firsts, totals, counts = [], [], []
    for run in range(RUNS):
        started = time.perf_counter()
        first = None
        pieces = 0
        generated: Iterator[str] = stream(prompt(offset + run))  # type: ignore[operator]
        for _ in generated:
            pieces += 1
            if first is None:
                first = time.perf_counter() - started
        totals.append(time.perf_counter() - started)
        firsts.append(first or totals[-1])
        counts.append(pieces)
    return statistics.median(firsts), statistics.median(totals), int(statistics.median(counts))

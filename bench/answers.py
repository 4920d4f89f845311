"""Answer benchmarks: first-token latency, generation speed, end-to-end `ask` latency per route,
kgrag's pipeline against a bare llama.cpp chat completion on the same prompt, cold start of
`kgrag ask`, and peak memory. Prints figures; asserts nothing."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rag.answer import PASSAGE_CHARS, Answer, Engine, build_messages, stream
from rag.route import route

GRAPH_QUESTIONS = (
    "Meta发表了哪些论文?",
    "How many papers did Google publish?",
    "What is Code Llama based on?",
    "2023年5月有哪些论文?",
    "Which papers were published between March and June 2023?",
)
RAG_QUESTIONS = (
    "How does Medusa speed up LLM inference?",
    "GPTQ是怎样量化模型参数的?",
    "What problem does DoReMi solve?",
)
REFUSAL_QUESTIONS = ("Who won the 2022 FIFA World Cup?", "QLoRA是如何用4比特量化来微调大模型的?")


def main() -> None:
    print("== answers (kgrag ask) ==")
    print(f"cores: {os.cpu_count()}")
    engine = Engine.load(progress=False)
    assert engine.retriever is not None  # builds the index first, so cold starts reuse it
    cold_start()
    _warm_up(engine)
    timed_routes(engine)
    pipeline_vs_bare(engine)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak resident memory: {peak:.0f} MiB (engine with embedder + LLM), "
        f"{child:.0f} MiB (largest `kgrag ask` process)"
    )


def cold_start() -> None:
    """`kgrag ask` from process start to the first answer byte on stdout (a fresh process)."""
    for question in (GRAPH_QUESTIONS[0], RAG_QUESTIONS[0]):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ask", question],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                cwd=Path(__file__).resolve().parents[1])  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.read(1)
        first = time.perf_counter() - start
        proc.communicate()
        total = time.perf_counter() - start
        kind = route_kind(question)
        print(f"cold start `kgrag ask` ({kind}): first output {first:.2f} s, done {total:.2f} s")


def route_kind(question: str) -> str:
    from kg.graph import load_graph

    return route(load_graph(), question).kind


def _warm_up(engine: Engine) -> None:
    for _ in stream(RAG_QUESTIONS[0], engine):
        pass


def timed_routes(engine: Engine) -> None:
    for name, questions in (("graph", GRAPH_QUESTIONS), ("none", REFUSAL_QUESTIONS),
                            ("rag", RAG_QUESTIONS)):  # fmt: skip
        latencies, firsts, rates = [], [], []
        for question in questions:
            if name == "rag":
                engine.generator.llama().reset()  # type: ignore[attr-defined]  # no prompt-cache reuse
            start = time.perf_counter()
            first: float | None = None
            pieces = 0
            gen_start = generated = start
            answer: Answer | None = None
            for item in stream(question, engine):
                if isinstance(item, Answer):
                    answer = item
                    continue
                pieces += 1
                generated = time.perf_counter()
                if first is None:
                    first = time.perf_counter() - start
                    gen_start = time.perf_counter()
            total = time.perf_counter() - start
            latencies.append(total)
            firsts.append(first or total)
            if name == "rag" and pieces > 1 and answer is not None:
                # one streamed piece per generated token; the check after the last piece is
                # part of the ask latency, not of generation
                rates.append(pieces / max(generated - gen_start, 1e-6))
        line = (f"route {name:<5}: ask p50 {statistics.median(latencies):6.2f} s, "
                f"first text p50 {statistics.median(firsts):6.2f} s (n={len(questions)})")  # fmt: skip
        if rates:
            line += f", generation {statistics.median(rates):.1f} tokens/s"
        print(line)


def pipeline_vs_bare(engine: Engine, repeats: int = 2) -> None:
    """The same prompt through a bare `Llama.create_chat_completion` and through kgrag, with
    llama.cpp's prompt cache reset before every run so neither reuses the other's work."""
    from rag.answer import _contexts

    question = RAG_QUESTIONS[0]
    analysis = route(engine.kg, question)
    contexts, _ = _contexts(engine, analysis)
    messages = build_messages(question, analysis.language, contexts)
    llama = engine.generator.llama()  # type: ignore[attr-defined]
    max_tokens = engine.generator.max_tokens  # type: ignore[attr-defined]
    prompt_tokens = len(llama.tokenize("".join(m.content for m in messages).encode("utf-8")))
    bare_runs, ours_runs = [], []
    for _ in range(repeats):
        llama.reset()
        bare_runs.append(_bare_run(llama, messages, max_tokens))
        llama.reset()
        ours_runs.append(_pipeline_run(engine, question))
    bare_first, bare_total, tokens = sorted(bare_runs)[len(bare_runs) // 2]
    ours_first, ours_total = sorted(ours_runs)[len(ours_runs) // 2]
    print(f"prompt: {prompt_tokens} tokens, {len(contexts)} passages of <= {PASSAGE_CHARS} chars")
    print(
        f"bare llama.cpp: first token {bare_first:.2f} s, total {bare_total:.2f} s, "
        f"{tokens / max(bare_total - bare_first, 1e-6):.1f} tokens/s"
    )
    print(
        f"kgrag pipeline: first token {ours_first:.2f} s, total {ours_total:.2f} s "
        f"(ratio to bare ×{ours_total / bare_total:.2f}: retrieval, routing, checking)"
    )


def _bare_run(llama: object, messages: list, max_tokens: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    first = 0.0
    tokens = 0
    for chunk in llama.create_chat_completion(  # type: ignore[attr-defined]
        messages=[{"role": m.role, "content": m.content} for m in messages],
        stream=True, max_tokens=max_tokens, temperature=0.0,
    ):  # fmt: skip
        if chunk["choices"][0]["delta"].get("content"):
            tokens += 1
            first = first or time.perf_counter() - start
    return first, time.perf_counter() - start, tokens


def _pipeline_run(engine: Engine, question: str) -> tuple[float, float]:
    start = time.perf_counter()
    first = 0.0
    for item in stream(question, engine):
        if isinstance(item, str):
            first = first or time.perf_counter() - start
    return first, time.perf_counter() - start


if __name__ == "__main__":
    main()

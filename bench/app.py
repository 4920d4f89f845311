"""App benchmarks: `kgrag serve` start time (process start to first page served, with a built
index), time until the models are warm, one answer per route through the API, and the server's
peak memory while answering. Prints figures; asserts nothing. Run: `python -m bench.app`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = {
    "graph": "What is Code Llama based on?",
    "rag": "How does Medusa speed up LLM inference?",
    "none": "Who won the 2022 FIFA World Cup?",
}


def main() -> None:
    print("== app (kgrag serve) ==")
    with tempfile.TemporaryDirectory(prefix="kgrag-bench-app-") as tmp:
        env = dict(os.environ, KGRAG_DATA_DIR=f"{tmp}/data", KGRAG_INDEX_DIR=f"{tmp}/index",
                   HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")  # fmt: skip
        index = Path(tmp) / "index" / "manifest.json"
        process, url, _ = start(env)  # first start builds the index in the background
        wait_for(index.is_file, 600)
        process.terminate()
        process.wait(30)
        process, url, first_page = start(env)
        print(f"start to first page (built index): {first_page:.2f} s")
        try:
            report_answers(process, url)
        finally:
            process.terminate()
            process.wait(30)


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    wait_for(lambda: page_served(url), 300)
    return process, url, time.perf_counter() - began


def report_answers(process: subprocess.Popen[bytes], url: str) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    before = peak_rss_mib(process.pid)
    print(f"peak RSS after start (models warming): {before:.0f} MiB")
    for name, question in QUESTIONS.items():
        began = time.perf_counter()
        answer = client.predict(question, api_name="/ask")
        took = time.perf_counter() - began
        print(f"{name:5s} route={answer['route']:6s} {took:6.1f} s  "
              f"citations={len(answer['citations'])}  {question!r}")  # fmt: skip
    print(f"peak RSS while answering: {peak_rss_mib(process.pid):.0f} MiB")


def page_served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for(ready: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get ready in time")
        time.sleep(0.2)


if __name__ == "__main__":
    main()

"""Start a real `kgrag serve` on a free loopback port and drive it with headless Chromium.

The browser is Debian's chromium (`/usr/bin/chromium`, installed by `make browser-deps`), driven
by the `playwright` Python package; `playwright install` is never used (it downloads a browser).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Two pages of one test run side by side: Chromium would otherwise throttle the hidden
    # one's timers to one wake-up a second, which delays Gradio's updates there by seconds.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
LOOPBACK_PREFIXES = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    index_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    start_seconds: float

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class RequestLog:
    """Every URL the page asked for that is not on loopback (each one is blocked)."""

    outside: list[str] = field(default_factory=list)

    def route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(LOOPBACK_PREFIXES):
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.outside.append(url)
            route.abort()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    root: Path,
    timeout: float = 240.0,
    extra_env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[LiveServer]:
    """`python -m ui.cli serve [extra_args]` with its data and index in `root`; stopped on exit
    (`extra_args=["--no-warm-up"]` for tests that need no model)."""
    port = free_port()
    data_dir, index_dir = root / "data", root / "index"
    log_path = root / "serve.log"
    env = dict(os.environ, KGRAG_DATA_DIR=str(data_dir), KGRAG_INDEX_DIR=str(index_dir),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")  # fmt: skip
    env.pop("KGRAG_CORPUS", None)
    env.update(extra_env or {})
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--port", str(port), *extra_args],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_page(url, process, log_path, started + timeout)
        yield LiveServer(url, data_dir, index_dir, log_path, process, time.monotonic() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_page(url: str, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kgrag serve exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"kgrag serve did not answer within the timeout:\n{log.read_text()}")


def wait_until_index_ready(server: LiveServer, timeout: float = 300.0) -> None:
    """Block until the app's background warm-up has written the index manifest."""
    manifest = server.index_dir / "manifest.json"
    deadline = time.monotonic() + timeout
    while not manifest.is_file():
        if time.monotonic() > deadline or server.process.poll() is not None:
            raise RuntimeError(f"the index was not built:\n{server.log()}")
        time.sleep(0.5)

"""Distributed embedding on Ray Data (`kgrag index --ray [ADDRESS]`, optional extra `kgrag[ray]`).

Embedding is the cost that grows with the corpus (EmbeddingGemma embeds about 2 passages/s on 2
cores). `RayEncoder` is a `rag.indexing.index.DocumentEncoder`: the texts of the passages to add become a
Ray dataset, `map_batches` runs them through a pool of actors that each load the embedder once
(`_EmbedWorker`), and the vectors come back in input order. Only embedding is spread: the store is
written by the calling process, under the store's own rules (lock, manifest committed last).

Ray starts locally when no address is given (and is shut down afterwards); with an address
(`ray://head:10001`, `head:6379`, `auto`) it joins that cluster, whose workers need kgrag and the
embedder's models installed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import numpy as np

from kg.errors import KgragError

__all__ = ["RayEncoder", "RayUnavailableError"]

_BATCH = 32
_MAX_WORKERS = 8
_START_TIMEOUT_S = 180.0


class RayUnavailableError(KgragError):
    """Ray is not installed or the cluster cannot be reached."""


class _EmbedWorker:
    """One Ray actor: loads the embedder once, then embeds batches of texts."""

    def __init__(self, spec: str, backend: str = "", threads: int | None = None) -> None:
        from rag.embedding.embedders import load_embedder

        self.embedder = load_embedder(spec, backend, threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        vectors = np.asarray(self.embedder.encode_documents(texts), np.float32)
        return {"row": np.asarray(batch["row"]), "vector": vectors}


class RayEncoder:
    """Embeds document texts over Ray workers (a context manager: Ray is started on enter).
    `spec` and `backend` name the embedder each worker loads (`rag.embedding.embedders`)."""

    def __init__(
        self,
        spec: str,
        dim: int,
        address: str | None = None,
        workers: int | None = None,
        num_cpus: int | None = None,
        start_timeout_s: float = _START_TIMEOUT_S,
        backend: str = "",
    ) -> None:
        self.spec, self.backend, self.dim, self.address = spec, backend, dim, address
        self.workers, self.num_cpus = workers, num_cpus
        self.start_timeout_s = start_timeout_s
        self._started = False
        self.last_throughput: float | None = None
        """Passages per second of the last call (all workers together)."""

    def __enter__(self) -> RayEncoder:
        try:
            import ray
            import ray.data
        except ImportError as exc:
            raise RayUnavailableError(
                "`--ray` needs Ray Data; install it with `pip install 'kgrag[ray]'`."
            ) from exc
        if not ray.is_initialized():
            try:
                import logging

                logging.getLogger("ray.data").setLevel(logging.WARNING)
                ray.data.DataContext.get_current().enable_progress_bars = False
                if self.address is None:
                    self._start_local(ray)
                else:
                    ray.init(address=self.address, log_to_driver=False)
            except Exception as exc:  # ConnectionError, RuntimeError, …
                where = self.address or "a local Ray"
                raise RayUnavailableError(f"cannot start or reach {where} ({exc})") from exc
            self._started = True
        return self

    def _start_local(self, ray: Any) -> None:
        """Start a local Ray, retried until `start_timeout_s`: on a loaded machine its processes
        can miss Ray's own start-up deadlines (a raylet given 30 s to register, the GCS ~20 s
        to answer), and a second try then usually succeeds."""
        import time

        deadline = time.monotonic() + self.start_timeout_s
        # Ray reads its GCS start-up wait (seconds) from the environment while the node starts;
        # it is set for that moment only, and an operator's own setting wins.
        key = "RAY_gcs_server_port_wait_time_s"
        chosen = key in os.environ
        os.environ.setdefault(key, str(int(self.start_timeout_s)))
        try:
            while True:
                try:
                    ray.init(num_cpus=self.num_cpus, include_dashboard=False,
                             log_to_driver=False, configure_logging=False)  # fmt: skip
                    return
                except Exception:
                    ray.shutdown()  # stop whatever half started before trying again
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(2)
        finally:
            if not chosen:
                os.environ.pop(key, None)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import time

        import ray
        import ray.data

        if not texts:
            return np.zeros((0, self.dim), np.float32)
        cpus = int(ray.cluster_resources().get("CPU", os.cpu_count() or 1))
        workers = max(1, min(self.workers or cpus, _MAX_WORKERS, len(texts)))
        started = time.perf_counter()
        dataset = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        per_worker = max(1, cpus // workers)  # each actor's threads: as many as its CPUs, so
        # that N actors do not each run a thread per core of the machine (2 on 2 cores: 0.4x)
        embedded = dataset.map_batches(
            _EmbedWorker, fn_constructor_args=(self.spec, self.backend, per_worker),
            batch_size=_BATCH, batch_format="numpy", concurrency=workers, num_cpus=per_worker,
        )  # fmt: skip
        vectors = np.zeros((len(texts), self.dim), np.float32)
        for batch in embedded.iter_batches(batch_size=1024, batch_format="numpy"):
            vectors[np.asarray(batch["row"], dtype=np.int64)] = np.stack(list(batch["vector"]))
        self.last_throughput = len(texts) / max(time.perf_counter() - started, 1e-9)
        return vectors

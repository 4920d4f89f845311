"""Measuring kgrag: question files, harnesses, the naive baseline and threshold calibration.

Nothing here is on the answering path: `kgrag eval …`, `python -m rag.evaluation.calibrate` and the
bench import it; the runtime never does. Owns question files and their tune/report parts
(`questions`), the dev sets' split into those parts (`split`), retrieval recall/MRR (`retrieval`),
answer scoring (`answers`), the naive baseline (`naive`) and the per-embedder cosine thresholds'
calibration on the tune part (`calibrate`).
"""

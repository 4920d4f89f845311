"""Per-embedder thresholds: each embedder's spec holds its own, with the data they came from,
and the refusal and support checks read the active embedder's. Calibration reads the tune part of
the dev sets only."""

from __future__ import annotations

import doctest
import json
from dataclasses import dataclass

import pytest

import rag.evaluation.calibrate
from kg.corpus import Corpus
from kg.graph import KnowledgeGraph
from kg.tables import DATA_DIR
from rag.answering.refusal import RefusalPolicy, should_refuse
from rag.answering.route import route
from rag.checking.cite import SupportChecker
from rag.evaluation.calibrate import (
    FORMAT,
    RETRIEVAL_SET,
    RULE,
    Scored,
    calibrate,
    suggest,
)
from rag.evaluation.questions import QuestionFileError
from rag.evaluation.split import dev_lines
from rag.models.catalogue import (
    EMBEDDINGGEMMA,
    MODELS,
    USE_MULTILINGUAL,
    ModelSpec,
    embedder_thresholds,
)

EMBEDDERS = [spec for spec in MODELS if spec.role == "embedder"]


@dataclass(frozen=True)
class _Named:
    """Stands for an embedder: the checks only read its name here."""

    name: str


def _calibration(spec: ModelSpec) -> dict:
    assert spec.thresholds is not None and spec.thresholds.calibrated_on is not None
    return json.loads((DATA_DIR / spec.thresholds.calibrated_on).read_text("utf-8"))


def test_docstring_examples_run() -> None:
    assert doctest.testmod(rag.evaluation.calibrate).failed == 0


@pytest.mark.parametrize("spec", EMBEDDERS, ids=lambda s: s.key)
def test_every_embedder_spec_has_thresholds_calibrated_on_a_shipped_file(spec: ModelSpec) -> None:
    assert spec.thresholds is not None
    data = _calibration(spec)
    assert data["format"] == FORMAT and data["embedder"] == spec.key and data["rule"] == RULE
    assert all((DATA_DIR / name).is_file() for name in data["question_sets"])
    for group in ("out_of_domain", "near_miss", "in_corpus"):
        rows = data["refusal"][group]["questions"]
        assert rows and all(isinstance(r["score"], float) for r in rows)
    assert data["support"]["own"]["questions"]


@pytest.mark.parametrize("spec", EMBEDDERS, ids=lambda s: s.key)
def test_the_refusal_thresholds_separate_the_recorded_scores(spec: ModelSpec) -> None:
    """Below `min_similarity` lie the out-of-domain questions, above it the in-corpus ones; a
    near miss (naming something the corpus lacks) stays below `named_outside_similarity`."""
    assert spec.thresholds is not None
    refusal = _calibration(spec)["refusal"]
    assert refusal["out_of_domain"]["range"][1] < spec.thresholds.min_similarity
    assert spec.thresholds.min_similarity <= refusal["in_corpus"]["range"][0]
    assert refusal["near_miss"]["range"][1] < spec.thresholds.named_outside_similarity


@pytest.mark.parametrize("spec", EMBEDDERS, ids=lambda s: s.key)
def test_the_support_threshold_lies_between_own_and_other_papers_on_average(
    spec: ModelSpec,
) -> None:
    assert spec.thresholds is not None
    own = _calibration(spec)["support"]["own"]
    assert own["closest_other_mean"] < spec.thresholds.support < own["mean"]


def test_the_int8_flavour_shares_embeddinggemmas_thresholds_and_they_fit_its_scores() -> None:
    """Its own calibration (`python -m rag.evaluation.calibrate` on the int8 flavour) is
    separated by the float model's thresholds as the float model's own scores are."""
    thresholds = embedder_thresholds("embeddinggemma-300m-int8")
    assert thresholds == EMBEDDINGGEMMA.thresholds
    data = json.loads((DATA_DIR / "calibration/embeddinggemma-300m-int8.json").read_text("utf-8"))
    assert data["embedder"] == "embeddinggemma-300m-int8" and data["rule"] == RULE
    refusal, own = data["refusal"], data["support"]["own"]
    assert refusal["out_of_domain"]["range"][1] < thresholds.min_similarity
    assert thresholds.min_similarity <= refusal["in_corpus"]["range"][0]
    assert refusal["near_miss"]["range"][1] < thresholds.named_outside_similarity
    assert own["closest_other_mean"] < thresholds.support < own["mean"]


def test_each_embedder_has_its_own_thresholds() -> None:
    assert EMBEDDINGGEMMA.thresholds != USE_MULTILINGUAL.thresholds
    assert embedder_thresholds("use-multilingual") == USE_MULTILINGUAL.thresholds
    # a sentence-transformers folder has no spec: the default embedder's thresholds
    assert embedder_thresholds("sentence-transformers:/models/x") == EMBEDDINGGEMMA.thresholds


@pytest.mark.parametrize("spec", EMBEDDERS, ids=lambda s: s.key)
def test_the_support_checker_reads_the_active_embedders_thresholds(spec: ModelSpec) -> None:
    assert spec.thresholds is not None
    checker = SupportChecker(_Named(spec.key))
    assert checker.threshold == spec.thresholds.support
    assert checker.extractive_margin == spec.thresholds.extractive_margin
    assert SupportChecker(_Named(spec.key), threshold=0.9).threshold == 0.9


def test_refusal_reads_the_thresholds_of_the_embedder_that_measured(kg: KnowledgeGraph) -> None:
    gemma, use = EMBEDDINGGEMMA.thresholds, USE_MULTILINGUAL.thresholds
    assert gemma is not None and use is not None
    low, high = sorted((gemma.min_similarity, use.min_similarity))
    between = (low + high) / 2
    analysis = route(kg, "How do models learn to use tools from demonstrations?")
    assert analysis.kind == "rag" and not analysis.names_outside_corpus
    refused = {
        name: should_refuse(analysis, between, embedder=name)
        for name in (EMBEDDINGGEMMA.key, USE_MULTILINGUAL.key)
    }
    assert refused[EMBEDDINGGEMMA.key] == (between < gemma.min_similarity)
    assert refused[USE_MULTILINGUAL.key] == (between < use.min_similarity)
    assert refused[EMBEDDINGGEMMA.key] != refused[USE_MULTILINGUAL.key]
    # a threshold set on the policy overrides the embedder's
    assert not should_refuse(analysis, between, RefusalPolicy(min_similarity=0.0))
    assert should_refuse(analysis, 0.99, RefusalPolicy(min_similarity=1.0))


def _rows(scores: dict) -> list[dict]:
    rows = [row for group in scores["refusal"].values() for row in group["questions"]]
    return rows + scores["support"]["own"]["questions"]


def test_calibration_fits_on_the_tune_part_and_scores_the_report_part_apart(
    corpus: Corpus,
    hashing_embedder,  # type: ignore[no-untyped-def]
) -> None:
    data = calibrate(hashing_embedder)
    parts = {(line.file, line.question): line.part for line in dev_lines(corpus)}
    assert data["part"] == "tune"
    assert {parts[(r["set"], r["question"])] for r in _rows(data)} == {"tune"}
    assert {parts[(r["set"], r["question"])] for r in _rows(data["report"])} == {"report"}
    tuned = [q for (name, q), part in parts.items() if name == RETRIEVAL_SET and part == "tune"]
    assert len(data["support"]["own"]["questions"]) == len(tuned)
    assert data["suggested"] == suggest(
        [Scored(r["question"], r["set"], r["score"], group)
         for group, entry in data["refusal"].items() for r in entry["questions"]],
        [Scored(r["question"], r["set"], r["score"], "own", r["closest_other"])
         for r in data["support"]["own"]["questions"]],
    )  # fmt: skip
    assert set(data["report"]["misjudged"]) == {"in_corpus_refused", "out_of_domain_answered",
                                                "near_miss_answered", "own_unsupported"}  # fmt: skip


def test_a_group_without_tune_questions_is_an_error_that_says_what_to_add() -> None:
    refusal = [Scored("a", "", 0.4, "near_miss"), Scored("b", "", 0.5, "in_corpus")]
    with pytest.raises(QuestionFileError, match="out_of_domain: add one to the tune part"):
        suggest(refusal, [Scored("c", "", 0.6, "own", other=0.3)])

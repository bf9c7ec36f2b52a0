"""Bradley-Terry on the shipped real LLMFAO crowd votes against the golden reference scores."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from glassarena.ratings import BradleyTerry

OUTCOME = {"left": 1.0, "right": 0.0, "tie": 0.5}


def _crowd_battles(llmfao_dir: Path) -> tuple[list[str], list[str], list[float]]:
    with (llmfao_dir / "crowd-comparisons.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return (
        [row["left"] for row in rows],
        [row["right"] for row in rows],
        [OUTCOME[row["winner"]] for row in rows],
    )


def _golden(llmfao_dir: Path, algorithm: str) -> dict[str, float]:
    with (llmfao_dir / "golden-scores.csv").open(newline="") as handle:
        return {
            row["item"]: float(row["score"])
            for row in csv.DictReader(handle)
            if row["algorithm"] == algorithm
        }


def test_strengths_match_golden_bradley_terry(llmfao_dir: Path) -> None:
    model_a, model_b, outcome = _crowd_battles(llmfao_dir)
    fitted = BradleyTerry().fit(model_a, model_b, outcome)
    golden = _golden(llmfao_dir, "bradley_terry")

    assert sorted(golden) == fitted.models_.tolist()
    # Strengths are base ** (rating / scale) normalised to sum to 1 (gauge-free).
    strengths = dict(zip(fitted.models_.tolist(), fitted.strengths_, strict=True))
    relative = [abs(strengths[model] - score) / score for model, score in golden.items()]
    assert max(relative) <= 1e-6
    assert np.isclose(fitted.strengths_.sum(), 1.0)


def test_ratings_are_centred_and_follow_strengths(llmfao_dir: Path) -> None:
    model_a, model_b, outcome = _crowd_battles(llmfao_dir)
    fitted = BradleyTerry().fit(model_a, model_b, outcome)

    assert fitted.ratings_.mean() == pytest.approx(1000.0, abs=1e-9)
    implied = 400.0 * np.log10(fitted.strengths_)
    np.testing.assert_allclose(
        fitted.ratings_ - fitted.ratings_.mean(), implied - implied.mean(), atol=1e-8
    )
    assert fitted.battles_.sum() == 2 * len(outcome)
    assert np.all(fitted.lower_ < fitted.ratings_) and np.all(fitted.ratings_ < fitted.upper_)


def test_anchor_pins_one_model_and_keeps_differences(llmfao_dir: Path) -> None:
    model_a, model_b, outcome = _crowd_battles(llmfao_dir)
    centred = BradleyTerry().fit(model_a, model_b, outcome)
    anchored = BradleyTerry(anchor=("GPT 4", 1200.0)).fit(model_a, model_b, outcome)

    pinned = anchored.models_.tolist().index("GPT 4")
    assert anchored.ratings_[pinned] == pytest.approx(1200.0)
    np.testing.assert_allclose(
        anchored.ratings_ - anchored.ratings_[pinned],
        centred.ratings_ - centred.ratings_[pinned],
        atol=1e-9,
    )
    # The anchor is known exactly, and the others' intervals are about their gap to it.
    assert anchored.upper_[pinned] - anchored.lower_[pinned] == pytest.approx(0.0, abs=1e-9)
    gap_variance = (
        centred.covariance_.diagonal()
        + centred.covariance_[pinned, pinned]
        - 2 * centred.covariance_[:, pinned]
    )
    np.testing.assert_allclose(anchored.covariance_.diagonal(), gap_variance, atol=1e-6)

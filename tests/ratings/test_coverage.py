"""Simulation: nominal 95 % intervals cover the true ratings 93-97 % of the time.

Battles are drawn from Bradley-Terry with ties (see benchmarks/_synthetic.py); one model is
thin, with 50 of the 3,000 battles. The truth is centred like the estimates (mean 1000).
Seeded, so the counts below are reproducible; the bands are about +-3 standard errors.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from glassarena.ratings import BradleyTerry

MODELS = 12
BATTLES = 3_000
THIN_BATTLES = 50


def _coverage(synthetic: ModuleType, replications: int, **options: object) -> np.ndarray:
    """Hits per replication (rows) and model (columns); model 0 is the thin one."""
    hits = np.empty((replications, MODELS), dtype=bool)
    for replication in range(replications):
        battles = synthetic.make_battles(
            BATTLES, MODELS, seed=10_000 + replication, thin_battles=THIN_BATTLES
        )
        fitted = BradleyTerry(seed=replication, **options).fit(
            battles.model_a, battles.model_b, battles.outcome
        )
        assert fitted.models_[0] == "model-000"
        truth = battles.true_ratings
        hits[replication] = (fitted.lower_ <= truth) & (truth <= fitted.upper_)
    return hits


@pytest.mark.slow
def test_sandwich_intervals_cover_at_nominal_rate(synthetic: ModuleType) -> None:
    hits = _coverage(synthetic, 1_500)
    assert 0.93 <= hits.mean() <= 0.97
    assert 0.93 <= hits[:, 0].mean() <= 0.97


@pytest.mark.slow
def test_bootstrap_intervals_cover_at_nominal_rate(synthetic: ModuleType) -> None:
    hits = _coverage(synthetic, 600, ci="bootstrap", rounds=1_000)
    assert 0.93 <= hits.mean() <= 0.97
    assert 0.93 <= hits[:, 0].mean() <= 0.97

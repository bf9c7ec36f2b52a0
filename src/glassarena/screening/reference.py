"""The reference ratings every likelihood test compares votes against.

A Bradley-Terry fit (natural-log strengths) with its sandwich covariance, so that a test can
allow for the uncertainty of the ratings themselves ("more than the intervals allow"). A small
L2 prior keeps the fit finite on any subset (a model nobody established has voted on gets
strength 0 and a wide variance rather than an error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit
from scipy.stats import norm

from glassarena.ratings import BradleyTerry
from glassarena.screening.blocks import chunks
from glassarena.screening.table import VoteTable


@dataclass(frozen=True)
class Reference:
    strength: NDArray[np.float64]  # per model of the table, natural-log units
    covariance: NDArray[np.float64]  # of `strength`
    dispersion: float  # observed / Bernoulli variance of outcomes (ties make it < 1)

    def win_probability(self, table: VoteTable) -> NDArray[np.float64]:
        """P(model_a beats model_b) of every vote, a tie counting half."""
        return expit(self.strength[table.model_a] - self.strength[table.model_b])


def fit_reference(table: VoteTable, mask: NDArray[np.bool_], prior: float) -> Reference:
    n = table.n_models
    fit = BradleyTerry(prior=prior, ci="sandwich").fit(
        table.model_a[mask], table.model_b[mask], table.outcome[mask], models=list(table.models)
    )
    present = np.searchsorted(table.models, fit.models_)
    points = fit.scale / np.log(fit.base)
    strength = np.zeros(n)
    strength[present] = (fit.ratings_ - fit.ratings_.mean()) / points
    covariance = np.diag(np.full(n, 1.0 / prior if prior > 0 else 1e6))
    assert fit.covariance_ is not None
    covariance[np.ix_(present, present)] = fit.covariance_ / points**2
    squares = bernoulli = 0.0
    for chunk in chunks(np.flatnonzero(mask)):
        probability = expit(strength[table.model_a[chunk]] - strength[table.model_b[chunk]])
        squares += float(np.sum((table.outcome[chunk] - probability) ** 2))
        bernoulli += float(np.sum(probability * (1.0 - probability)))
    dispersion = squares / bernoulli if bernoulli > 0 else 1.0
    return Reference(strength, covariance, max(dispersion, 1e-3))


def critical_z(alpha: float, tests: int, two_sided: bool = True) -> float:
    """|z| beyond which one of `tests` tests is significant at family-wise level `alpha`."""
    tail = alpha / max(tests, 1) / (2.0 if two_sided else 1.0)
    return float(norm.isf(tail))

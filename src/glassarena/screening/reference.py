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

from glassarena.ratings import BradleyTerry, EmptyInputError
from glassarena.ratings._logistic import expit, normal_quantile
from glassarena.ratings._pairs import pair_table
from glassarena.screening.blocks import chunks
from glassarena.screening.table import VoteTable


@dataclass(frozen=True)
class Reference:
    strength: NDArray[np.float64]  # per model of the table, natural-log units
    covariance: NDArray[np.float64]  # of `strength`
    dispersion: float  # observed / Bernoulli variance of outcomes (ties make it < 1)

    def win_probability(self, table: VoteTable, positions: NDArray[np.intp]) -> NDArray[np.float64]:
        """P(model_a beats model_b) of the votes at `positions`, a tie counting half."""
        return expit(
            self.strength[table.model_a[positions]] - self.strength[table.model_b[positions]]
        )


def fit_reference(table: VoteTable, mask: NDArray[np.bool_], prior: float) -> Reference:
    n = table.n_models
    # Counted per (model a, model b, outcome) a block at a time: the fit needs no more
    # (`pair_table` gives it bit for bit what the rows would), and rows cost memory.
    positions = np.flatnonzero(mask)
    counts = np.zeros(n * n * 3, dtype=np.int64)
    for chunk in chunks(positions):
        outcome_code = np.rint(table.outcome[chunk] * 2).astype(np.int64)
        cell = (table.model_a[chunk].astype(np.int64) * n + table.model_b[chunk]) * 3 + outcome_code
        counts += np.bincount(cell, minlength=n * n * 3)
    by_pair = counts.reshape(n, n, 3)
    present = np.flatnonzero(by_pair.sum(axis=(1, 2)) + by_pair.sum(axis=(0, 2)))
    if len(present) == 0:
        raise EmptyInputError("no counted votes to fit the reference ratings on")
    fit = BradleyTerry(prior=prior, ci="sandwich").fit_table(
        pair_table(by_pair[np.ix_(present, present)]), list(table.models[present])
    )
    points = fit.scale / np.log(fit.base)
    strength = np.zeros(n)
    strength[present] = (fit.ratings_ - fit.ratings_.mean()) / points
    covariance = np.diag(np.full(n, 1.0 / prior if prior > 0 else 1e6))
    assert fit.covariance_ is not None
    covariance[np.ix_(present, present)] = fit.covariance_ / points**2
    squares = bernoulli = 0.0
    for chunk in chunks(positions):
        probability = expit(strength[table.model_a[chunk]] - strength[table.model_b[chunk]])
        squares += float(np.sum((table.outcome[chunk] - probability) ** 2))
        bernoulli += float(np.sum(probability * (1.0 - probability)))
    dispersion = squares / bernoulli if bernoulli > 0 else 1.0
    return Reference(strength, covariance, max(dispersion, 1e-3))


def critical_z(alpha: float, tests: int, two_sided: bool = True) -> float:
    """|z| beyond which one of `tests` tests is significant at family-wise level `alpha`."""
    tail = alpha / max(tests, 1) / (2.0 if two_sided else 1.0)
    return -normal_quantile(tail)

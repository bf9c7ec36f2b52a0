"""Ranks as LMArena shows them, and rank intervals from bootstrap rounds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def rank_from_intervals(
    lower: NDArray[np.float64], upper: NDArray[np.float64]
) -> NDArray[np.int64]:
    """1 + the number of models whose lower bound lies above this model's upper bound."""
    ordered_lower = np.sort(lower)
    above = len(lower) - np.searchsorted(ordered_lower, upper, side="right")
    return (1 + above).astype(np.int64)


def rank_by_rating(ratings: NDArray[np.float64]) -> NDArray[np.int64]:
    """1 + the number of models rated strictly higher (ties share a rank)."""
    return rank_from_intervals(ratings, ratings)


def rank_intervals(
    samples: NDArray[np.float64], level: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Percentile interval of each model's rank over bootstrap rounds (rows of `samples`)."""
    rounds, n = samples.shape
    chunk = max(1, 4_000_000 // max(n * n, 1))
    ranks = np.concatenate(
        [
            1 + (block[:, None, :] > block[:, :, None]).sum(axis=2)
            for block in (samples[start : start + chunk] for start in range(0, rounds, chunk))
        ]
    )
    tail = (1.0 - level) / 2.0
    lower = np.quantile(ranks, tail, axis=0, method="lower")
    upper = np.quantile(ranks, 1.0 - tail, axis=0, method="higher")
    return lower.astype(np.int64), upper.astype(np.int64)

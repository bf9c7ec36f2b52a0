"""Pairwise matrices for heatmaps, rows and columns in the order of the given `models`.

Battles give their models by name, or as integer indices into `models`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._logistic import expit
from glassarena.ratings._pairs import encode_battles, model_indices
from glassarena.ratings._sums import sums_by_index


def battle_count_matrix(
    model_a: ArrayLike, model_b: ArrayLike, models: Sequence[str]
) -> NDArray[np.int64]:
    """counts[i, j] = battles between models i and j, either side (symmetric)."""
    first, second = _positions(model_a, model_b, np.full(len(np.asarray(model_a)), 0.5), models)
    n = len(models)
    ordered = np.bincount(first * n + second, minlength=n * n).reshape(n, n)
    return ordered + ordered.T


def win_fraction_matrix(
    model_a: ArrayLike, model_b: ArrayLike, outcome: ArrayLike, models: Sequence[str]
) -> NDArray[np.float64]:
    """fraction[i, j] = share of i's battles against j that i won, a tie counting half.

    NaN where the two never met. fraction[i, j] + fraction[j, i] = 1 where they did.
    """
    first, second = _positions(model_a, model_b, outcome, models)
    result = np.asarray(outcome, dtype=np.float64)
    n = len(models)
    cell = first * n + second
    won = sums_by_index(cell, result, n * n).reshape(n, n)
    lost = sums_by_index(cell, 1.0 - result, n * n).reshape(n, n)
    wins = won + lost.T
    played = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(played > 0, wins / np.where(played > 0, played, 1.0), np.nan)


def predicted_win_matrix(
    ratings: ArrayLike, scale: float = 400.0, base: float = 10.0
) -> NDArray[np.float64]:
    """probability[i, j] = P(model i beats model j) under Bradley-Terry with these ratings."""
    values = np.asarray(ratings, dtype=np.float64)
    return expit((values[:, None] - values[None, :]) * math.log(base) / scale)


def _positions(
    model_a: ArrayLike, model_b: ArrayLike, outcome: ArrayLike, models: Sequence[str]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Validate the battles and place them in the caller's model order.

    The battles name their models, or give integer indices into `models` (factorised codes,
    which spares hashing every name again).
    """
    codes = np.asarray(model_a).dtype.kind in "iu"
    battles = encode_battles(model_a, model_b, outcome, models=models if codes else None)
    order = model_indices(models, battles.models)
    return order[battles.index_a], order[battles.index_b]

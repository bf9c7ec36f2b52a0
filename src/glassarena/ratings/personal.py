"""A personal Bradley-Terry board: one voter's few votes, shrunk toward the public ratings.

Ten votes cannot rank a dozen models on their own (most pairs are never seen, and a model
that won its only battle would run off to infinity). A Gaussian prior centred on the public
ratings fixes both: a model the voter never saw keeps its public rating, and each vote moves
the models it involves by about what it says. The maximum a posteriori ratings maximise

    sum over votes of log P(outcome)  -  strength / 2 * sum over models (theta - public)^2

on the natural log-odds scale; `strength` is the prior's precision (one even-odds vote adds
0.25 to a model's), so the default 1.0 weighs the public board like four even votes per model.
The objective is strictly concave: Newton's method converges from the public ratings.

`mixed_ratings` combines per-category boards with weights (a voter's own mix of prompt
categories, arena/personal_board.py).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from glassarena.ratings._logistic import expit
from glassarena.ratings.errors import RatingError

DEFAULT_STRENGTH = 1.0
_TOLERANCE = 1e-10
_MAX_ITERATIONS = 100


def shrunk_ratings(
    prior: NDArray[np.float64],
    first: NDArray[np.intp],
    second: NDArray[np.intp],
    outcome: NDArray[np.float64],
    *,
    strength: float = DEFAULT_STRENGTH,
    scale: float = 400.0,
    base: float = 10.0,
) -> NDArray[np.float64]:
    """Ratings (on the prior's Elo-like scale) from votes between models `first[i]` and
    `second[i]` (indices into `prior`) with `outcome[i]` 1.0 / 0.0 / 0.5 for a win of the
    first / second / a tie."""
    if strength <= 0:
        raise RatingError(f"the prior's strength must be positive, not {strength}")
    if not (len(first) == len(second) == len(outcome)):
        raise RatingError("first, second and outcome must have one entry per vote")
    unit = scale / math.log(base)  # Elo points per unit of log-odds
    centre = prior / unit
    theta = centre.copy()
    n = len(prior)
    difference = np.zeros((len(first), n))
    difference[np.arange(len(first)), first] += 1.0
    difference[np.arange(len(first)), second] -= 1.0
    for _ in range(_MAX_ITERATIONS):
        p = expit(difference @ theta)
        gradient = difference.T @ (outcome - p) - strength * (theta - centre)
        hessian = (difference.T * (p * (1 - p))) @ difference + strength * np.eye(n)
        step = np.linalg.solve(hessian, gradient)
        theta += step
        if np.max(np.abs(step), initial=0.0) < _TOLERANCE:
            break
    result: NDArray[np.float64] = theta * unit
    return result


def rank_correlation(first: NDArray[np.float64], second: NDArray[np.float64]) -> float | None:
    """Spearman's rank correlation of two boards' ratings (None below three models, or when
    one board ranks every model equal)."""
    if len(first) < 3 or np.ptp(first) == 0 or np.ptp(second) == 0:
        return None
    # Imported here: scipy.stats takes most of a second, and only this figure needs it.
    from scipy.stats import spearmanr

    correlation = spearmanr(first, second).statistic
    return float(correlation)


def mixed_ratings(
    ratings: NDArray[np.float64], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per-category ratings combined with one weight per category.

    `ratings[c, m]` is model m's rating on category c's board (NaN where m is not on it),
    `weights[c] >= 0`. Each model gets the weighted mean of the boards it is on, the weights
    renormalised over those boards (a model missing from one board is not pulled toward
    zero); NaN for a model on no board with a positive weight.
    """
    if ratings.ndim != 2 or weights.shape != (ratings.shape[0],):
        raise RatingError("ratings must be categories x models, with one weight per category")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise RatingError("category weights must be finite and non-negative")
    present = np.isfinite(ratings)
    weighted = np.where(present, ratings, 0.0) * weights[:, None]
    mass = (present * weights[:, None]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mixed: NDArray[np.float64] = np.where(mass > 0, weighted.sum(axis=0) / mass, np.nan)
    return mixed

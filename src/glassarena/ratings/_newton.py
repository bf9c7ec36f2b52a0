"""Newton's method for the Bradley-Terry log-likelihood on aggregated pairs.

The log-likelihood is concave and its Hessian is a weighted graph Laplacian, singular along
the all-ones direction (adding a constant to every rating changes nothing). Without a prior
the Newton system is solved with `H + 11'/n`, which is positive definite on a connected
graph and returns the step with zero sum, so iterates stay centred.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from glassarena.ratings._logistic import expit
from glassarena.ratings._sums import sums_by_index
from glassarena.ratings.errors import RatingError

STEP_TOLERANCE = 1e-11
# Newton converges quadratically: after a full step smaller than this the remaining error is
# of order FINAL_STEP ** 2, below STEP_TOLERANCE, so no further step is needed to confirm.
FINAL_STEP = 1e-7
MAX_ITERATIONS = 200
MAX_BATCH_ITERATIONS = 60
MAX_BATCH_STEP = 4.0


def laplacian(
    first: NDArray[np.intp], second: NDArray[np.intp], values: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    """Sum over pairs of values * (e_first - e_second)(e_first - e_second)'."""
    off_diagonal = sums_by_index(first * n + second, values, n * n).reshape(n, n)
    off_diagonal = off_diagonal + off_diagonal.T
    matrix = -off_diagonal
    matrix[np.diag_indices(n)] = off_diagonal.sum(axis=1)
    return matrix


def laplacian_pseudo_inverse(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact Moore-Penrose inverse of a connected graph's Laplacian (null space = ones)."""
    n = len(matrix)
    return (np.linalg.inv(matrix + 1.0 / n) - 1.0 / n).astype(np.float64, copy=False)


def log_likelihood(
    theta: NDArray[np.float64],
    first: NDArray[np.intp],
    second: NDArray[np.intp],
    wins: NDArray[np.float64],
    totals: NDArray[np.float64],
    prior: float,
) -> float:
    difference = theta[first] - theta[second]
    fit = wins @ difference - totals @ np.logaddexp(0.0, difference)
    return float(fit - 0.5 * prior * theta @ theta)


def fit_pairs(
    first: NDArray[np.intp],
    second: NDArray[np.intp],
    wins: NDArray[np.float64],
    totals: NDArray[np.float64],
    n: int,
    prior: float,
    start: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Maximise the (penalised) log-likelihood; damped Newton with backtracking."""
    theta = np.zeros(n) if start is None else start.copy()
    current = log_likelihood(theta, first, second, wins, totals, prior)
    for _ in range(MAX_ITERATIONS):
        probability = expit(theta[first] - theta[second])
        residual = wins - totals * probability
        gradient = sums_by_index(first, residual, n) - sums_by_index(second, residual, n)
        gradient -= prior * theta
        hessian = laplacian(first, second, totals * probability * (1.0 - probability), n)
        hessian += prior * np.eye(n) if prior > 0 else 1.0 / n
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while True:
            candidate = theta + size * step
            value = log_likelihood(candidate, first, second, wins, totals, prior)
            if value >= current - 1e-12 * abs(current) or size < 1e-8:
                break
            size /= 2.0
        theta, current = candidate, value
        largest = np.max(np.abs(size * step))
        if largest < STEP_TOLERANCE or (size == 1.0 and largest < FINAL_STEP):
            return theta
    raise RatingError(
        f"Bradley-Terry fit did not converge in {MAX_ITERATIONS} Newton steps; "
        f"the data are nearly separable, pass a small prior (e.g. prior=1.0)"
    )


def fit_pairs_batch(
    first: NDArray[np.intp],
    second: NDArray[np.intp],
    wins: NDArray[np.float64],
    totals: NDArray[np.float64],
    n: int,
    prior: float,
    start: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Fit many resampled tables (rows of `wins`/`totals`) at once, warm-started at `start`.

    Returns the fits and which of them converged; a resample in which some model never wins
    (or never loses) has no finite MLE and is left where the step limit stops it.
    """
    rounds = len(wins)
    theta = np.tile(start, (rounds, 1))
    active = np.arange(rounds)
    diagonal = np.arange(n)
    gauge = prior * np.eye(n) if prior > 0 else np.full((n, n), 1.0 / n)
    # A resample can leave a model without battles; a ridge on the Hessian alone keeps the
    # solve defined there and does not move the fixed point (the gradient is untouched).
    gauge += np.eye(n) * 1e-10 * max(float(totals.sum(axis=1).mean()), 1.0) / n
    # Imported here: only the bootstrap needs it, and a plain fit should not pay its import.
    from scipy.sparse import csr_matrix

    pairs = np.arange(len(first))
    signs = np.r_[np.ones(len(first)), -np.ones(len(first))]
    incidence_t = csr_matrix(
        (signs, (np.r_[first, second], np.r_[pairs, pairs])), shape=(n, len(first))
    )
    membership_t = abs(incidence_t)
    for _ in range(MAX_BATCH_ITERATIONS):
        current = theta[active]
        probability = expit(current[:, first] - current[:, second])
        residual = wins[active] - totals[active] * probability
        gradient = (incidence_t @ residual.T).T - prior * current
        curvature = totals[active] * probability * (1.0 - probability)
        hessian = np.empty((len(active), n, n))
        hessian[:] = gauge
        hessian[:, first, second] -= curvature
        hessian[:, second, first] -= curvature
        hessian[:, diagonal, diagonal] += (membership_t @ curvature.T).T
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        largest = np.max(np.abs(step), axis=1)
        step *= np.minimum(1.0, MAX_BATCH_STEP / np.maximum(largest, 1e-300))[:, None]
        theta[active] = current + step
        active = active[largest >= FINAL_STEP]
        if len(active) == 0:
            break
    converged = np.ones(rounds, dtype=bool)
    converged[active] = False
    return theta, converged

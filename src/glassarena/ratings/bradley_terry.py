"""Maximum-likelihood Bradley-Terry ratings with sandwich or bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._estimator import RatingEstimator
from glassarena.ratings._graph import require_finite_mle
from glassarena.ratings._logistic import expit
from glassarena.ratings._newton import fit_pairs, laplacian, laplacian_pseudo_inverse
from glassarena.ratings._pairs import PairTable, aggregate, encode_battles
from glassarena.ratings._sums import sums_by_index
from glassarena.ratings._threads import one_blas_thread
from glassarena.ratings.bootstrap import bootstrap_pairs


class BradleyTerry(RatingEstimator):
    """P(a beats b) = 1 / (1 + base ** ((rating_b - rating_a) / scale)); a tie is half a win.

    Fitted on the aggregated table (one row per pair and outcome), so the cost after
    aggregation does not grow with the number of battles. See docs/ratings.md.
    """

    def fit(
        self,
        model_a: ArrayLike,
        model_b: ArrayLike,
        outcome: ArrayLike,
        weights: ArrayLike | None = None,
        models: Sequence[str] | None = None,
    ) -> BradleyTerry:
        """Fit on battles given as model names, or as integer indices into `models`."""
        self._check_options()
        with one_blas_thread():
            battles = encode_battles(model_a, model_b, outcome, weights, self.reweight, models)
            table = aggregate(battles, uniform_within_pair=weights is None)
            return self._fit_table(
                table, battles.models, battles.battles_per_model(), len(battles.outcome)
            )

    def fit_table(self, table: PairTable, models: Sequence[str]) -> BradleyTerry:
        """Fit on battles already aggregated (`_pairs.pair_table`), `models` in sorted order.

        The same fit as `fit` on the rows the table counts, for a caller that keeps the
        counts up to date instead of keeping every battle.
        """
        self._check_options()
        if self.reweight:
            raise ValueError("reweight needs the battles; fit them with fit()")
        with one_blas_thread():
            names = np.array(list(models), dtype=str)
            return self._fit_table(table, names, table.battles_per_model(), round(table.n_battles))

    def _fit_table(
        self,
        table: PairTable,
        models: NDArray[np.str_],
        battles_per_model: NDArray[np.int64],
        n_battles: int,
    ) -> BradleyTerry:
        if self.prior == 0:
            require_finite_mle(models, table)
        wins, totals = table.pair_sums()
        theta = fit_pairs(table.first, table.second, wins, totals, table.n_models, self.prior)
        self.log_likelihood_ = _log_likelihood(table, theta)
        self.n_battles_ = n_battles
        self.unstable_rounds_ = 0
        if self.ci == "sandwich":
            self._publish(
                models,
                battles_per_model,
                theta,
                covariance=sandwich_covariance(table, theta, self.prior),
            )
        elif self.ci == "bootstrap":
            samples, self.unstable_rounds_ = bootstrap_pairs(
                table,
                theta,
                self.prior,
                self.rounds,
                np.random.default_rng(self.seed),
                self.progress,
            )
            self._publish(models, battles_per_model, theta, samples=samples)
        else:
            self._publish(models, battles_per_model, theta)
        return self


def sandwich_covariance(
    table: PairTable, theta: NDArray[np.float64], prior: float
) -> NDArray[np.float64]:
    """Huber-White covariance H^-1 J H^-1 of the log-strengths, from the aggregated cells.

    Every battle of a cell has the score w * (outcome - p) * (e_first - e_second), so J sums
    count * w^2 * (outcome - p)^2 per cell. Without a prior H is a Laplacian and its exact
    pseudo-inverse is used (the sum-to-zero constraint), never a ridge.
    """
    n = table.n_models
    probability = expit(theta[table.first] - theta[table.second])
    _, totals = table.pair_sums()
    hessian = laplacian(table.first, table.second, totals * probability * (1 - probability), n)
    residual = table.cell_outcome - probability[table.cell_pair]
    spread = sums_by_index(
        table.cell_pair,
        table.cell_count * table.cell_weight**2 * residual**2,
        len(table.first),
    )
    score_covariance = laplacian(table.first, table.second, spread, n)
    if prior > 0:
        # At the penalised optimum the scores sum to prior * theta, not zero; centre them.
        total_score = prior * theta
        score_covariance -= np.outer(total_score, total_score) / table.n_battles
        inverse = np.linalg.inv(hessian + prior * np.eye(n))
    else:
        inverse = laplacian_pseudo_inverse(hessian)
    return inverse @ score_covariance @ inverse


def _log_likelihood(table: PairTable, theta: NDArray[np.float64]) -> float:
    difference = theta[table.first] - theta[table.second]
    wins, totals = table.pair_sums()
    return float(wins @ difference - totals @ np.logaddexp(0.0, difference))

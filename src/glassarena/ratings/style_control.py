"""Style-controlled (contextual) Bradley-Terry, as LMArena's style control.

logit P(a beats b) = (theta_a - theta_b) + sum_k beta_k x_k, with the style difference
x_k = (a_k - b_k) / (a_k + b_k + 1) of raw per-side counts, standardised over the battles.
Continuous features defeat aggregation, so every step is a vectorised pass over the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, ndtri

from glassarena.ratings._estimator import RatingEstimator
from glassarena.ratings._graph import require_finite_mle
from glassarena.ratings._newton import FINAL_STEP, STEP_TOLERANCE, fit_pairs, laplacian
from glassarena.ratings._pairs import EncodedBattles, aggregate, encode_battles
from glassarena.ratings._sums import sums_by_index
from glassarena.ratings._threads import one_blas_thread
from glassarena.ratings.errors import InvalidInputError, RatingError

MAX_ITERATIONS = 100
BOOTSTRAP_ITERATIONS = 30
# Newton steps on the logistic log-likelihood this small are inside its quadratic region.
TRUSTED_STEP = 1e-3


@dataclass(frozen=True)
class _Design:
    """Rows of the contextual model, sorted by ordered pair (model_a, model_b).

    Sorting once makes every per-pair sum a sequential `add.reduceat`, so the model-level
    blocks are assembled from a few thousand pairs instead of a million rows. Features are
    stored transposed (features x rows) so that each pass runs along contiguous memory.
    """

    outcome: NDArray[np.float64]
    weight: NDArray[np.float64]
    features_t: NDArray[np.float64]
    n_models: int
    pair_first: NDArray[np.intp]
    pair_second: NDArray[np.intp]
    pair_start: NDArray[np.intp]
    pair_rows: NDArray[np.intp]

    @property
    def n_parameters(self) -> int:
        return self.n_models + len(self.features_t)

    def logits(self, parameters: NDArray[np.float64]) -> NDArray[np.float64]:
        theta, beta = parameters[: self.n_models], parameters[self.n_models :]
        gap = np.repeat(theta[self.pair_first] - theta[self.pair_second], self.pair_rows)
        return gap + beta @ self.features_t

    def log_likelihood(
        self,
        logits: NDArray[np.float64],
        probability: NDArray[np.float64],
        weight: NDArray[np.float64],
    ) -> float:
        # log(1 + e^logit) = -log(1 - p): p is at hand, which saves a logaddexp pass.
        loss = np.log1p(-np.minimum(probability, 1.0 - 1e-16))
        return float(weight @ (self.outcome * logits + loss))

    def newton_system(
        self, score: NDArray[np.float64], curvature: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Sum over rows of score * z, and of curvature * z z', z = (e_a - e_b, x)."""
        per_pair = np.add.reduceat(score, self.pair_start)
        gradient = np.concatenate([self._by_model(per_pair), self.features_t @ score])
        return gradient, self.outer_sums(curvature)[0]

    def outer_sums(self, *per_row: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        """Sum over rows of w * z z' for each given w, all in one pass over the rows."""
        n, k, m = self.n_models, len(self.features_t), len(per_row)
        rows = np.empty((m * (k + 1), len(self.outcome)))
        for index, values in enumerate(per_row):
            rows[index] = values
            np.multiply(self.features_t, values, out=rows[m + index * k : m + (index + 1) * k])
        per_pair = np.add.reduceat(rows, self.pair_start, axis=1)
        feature_blocks = rows[m:] @ self.features_t.T
        matrices = []
        for index in range(m):
            matrix = np.empty((n + k, n + k))
            matrix[:n, :n] = laplacian(self.pair_first, self.pair_second, per_pair[index], n)
            weighted = range(m + index * k, m + (index + 1) * k)
            cross = np.stack([self._by_model(per_pair[row]) for row in weighted], axis=1)
            matrix[:n, n:] = cross
            matrix[n:, :n] = cross.T
            matrix[n:, n:] = feature_blocks[index * k : (index + 1) * k]
            matrices.append(matrix)
        return matrices

    def _by_model(self, per_pair: NDArray[np.float64]) -> NDArray[np.float64]:
        n = self.n_models
        return sums_by_index(self.pair_first, per_pair, n) - sums_by_index(
            self.pair_second, per_pair, n
        )


class StyleControlledBradleyTerry(RatingEstimator):
    """Bradley-Terry with style covariates; ratings_ are the style-controlled ratings.

    `style_coef_` are on the logit scale per standard deviation of each standardised
    style difference (as LMArena reports them).
    """

    # Fitted attributes beyond RatingEstimator's.
    feature_names_: NDArray[np.str_]
    feature_mean_: NDArray[np.float64]
    feature_scale_: NDArray[np.float64]
    style_coef_: NDArray[np.float64]
    style_lower_: NDArray[np.float64] | None
    style_upper_: NDArray[np.float64] | None
    style_covariance_: NDArray[np.float64] | None

    def fit(
        self,
        model_a: ArrayLike,
        model_b: ArrayLike,
        outcome: ArrayLike,
        features_a: ArrayLike,
        features_b: ArrayLike,
        feature_names: Sequence[str] | None = None,
        weights: ArrayLike | None = None,
        models: Sequence[str] | None = None,
    ) -> StyleControlledBradleyTerry:
        """Fit on battles given as model names, or as integer indices into `models`."""
        self._check_options()
        with one_blas_thread():
            battles = encode_battles(model_a, model_b, outcome, weights, self.reweight, models)
            raw_a = _as_counts(features_a, "features_a")
            raw_b = _as_counts(features_b, "features_b")
            names = _feature_names(feature_names, raw_a, raw_b, len(np.asarray(outcome)))
            if len(battles.rows) < len(raw_a):
                raw_a, raw_b = raw_a[battles.rows], raw_b[battles.rows]
            # Features x rows, whatever the callers' layout: every later pass runs along a row.
            difference = np.subtract(raw_a.T, raw_b.T, out=np.empty(raw_a.shape[::-1]))
            total = np.add(raw_a.T, raw_b.T, out=np.empty(raw_a.shape[::-1]))
            total += 1.0
            difference /= total
            self.feature_mean_ = difference.mean(axis=1)
            difference -= self.feature_mean_[:, None]
            self.feature_scale_ = np.sqrt(
                np.einsum("ij,ij->i", difference, difference) / difference.shape[1]
            )
            # Differences lie in (-1, 1); a spread below rounding error means a constant column.
            constant = [
                name for name, sd in zip(names, self.feature_scale_, strict=True) if sd < 1e-12
            ]
            if constant:
                raise InvalidInputError(
                    f"style feature(s) {', '.join(constant)} have the same difference in every "
                    f"battle, so their effect cannot be estimated; leave them out"
                )
            difference /= self.feature_scale_[:, None]
            design = _design(battles, difference)

            table = aggregate(battles, uniform_within_pair=weights is None)
            if self.prior == 0:
                require_finite_mle(battles.models, table)
            wins, totals = table.pair_sums()
            start = np.zeros(design.n_parameters)
            start[: design.n_models] = fit_pairs(
                table.first, table.second, wins, totals, table.n_models, self.prior
            )
            parameters, converged = _fit_rows(
                design, design.weight, self.prior, start, MAX_ITERATIONS
            )
            if not converged:
                raise RatingError(
                    "style-controlled fit did not converge; the style features may separate "
                    "the outcomes, pass a small prior (e.g. prior=1.0)"
                )
            n = design.n_models
            self.feature_names_ = np.array(names, dtype=str)
            self.style_coef_ = parameters[n:]
            logits = design.logits(parameters)
            self.log_likelihood_ = design.log_likelihood(logits, expit(logits), design.weight)
            self.n_battles_ = len(design.outcome)
            self.unstable_rounds_ = 0
            battle_counts = battles.battles_per_model()
            self.style_lower_ = self.style_upper_ = None
            if self.ci == "sandwich":
                covariance = _sandwich(design, parameters, self.prior)
                self._publish(battles.models, battle_counts, parameters[:n], covariance[:n, :n])
                self.style_covariance_ = covariance[n:, n:]
                half_width = ndtri(0.5 + self.level / 2.0) * np.sqrt(np.diag(covariance)[n:])
                self.style_lower_ = self.style_coef_ - half_width
                self.style_upper_ = self.style_coef_ + half_width
            elif self.ci == "bootstrap":
                samples = self._bootstrap(design, parameters)
                self._publish(battles.models, battle_counts, parameters[:n], samples=samples[:, :n])
                tail = (1.0 - self.level) / 2.0
                # One round has no spread to estimate, as in BradleyTerry's covariance_.
                self.style_covariance_ = (
                    np.atleast_2d(np.cov(samples[:, n:], rowvar=False))
                    if len(samples) > 1
                    else None
                )
                self.style_lower_ = np.quantile(samples[:, n:], tail, axis=0)
                self.style_upper_ = np.quantile(samples[:, n:], 1.0 - tail, axis=0)
            else:
                self._publish(battles.models, battle_counts, parameters[:n])
                self.style_covariance_ = None
            return self

    def _bootstrap(self, design: _Design, parameters: NDArray[np.float64]) -> NDArray[np.float64]:
        """Resample battles (rows) with replacement; each round is a warm-started refit."""
        rng = np.random.default_rng(self.seed)
        rows = len(design.outcome)
        samples = np.empty((self.rounds, design.n_parameters))
        unstable = 0
        for round_number in range(self.rounds):
            drawn = np.bincount(rng.integers(0, rows, rows), minlength=rows)
            fitted, converged = _fit_rows(
                design, design.weight * drawn, self.prior, parameters, BOOTSTRAP_ITERATIONS
            )
            # A round without a finite MLE keeps its last iterate, far out, as in BradleyTerry.
            unstable += not converged
            samples[round_number] = fitted
            if self.progress is not None:
                self.progress(round_number + 1, self.rounds)
        self.unstable_rounds_ = unstable
        return samples


def _fit_rows(
    design: _Design,
    weight: NDArray[np.float64],
    prior: float,
    start: NDArray[np.float64],
    max_iterations: int,
) -> tuple[NDArray[np.float64], bool]:
    """Damped Newton on the rows: the last iterate, and whether it converged.

    Logits are linear in the parameters, so a trial step costs one axpy on the logits.
    """
    gauge = _gauge(design.n_models, design.n_parameters, prior)
    parameters = start.copy()
    logits = design.logits(parameters)
    probability = expit(logits)
    current: float | None = None
    for _ in range(max_iterations):
        gradient, hessian = design.newton_system(
            weight * (design.outcome - probability), weight * probability * (1.0 - probability)
        )
        step = np.linalg.solve(hessian + gauge, gradient - prior * parameters).astype(
            np.float64, copy=False
        )
        step_logits = design.logits(step)
        size = 1.0
        if np.max(np.abs(step)) > TRUSTED_STEP:
            # Far from the optimum a full step may overshoot: backtrack on the objective.
            if current is None:
                current = _penalised(design, logits, probability, weight, parameters, prior)
            while True:
                trial_logits = logits + size * step_logits
                trial_probability = expit(trial_logits)
                trial = parameters + size * step
                value = _penalised(design, trial_logits, trial_probability, weight, trial, prior)
                if value >= current - 1e-12 * abs(current) or size < 1e-8:
                    break
                size /= 2.0
            current = value
        else:
            trial_logits = logits + step_logits
            trial_probability = expit(trial_logits)
            trial = parameters + step
            current = None
        parameters, logits, probability = trial, trial_logits, trial_probability
        largest = np.max(np.abs(size * step))
        if largest < STEP_TOLERANCE or (size == 1.0 and largest < FINAL_STEP):
            return parameters, True
    return parameters, False


def _penalised(
    design: _Design,
    logits: NDArray[np.float64],
    probability: NDArray[np.float64],
    weight: NDArray[np.float64],
    parameters: NDArray[np.float64],
    prior: float,
) -> float:
    return design.log_likelihood(logits, probability, weight) - 0.5 * prior * float(
        parameters @ parameters
    )


def _sandwich(
    design: _Design, parameters: NDArray[np.float64], prior: float
) -> NDArray[np.float64]:
    """H^-1 J H^-1 with J from per-battle scores; the exact pseudo-inverse without a prior."""
    n, size = design.n_models, design.n_parameters
    probability = expit(design.logits(parameters))
    weight = design.weight
    hessian, score_covariance = design.outer_sums(
        weight * probability * (1.0 - probability), (weight * (design.outcome - probability)) ** 2
    )
    if prior > 0:
        # At the penalised optimum the scores sum to prior * parameters; centre them.
        total_score = prior * parameters
        score_covariance -= np.outer(total_score, total_score) / len(weight)
        inverse = np.linalg.inv(hessian + prior * np.eye(size))
    else:
        gauge = _gauge(n, size, prior)
        inverse = np.linalg.inv(hessian + gauge) - gauge
    return inverse @ score_covariance @ inverse


def _gauge(n: int, size: int, prior: float) -> NDArray[np.float64]:
    """prior * I, or v v' with v the unit all-ones direction of the ratings (H's null space)."""
    if prior > 0:
        return prior * np.eye(size)
    gauge = np.zeros((size, size))
    gauge[:n, :n] = 1.0 / n
    return gauge


def _design(battles: EncodedBattles, features_t: NDArray[np.float64]) -> _Design:
    n = battles.n_models
    key = battles.index_a * n + battles.index_b
    # Small keys sort by radix in numpy when they fit 16 bits, several times faster.
    sortable = key.astype(np.uint16) if n * n <= 1 << 16 else key
    order = np.argsort(sortable, kind="stable")
    sorted_key = key[order]
    pair_start = np.flatnonzero(np.r_[True, np.diff(sorted_key) != 0])
    ordered_pairs = sorted_key[pair_start]
    return _Design(
        outcome=battles.outcome[order],
        weight=battles.weight[order],
        # `take` is several times faster than fancy indexing here.
        features_t=features_t.take(order, axis=1),
        n_models=n,
        pair_first=(ordered_pairs // n).astype(np.intp),
        pair_second=(ordered_pairs % n).astype(np.intp),
        pair_start=pair_start,
        pair_rows=np.diff(np.r_[pair_start, len(key)]),
    )


def _as_counts(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        counts = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be numeric style counts: {error}") from None
    if counts.ndim == 1:
        counts = counts[:, None]
    if counts.ndim != 2:
        raise InvalidInputError(f"{name} must be a (battles x features) array, got {counts.shape}")
    # Two reductions find trouble without row-sized temporaries (NaN fails `>=`, inf the sum).
    if counts.size and counts.min() >= 0 and np.isfinite(counts.sum()):
        return counts
    bad = np.argwhere(~np.isfinite(counts) | (counts < 0))
    if len(bad):
        row, column = bad[0]
        raise InvalidInputError(
            f"{name} must hold finite counts >= 0; row {row}, feature {column} holds "
            f"{counts[row, column]!r}" + (f" ({len(bad) - 1} more too)" if len(bad) > 1 else "")
        )
    return counts


def _feature_names(
    names: Sequence[str] | None,
    raw_a: NDArray[np.float64],
    raw_b: NDArray[np.float64],
    n_battles: int,
) -> list[str]:
    if raw_a.shape != raw_b.shape:
        raise InvalidInputError(
            f"features_a and features_b differ in shape: {raw_a.shape} vs {raw_b.shape}"
        )
    if len(raw_a) != n_battles:
        raise InvalidInputError(
            f"features have {len(raw_a)} rows but there are {n_battles} battles"
        )
    width = raw_a.shape[1]
    chosen = [f"feature_{k}" for k in range(width)] if names is None else list(names)
    if len(chosen) != width:
        raise InvalidInputError(f"{len(chosen)} feature_names given for {width} features")
    return chosen

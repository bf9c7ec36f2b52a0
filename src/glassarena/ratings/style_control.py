"""Style-controlled (contextual) Bradley-Terry, as LMArena's style control.

logit P(a beats b) = (theta_a - theta_b) + sum_k beta_k x_k, with the style difference
x_k = (a_k - b_k) / (a_k + b_k + 1) of raw per-side counts, standardised over the battles.
Continuous features defeat aggregation, so every step is a vectorised pass over the rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._estimator import RatingEstimator, interval_half_width
from glassarena.ratings._graph import require_finite_mle
from glassarena.ratings._logistic import expit
from glassarena.ratings._newton import FINAL_STEP, STEP_TOLERANCE, fit_pairs, laplacian
from glassarena.ratings._pairs import EncodedBattles, aggregate, encode_battles
from glassarena.ratings._sums import sums_by_index
from glassarena.ratings._threads import one_blas_thread
from glassarena.ratings.errors import InvalidInputError, RatingError

MAX_ITERATIONS = 100
BOOTSTRAP_ITERATIONS = 30
# Newton steps on the logistic log-likelihood this small are inside its quadratic region.
TRUSTED_STEP = 1e-3
# Rows a pass takes at a time: its temporaries (a few rows of this length per feature) stay
# in cache between its steps.
CHUNK_ROWS = 1 << 16


@dataclass(frozen=True)
class _Chunk:
    """A stretch of the design's rows: `rows`, holding parts of the pairs `pairs`, each from
    `starts` (counted from the chunk's first row) for `lengths` rows."""

    rows: slice
    pairs: slice
    starts: NDArray[np.intp]
    lengths: NDArray[np.intp]


@dataclass(frozen=True)
class _Design:
    """Rows of the contextual model, sorted by ordered pair (model_a, model_b).

    Sorting once makes every per-pair sum a sequential `add.reduceat`, so the model-level
    blocks are assembled from a few thousand pairs instead of a million rows. Features are
    stored transposed (features x rows) so that each pass runs along contiguous memory.
    A pass goes over the rows a chunk at a time: its temporaries are a few chunk-length
    rows instead of several arrays as long as the data (800 MB for the sandwich's at
    10,000,000 battles), and they stay in cache from one step of the pass to the next.
    """

    outcome: NDArray[np.float32]
    weight: NDArray[np.float64]
    features_t: NDArray[np.float64]
    n_models: int
    pair_first: NDArray[np.intp]
    pair_second: NDArray[np.intp]
    chunks: tuple[_Chunk, ...]

    @property
    def n_parameters(self) -> int:
        return self.n_models + len(self.features_t)

    def probabilities(
        self, parameters: NDArray[np.float64]
    ) -> Iterator[tuple[_Chunk, NDArray[np.float64], NDArray[np.float64]]]:
        """Each chunk with its rows' logits and win probabilities at `parameters`."""
        theta, beta = parameters[: self.n_models], parameters[self.n_models :]
        gaps = theta[self.pair_first] - theta[self.pair_second]
        for chunk in self.chunks:
            logits = np.repeat(gaps[chunk.pairs], chunk.lengths)
            logits += beta @ self.features_t[:, chunk.rows]
            yield chunk, logits, expit(logits)

    def log_likelihood(self, parameters: NDArray[np.float64], weight: NDArray[np.float64]) -> float:
        total = 0.0
        for chunk, logits, probability in self.probabilities(parameters):
            # log(1 + e^logit) = -log(1 - p): p is at hand, which saves a logaddexp pass.
            loss = np.log1p(-np.minimum(probability, 1.0 - 1e-16))
            loss += self.outcome[chunk.rows] * logits
            total += float(weight[chunk.rows] @ loss)
        return total

    def newton_system(
        self,
        parameters: NDArray[np.float64],
        weight: NDArray[np.float64],
        score_covariance: bool = False,
    ) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
        """At `parameters`, in one pass over the rows: the gradient (the sum over rows of
        score * z, z = (e_a - e_b, x)) and the Hessian (of curvature * z z'); with
        `score_covariance`, also the sum of score^2 * z z' (the sandwich's meat)."""
        n, k = self.n_models, len(self.features_t)
        m = 2 if score_covariance else 1
        # Block rows: the score, then per weighted sum its weight w and w * x for each x.
        per_pair = np.zeros((1 + m * (k + 1), len(self.pair_first)))
        feature_blocks = np.zeros((m, k, k))
        feature_scores = np.zeros(k)
        for chunk, _, probability in self.probabilities(parameters):
            rows = chunk.rows
            features = self.features_t[:, rows]
            block = np.empty((len(per_pair), features.shape[1]))
            score = block[0]
            np.multiply(weight[rows], self.outcome[rows] - probability, out=score)
            np.multiply(weight[rows] * probability, 1.0 - probability, out=block[1])
            if score_covariance:
                np.multiply(score, score, out=block[k + 2])
            for index in range(m):
                weighted = block[2 + index * (k + 1) : 1 + (index + 1) * (k + 1)]
                np.multiply(features, block[1 + index * (k + 1)], out=weighted)
                feature_blocks[index] += weighted @ features.T
            feature_scores += features @ score
            # A pair cut by the chunk's edges adds the part of it that the chunk holds.
            per_pair[:, chunk.pairs] += np.add.reduceat(block, chunk.starts, axis=1)
        gradient = np.concatenate([self._by_model(per_pair[0]), feature_scores])
        matrices = []
        for index in range(m):
            first = 1 + index * (k + 1)
            matrix = np.empty((n + k, n + k))
            matrix[:n, :n] = laplacian(self.pair_first, self.pair_second, per_pair[first], n)
            cross = np.stack(
                [self._by_model(row) for row in per_pair[first + 1 : first + 1 + k]], axis=1
            )
            matrix[:n, n:] = cross
            matrix[n:, :n] = cross.T
            matrix[n:, n:] = feature_blocks[index]
            matrices.append(matrix)
        return gradient, matrices

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
            table = aggregate(battles, uniform_within_pair=weights is None)
            fitted_models, battle_counts = battles.models, battles.battles_per_model()
            pairs = _sorted_pairs(battles, unit_weight=weights is None and not self.reweight)
            # The encoded rows are not needed past here: freed before the features are
            # made, the fit's largest array (10,000,000 battles: 320 MB, 4 features).
            del battles
            features_t = self._standardised(raw_a, raw_b, pairs.source, names)
            design = _Design(
                outcome=pairs.outcome,
                weight=pairs.weight,
                features_t=features_t,
                n_models=len(fitted_models),
                pair_first=pairs.first,
                pair_second=pairs.second,
                chunks=_chunks(pairs.start, len(pairs.source), CHUNK_ROWS),
            )
            del pairs
            if self.prior == 0:
                require_finite_mle(fitted_models, table)
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
            self.log_likelihood_ = design.log_likelihood(parameters, design.weight)
            self.n_battles_ = len(design.outcome)
            self.unstable_rounds_ = 0
            self.style_lower_ = self.style_upper_ = None
            if self.ci == "sandwich":
                covariance = _sandwich(design, parameters, self.prior)
                self._publish(fitted_models, battle_counts, parameters[:n], covariance[:n, :n])
                self.style_covariance_ = covariance[n:, n:]
                half_width = interval_half_width(np.diag(covariance)[n:], self.level)
                self.style_lower_ = self.style_coef_ - half_width
                self.style_upper_ = self.style_coef_ + half_width
            elif self.ci == "bootstrap":
                samples = self._bootstrap(design, parameters)
                self._publish(fitted_models, battle_counts, parameters[:n], samples=samples[:, :n])
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
                self._publish(fitted_models, battle_counts, parameters[:n])
                self.style_covariance_ = None
            return self

    def _standardised(
        self,
        raw_a: NDArray[np.floating],
        raw_b: NDArray[np.floating],
        source: NDArray[np.intp],
        names: list[str],
    ) -> NDArray[np.float64]:
        """The standardised style differences, features x rows, of the callers' rows
        `source` (in the design's order); sets feature_mean_ and feature_scale_.

        Made one chunk of rows at a time, straight into the one array the design keeps:
        counts stay as the caller holds them (float32 on a live board) until then, so no
        copy of them, nor a row-length temporary, is ever made.
        """
        features_t = np.empty((raw_a.shape[1], len(source)))
        for start in range(0, len(source), CHUNK_ROWS):
            rows = source[start : start + CHUNK_ROWS]
            for feature, column_a, column_b in zip(features_t, raw_a.T, raw_b.T, strict=True):
                # Indexing, not `take`, which would first copy a strided column whole;
                # and a column at a time, which numpy gathers several times faster than
                # rows of a strided array.
                side_a, side_b = column_a[rows], column_b[rows]
                part = feature[start : start + CHUNK_ROWS]
                np.subtract(side_a, side_b, out=part, dtype=np.float64)
                total = np.add(side_a, side_b, dtype=np.float64)
                total += 1.0
                part /= total
        self.feature_mean_ = features_t.mean(axis=1)
        features_t -= self.feature_mean_[:, None]
        self.feature_scale_ = np.sqrt(
            np.einsum("ij,ij->i", features_t, features_t) / features_t.shape[1]
        )
        # Differences lie in (-1, 1); a spread below rounding error means a constant column.
        constant = [name for name, sd in zip(names, self.feature_scale_, strict=True) if sd < 1e-12]
        if constant:
            raise InvalidInputError(
                f"style feature(s) {', '.join(constant)} have the same difference in every "
                f"battle, so their effect cannot be estimated; leave them out"
            )
        features_t /= self.feature_scale_[:, None]
        return features_t

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
    """Damped Newton on the rows: the last iterate, and whether it converged."""
    gauge = _gauge(design.n_models, design.n_parameters, prior)
    parameters = start.copy()
    current: float | None = None
    for _ in range(max_iterations):
        gradient, (hessian,) = design.newton_system(parameters, weight)
        step = np.linalg.solve(hessian + gauge, gradient - prior * parameters).astype(
            np.float64, copy=False
        )
        size = 1.0
        if np.max(np.abs(step)) > TRUSTED_STEP:
            # Far from the optimum a full step may overshoot: backtrack on the objective.
            if current is None:
                current = _penalised(design, parameters, weight, prior)
            while True:
                trial = parameters + size * step
                value = _penalised(design, trial, weight, prior)
                if value >= current - 1e-12 * abs(current) or size < 1e-8:
                    break
                size /= 2.0
            current = value
        else:
            trial = parameters + step
            current = None
        parameters = trial
        largest = np.max(np.abs(size * step))
        if largest < STEP_TOLERANCE or (size == 1.0 and largest < FINAL_STEP):
            return parameters, True
    return parameters, False


def _penalised(
    design: _Design, parameters: NDArray[np.float64], weight: NDArray[np.float64], prior: float
) -> float:
    return design.log_likelihood(parameters, weight) - 0.5 * prior * float(parameters @ parameters)


def _sandwich(
    design: _Design, parameters: NDArray[np.float64], prior: float
) -> NDArray[np.float64]:
    """H^-1 J H^-1 with J from per-battle scores; the exact pseudo-inverse without a prior."""
    n, size = design.n_models, design.n_parameters
    _, (hessian, score_covariance) = design.newton_system(
        parameters, design.weight, score_covariance=True
    )
    if prior > 0:
        # At the penalised optimum the scores sum to prior * parameters; centre them.
        total_score = prior * parameters
        score_covariance -= np.outer(total_score, total_score) / len(design.weight)
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


@dataclass(frozen=True)
class _SortedPairs:
    """The encoded battles sorted by ordered pair: where each pair's rows start, its
    models, and per row (in that order) the outcome, the weight and the caller's row."""

    start: NDArray[np.intp]
    first: NDArray[np.intp]
    second: NDArray[np.intp]
    outcome: NDArray[np.float32]
    weight: NDArray[np.float64]
    source: NDArray[np.intp]


def _sorted_pairs(battles: EncodedBattles, unit_weight: bool) -> _SortedPairs:
    """`unit_weight`: every battle weighs 1 (no caller weights, no reweighting)."""
    n = battles.n_models
    key = battles.index_a * n
    key += battles.index_b
    if n * n <= 1 << 16:
        # Small keys sort by radix in numpy when they fit 16 bits, several times faster.
        key = key.astype(np.uint16)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    del key
    start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    pairs = sorted_key[start].astype(np.intp)
    return _SortedPairs(
        start=start,
        first=pairs // n,
        second=pairs % n,
        # Outcomes are 0, 0.5 or 1, exact in float32 (and in the float64 sums they enter).
        outcome=battles.outcome.astype(np.float32)[order],
        # Weights of 1 are one read-only 1.0 seen from every row, not a row-length array.
        weight=np.broadcast_to(np.float64(1.0), len(order))
        if unit_weight
        else battles.weight[order],
        source=order if battles.rows is None else battles.rows[order],
    )


def _chunks(pair_start: NDArray[np.intp], n_rows: int, chunk_rows: int) -> tuple[_Chunk, ...]:
    """The sorted rows cut every `chunk_rows` rows, pairs cut where the cuts fall."""
    chunks = []
    for first in range(0, n_rows, chunk_rows):
        last = min(first + chunk_rows, n_rows)
        pairs = slice(
            int(np.searchsorted(pair_start, first, side="right")) - 1,
            int(np.searchsorted(pair_start, last, side="left")),
        )
        starts = np.maximum(pair_start[pairs], first) - first
        chunks.append(
            _Chunk(slice(first, last), pairs, starts, np.diff(np.r_[starts, last - first]))
        )
    return tuple(chunks)


def _as_counts(values: ArrayLike, name: str) -> NDArray[np.floating]:
    try:
        counts = np.asarray(values)
        # Floats stay as given (a live board's float32 counts): the features are made from
        # them in float64 one chunk at a time, without converting a copy of them all.
        if counts.dtype.kind != "f":
            counts = counts.astype(np.float64)
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
    raw_a: NDArray[np.floating],
    raw_b: NDArray[np.floating],
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

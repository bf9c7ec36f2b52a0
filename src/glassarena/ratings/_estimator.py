"""What every rating estimator shares: options, the Elo-like scale, intervals and ranks."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._fitted import FittedAttributes
from glassarena.ratings._logistic import expit, normal_quantile
from glassarena.ratings._pairs import model_indices
from glassarena.ratings.errors import UnknownModelError
from glassarena.ratings.ranking import rank_by_rating, rank_from_intervals, rank_intervals

CI_METHODS = ("sandwich", "bootstrap", None)


class RatingEstimator(FittedAttributes):
    """Hyper-parameters in __init__, fit() returns self, fitted attributes end in `_`.

    Ratings are `offset + scale * log_base(strength)`; `offset` is `initial_rating` with the
    ratings averaging to it (`center=True`), or the anchor's value with the anchor model
    pinned to it (`anchor=("model", 1200.0)`).
    """

    # Fitted attributes, set by fit() (declared for the type checker; see _fitted.py).
    models_: NDArray[np.str_]
    battles_: NDArray[np.int64]
    ratings_: NDArray[np.float64]
    strengths_: NDArray[np.float64]
    covariance_: NDArray[np.float64] | None
    lower_: NDArray[np.float64] | None
    upper_: NDArray[np.float64] | None
    rank_: NDArray[np.int64]
    rank_lower_: NDArray[np.int64] | None
    rank_upper_: NDArray[np.int64] | None
    log_likelihood_: float
    n_battles_: int
    unstable_rounds_: int

    def __init__(
        self,
        scale: float = 400.0,
        base: float = 10.0,
        initial_rating: float = 1000.0,
        center: bool = True,
        anchor: tuple[str, float] | None = None,
        prior: float = 0.0,
        reweight: bool = False,
        ci: str | None = "sandwich",
        level: float = 0.95,
        rounds: int = 1000,
        seed: int | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> None:
        self.scale = scale
        self.base = base
        self.initial_rating = initial_rating
        self.center = center
        self.anchor = anchor
        self.prior = prior
        self.reweight = reweight
        self.ci = ci
        self.level = level
        self.rounds = rounds
        self.seed = seed
        self.progress = progress

    def _check_options(self) -> None:
        if not (self.scale > 0 and self.base > 1):
            raise ValueError(
                f"need scale > 0 and base > 1, got scale={self.scale}, base={self.base}"
            )
        if not (self.prior >= 0 and math.isfinite(self.prior)):
            raise ValueError(f"prior must be a finite number >= 0, got {self.prior!r}")
        if self.ci not in CI_METHODS:
            raise ValueError(f"ci must be one of {CI_METHODS}, got {self.ci!r}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must lie strictly between 0 and 1, got {self.level!r}")
        if self.ci == "bootstrap" and (not isinstance(self.rounds, int) or self.rounds < 1):
            raise ValueError(f"rounds must be a positive integer, got {self.rounds!r}")
        if self.anchor is None and not self.center:
            raise ValueError(
                "center=False needs an anchor, e.g. anchor=('some-model', 1200.0): the "
                "likelihood fixes only differences between ratings"
            )
        if self.anchor is not None and (
            len(self.anchor) != 2 or not isinstance(self.anchor[0], str)
        ):
            raise ValueError(f"anchor must be (model name, rating), got {self.anchor!r}")

    @property
    def _points_per_unit(self) -> float:
        """Rating points per unit of natural-log strength."""
        return self.scale / math.log(self.base)

    def _gauge(self, models: NDArray[np.str_]) -> tuple[NDArray[np.float64], float]:
        """The linear map from fitted log-strengths to reported ones, and the offset."""
        n = len(models)
        if self.anchor is None:
            return np.eye(n) - 1.0 / n, float(self.initial_rating)
        name, value = self.anchor
        if name not in set(models.tolist()):
            raise UnknownModelError([name])
        pinned = int(np.searchsorted(models, name))
        gauge = np.eye(n)
        gauge[:, pinned] -= 1.0
        return gauge, float(value)

    def _publish(
        self,
        models: NDArray[np.str_],
        battles: NDArray[np.int64],
        theta: NDArray[np.float64],
        covariance: NDArray[np.float64] | None = None,
        samples: NDArray[np.float64] | None = None,
    ) -> None:
        """Set the fitted attributes from log-strengths and their covariance or bootstrap."""
        gauge, offset = self._gauge(models)
        points = self._points_per_unit
        self.models_ = models
        self.battles_ = battles
        self.ratings_ = offset + points * (gauge @ theta)
        strength = np.exp(theta - theta.max())
        self.strengths_ = strength / strength.sum()
        self.covariance_ = None
        lower: NDArray[np.float64] | None = None
        upper: NDArray[np.float64] | None = None
        self.rank_lower_ = self.rank_upper_ = None
        if covariance is not None:
            self.covariance_ = points**2 * (gauge @ covariance @ gauge.T)
            half_width = interval_half_width(np.diag(self.covariance_), self.level)
            lower = self.ratings_ - half_width
            upper = self.ratings_ + half_width
        if samples is not None:
            rated = offset + points * (samples @ gauge.T)
            tail = (1.0 - self.level) / 2.0
            lower = np.quantile(rated, tail, axis=0).astype(np.float64, copy=False)
            upper = np.quantile(rated, 1.0 - tail, axis=0).astype(np.float64, copy=False)
            self.covariance_ = (
                np.cov(rated, rowvar=False).astype(np.float64, copy=False)
                if len(rated) > 1
                else None
            )
            self.rank_lower_, self.rank_upper_ = rank_intervals(rated, self.level)
        self.lower_, self.upper_ = lower, upper
        if lower is None or upper is None:
            self.rank_ = rank_by_rating(self.ratings_)
        else:
            self.rank_ = rank_from_intervals(lower, upper)

    def predict_proba(self, model_a: ArrayLike, model_b: ArrayLike) -> NDArray[np.float64]:
        """P(model_a beats model_b), a tie counting as half, from the fitted ratings."""
        self._require_fitted("predict_proba")
        first = model_indices(self.models_, model_a)
        second = model_indices(self.models_, model_b)
        gap = (self.ratings_[first] - self.ratings_[second]) / self._points_per_unit
        return np.asarray(expit(gap), dtype=np.float64)


def interval_half_width(variance: NDArray[np.float64], level: float) -> NDArray[np.float64]:
    """Half the width of normal intervals at `level` around estimates of these variances.

    A parameter that cannot vary (a constant style feature) has variance 0, which rounding
    can leave a hair below zero: clipped, so that its interval is a point, not NaN."""
    width: NDArray[np.float64] = normal_quantile(0.5 + level / 2.0) * np.sqrt(
        np.clip(variance, 0.0, None)
    )
    return width

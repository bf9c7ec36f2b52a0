"""Online Elo: the sequential k-factor update older leaderboards used, for comparison.

Unlike Bradley-Terry it depends on the order of the battles and weighs recent ones more.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._fitted import FittedAttributes
from glassarena.ratings._logistic import expit
from glassarena.ratings._pairs import encode_battles, model_indices
from glassarena.ratings.ranking import rank_by_rating


class OnlineElo(FittedAttributes):
    """rating_a += k * (outcome - expected_a), the mirror update for model_b, in battle order."""

    def __init__(
        self,
        k: float = 4.0,
        scale: float = 400.0,
        base: float = 10.0,
        initial_rating: float = 1000.0,
    ) -> None:
        self.k = k
        self.scale = scale
        self.base = base
        self.initial_rating = initial_rating

    def fit(self, model_a: ArrayLike, model_b: ArrayLike, outcome: ArrayLike) -> OnlineElo:
        if not (self.k > 0 and self.scale > 0 and self.base > 1):
            raise ValueError(
                f"need k > 0, scale > 0 and base > 1, got k={self.k}, scale={self.scale}, "
                f"base={self.base}"
            )
        battles = encode_battles(model_a, model_b, outcome)
        ratings = [float(self.initial_rating)] * battles.n_models
        steepness = math.log(self.base) / self.scale
        for first, second, result in zip(
            battles.index_a.tolist(),
            battles.index_b.tolist(),
            battles.outcome.tolist(),
            strict=True,
        ):
            expected = 1.0 / (1.0 + math.exp(steepness * (ratings[second] - ratings[first])))
            change = self.k * (result - expected)
            ratings[first] += change
            ratings[second] -= change
        self.models_ = battles.models
        self.ratings_ = np.array(ratings)
        self.battles_ = battles.battles_per_model()
        self.rank_ = rank_by_rating(self.ratings_)
        return self

    def predict_proba(self, model_a: ArrayLike, model_b: ArrayLike) -> NDArray[np.float64]:
        """P(model_a beats model_b) from the final ratings."""
        self._require_fitted("predict_proba")
        first = model_indices(self.models_, model_a)
        second = model_indices(self.models_, model_b)
        steepness = math.log(self.base) / self.scale
        return np.asarray(
            expit(steepness * (self.ratings_[first] - self.ratings_[second])), dtype=np.float64
        )

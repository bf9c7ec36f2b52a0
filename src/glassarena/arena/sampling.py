"""Which two models meet in an anonymous battle, and on which side.

The seam is kept apart from the service so that the integrity layer can swap the policy
(weighting new models, down-weighting saturated pairs) without touching anything else.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from glassarena.arena.errors import NoContestants


@dataclass(frozen=True, slots=True)
class Pairing:
    model_a: str
    model_b: str


class SamplingPolicy(Protocol):
    def choose(self, candidates: Sequence[str]) -> Pairing:
        """Two different models from `candidates`, already assigned to sides."""
        ...

    def describe(self) -> dict[str, Any]:
        """The policy in force, for `/integrity`: `name`, `description`, `parameters`."""
        ...


class UniformPairs:
    """Every unordered pair of distinct models equally likely, sides assigned at random."""

    def __init__(self, rng: random.Random | None = None) -> None:
        # SystemRandom: a visitor must not be able to predict the next pairing.
        self._rng = rng or random.SystemRandom()

    def choose(self, candidates: Sequence[str]) -> Pairing:
        distinct = sorted(set(candidates))
        if len(distinct) < 2:
            raise NoContestants()
        first, second = self._rng.sample(distinct, 2)
        return Pairing(model_a=first, model_b=second)

    def describe(self) -> dict[str, Any]:
        return {
            "name": "uniform pairs",
            "description": "Every pair of distinct offered models is equally likely; sides "
            "are assigned at random by the operating system's random source.",
            "parameters": {},
        }

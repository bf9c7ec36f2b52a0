"""Rigged votes to inject into an honest vote table, for measuring what screening catches.

Every attacker gets battles the way a voter does, from the arena's sampler (here: the honest
table's own battles, drawn with replacement), and votes only in the battles it can use,
skipping the rest (skipping costs nothing). The budget K counts the votes it casts.

* `target-only`: votes for the target whenever the target is in the battle, recognising it
  with accuracy p (otherwise it votes for the other side); a few identities (50 votes each).
* `omnipresent` (Min et al., ICML 2025): also votes in battles without the target, against
  the target's close rivals (the models just above it), so it lifts the target's rank
  without touching it.
* `sybil`: the target-only strategy spread over a swarm of fresh identities, each on its own
  IP hash and casting only a few votes, within the configured rate limits.
* `noise`: uniformly random verdicts in any battle.
All attacks happen in the last `attack_days` of the honest table's time span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from glassarena.screening.table import VoteTable

STRATEGIES = ("target-only", "omnipresent", "sybil", "noise")
_DAY = 86_400.0


@dataclass(frozen=True)
class Attack:
    strategy: str
    budget: int
    target: str
    accuracy: float = 0.95
    votes_per_identity: int | None = None  # default: 3 for sybil, else 50
    rivals: int = 5
    attack_days: float = 2.0
    votes_per_day_per_voter: int = 300  # the arena's rate limit (rate_limits section)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"unknown attacker strategy {self.strategy!r}; strategies: {', '.join(STRATEGIES)}"
            )
        if self.budget < 1:
            raise ValueError(f"the attack budget must be at least 1 vote, got {self.budget}")
        if not 0 <= self.accuracy <= 1:
            raise ValueError(f"target accuracy must lie in [0, 1], got {self.accuracy}")
        per_identity = self.identity_votes
        allowed = int(self.votes_per_day_per_voter * max(self.attack_days, 1.0))
        if per_identity > allowed:
            raise ValueError(
                f"{per_identity} votes per identity exceed the rate limit of "
                f"{self.votes_per_day_per_voter} votes per voter per day over "
                f"{self.attack_days} days"
            )

    @property
    def identity_votes(self) -> int:
        if self.votes_per_identity is not None:
            return self.votes_per_identity
        return 3 if self.strategy == "sybil" else 50


@dataclass(frozen=True)
class RiggedVotes:
    model_a: NDArray[np.object_]
    model_b: NDArray[np.object_]
    outcome: NDArray[np.float64]
    voter: NDArray[np.object_]
    ip: NDArray[np.object_]
    time: NDArray[np.float64]


def rig(
    honest: VoteTable,
    attack: Attack,
    ratings: NDArray[np.float64],
    rng: np.random.Generator,
) -> RiggedVotes:
    """K rigged votes against `honest` (which must have times), given its ratings per model."""
    if attack.budget > honest.n_votes:
        raise ValueError(
            f"an attack budget of {attack.budget} votes is larger than the honest data "
            f"({honest.n_votes} votes)"
        )
    models = honest.models
    if attack.target not in set(models.tolist()):
        raise ValueError(f"target {attack.target!r} is not on the board")
    target = int(np.searchsorted(models, attack.target))
    rivals = _rivals(ratings, target, attack.rivals)
    usable = _usable_battles(honest, attack.strategy, target, rivals)
    if len(usable) == 0:
        raise ValueError(f"no battle in the data lets the {attack.strategy} attacker act")
    chosen = rng.choice(usable, attack.budget, replace=True)
    a, b = honest.model_a[chosen], honest.model_b[chosen]
    outcome = _verdicts(attack, a, b, target, rivals, ratings, rng)
    identities = np.arange(attack.budget) // attack.identity_votes
    prefix = f"rigged-{attack.strategy}-"
    voter = np.array([f"{prefix}{i}" for i in identities], dtype=object)
    assert honest.time is not None
    newest = float(honest.time.max())
    time = np.sort(newest - attack.attack_days * _DAY * rng.random(attack.budget))
    return RiggedVotes(
        models[a].astype(object), models[b].astype(object), outcome, voter, voter.copy(), time
    )


def _rivals(ratings: NDArray[np.float64], target: int, count: int) -> NDArray[np.intp]:
    """The `count` models rated just above the target (the ones it must overtake)."""
    above = np.flatnonzero(ratings > ratings[target])
    return above[np.argsort(ratings[above])][:count]


def _usable_battles(
    honest: VoteTable, strategy: str, target: int, rivals: NDArray[np.intp]
) -> NDArray[np.intp]:
    involves_target = (honest.model_a == target) | (honest.model_b == target)
    if strategy in ("target-only", "sybil"):
        return np.flatnonzero(involves_target)
    if strategy == "omnipresent":
        involves_rival = np.isin(honest.model_a, rivals) | np.isin(honest.model_b, rivals)
        return np.flatnonzero(involves_target | involves_rival)
    return np.arange(honest.n_votes)


def _verdicts(
    attack: Attack,
    a: NDArray[np.intp],
    b: NDArray[np.intp],
    target: int,
    rivals: NDArray[np.intp],
    ratings: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    if attack.strategy == "noise":
        return rng.integers(0, 2, len(a)).astype(np.float64)
    # the side the attacker wants to win: the target; else the side that is not a rival
    # (between two rivals, the lower-rated one, so the higher one falls)
    favoured_a = a == target
    neither = (a != target) & (b != target)
    rival_a = np.isin(a, rivals)
    rival_b = np.isin(b, rivals)
    both = rival_a & rival_b
    favoured_a = np.where(neither, ~rival_a | (both & (ratings[a] < ratings[b])), favoured_a)
    recognised = rng.random(len(a)) < attack.accuracy
    wins_a = np.where(recognised, favoured_a, ~favoured_a)
    return wins_a.astype(np.float64)

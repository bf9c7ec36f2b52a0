"""Which two models meet in an anonymous battle, and on which side.

The seam is kept apart from the service so that the integrity layer can swap the policy
without touching anything else. Two policies:

`UniformPairs`: every unordered pair equally likely (the simplest baseline).

`FairInformativePairs`, the default, published at /integrity:
(a) Fair to organizations. Every active organization gets the same share of appearances
    (each battle has two), split equally among its variants: a lab with 27 variants gets
    the data of one.
(b) New contestants first. An organization whose contestants have fewer than
    `new_contestant_battles` counted battles in all weighs `new_contestant_boost` times
    more; a new variant of an established organization takes its siblings' place first
    (`new_variant_priority` of the organization's share goes to its new variants). A lab
    cannot buy a boost with many variants: the boost is per organization, and it ends
    once the organization as a whole has its battles.
(c) Informative pairs. Within those shares, a pair is weighted by how much one more battle
    between them would narrow the confidence intervals of the ratings: from the current
    ratings and counted battles, the Bradley-Terry information matrix gives the covariance
    C, and one battle between i and j (win probability p) adds p(1-p) along e_i - e_j; the
    Sherman-Morrison update says by how much every model's variance would shrink. The pair
    weights are then balanced (a symmetric Sinkhorn scaling) so that every model's
    appearance rate is exactly its share from (a), (b) and the operator's pins.
(d) Unpredictable. Draws come from the operating system's randomness (SystemRandom), and
    the sides are drawn the same way: the next pair is independent of every previous one
    given the published weights.

`update(category, stats)` hands the policy a new view of the board (the leaderboard
refresher's ratings and battle counts); it precomputes what `choose` needs, so `choose`
stays a weighted draw. Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from glassarena.arena.errors import NoContestants

# Bradley-Terry on the Elo-like scale: P(i beats j) = 1 / (1 + 10^((r_j - r_i) / 400)).
_SCALE = 400.0
# The prior precision of a rating without battles, as if it had fought about two battles
# against the field: enough to keep the covariance finite, too little to matter later.
_PRIOR_BATTLES = 2.0
_SINKHORN_ROUNDS = 200
_SINKHORN_TOLERANCE = 1e-9


class Candidate(NamedTuple):
    """A model that may be drawn, with the organization (provider, lab) that made it."""

    name: str
    organization: str = "unknown"


@dataclass(frozen=True, slots=True)
class Pairing:
    model_a: str
    model_b: str


@dataclass(frozen=True)
class BoardStats:
    """What the policy knows of a board: ratings and counted battles, in `models` order."""

    models: tuple[str, ...]
    ratings: NDArray[np.float64]  # Elo-like scale
    pair_battles: NDArray[np.float64]  # symmetric: counted battles between models i and j

    @classmethod
    def from_leaderboard(
        cls, leaderboard: Mapping[str, Any], names: Mapping[str, str] | None = None
    ) -> BoardStats:
        """From `Leaderboard.to_dict()` (a leaderboard refresher snapshot); `names` maps the
        board's labels (`name (v2)`) to the contestants' names where they differ."""
        ratings = [float(row["rating"]) for row in leaderboard["rows"]]
        labels = [row["model"] for row in leaderboard["rows"]]
        if list(leaderboard["models"]) != labels:
            raise ValueError("the leaderboard's matrices are not in the order of its rows")
        models = tuple((names or {}).get(label, label) for label in labels)
        counts = np.asarray(leaderboard["battle_count"], dtype=float)
        return cls(models, np.array(ratings), counts)

    @property
    def battles(self) -> dict[str, int]:
        return dict(
            zip(self.models, self.pair_battles.sum(axis=1).astype(int).tolist(), strict=True)
        )


class SamplingPolicy(Protocol):
    def choose(self, candidates: Sequence[Candidate], category: str = "text") -> Pairing:
        """Two different models from `candidates`, already assigned to sides."""
        ...

    def update(self, category: str, stats: BoardStats) -> None:
        """The board of `category` as it stands now (ratings, counted battles)."""
        ...

    def describe(self) -> dict[str, Any]:
        """The policy in force, JSON-ready, as published."""
        ...

    def target_shares(
        self, candidates: Sequence[Candidate], category: str = "text"
    ) -> dict[str, float]:
        """Each candidate's intended share of appearances now (the shares sum to 1)."""
        ...


def _distinct(candidates: Sequence[Candidate]) -> list[Candidate]:
    unique = {candidate.name: candidate for candidate in candidates}
    if len(unique) < 2:
        raise NoContestants()
    return [unique[name] for name in sorted(unique)]


class UniformPairs:
    """Every unordered pair of distinct models equally likely, sides assigned at random."""

    def __init__(self, rng: random.Random | None = None) -> None:
        # SystemRandom: a visitor must not be able to predict the next pairing.
        self._rng = rng or random.SystemRandom()

    def choose(self, candidates: Sequence[Candidate], category: str = "text") -> Pairing:
        first, second = self._rng.sample(_distinct(candidates), 2)
        return Pairing(model_a=first.name, model_b=second.name)

    def update(self, category: str, stats: BoardStats) -> None:
        return None  # uniform: the board does not matter

    def describe(self) -> dict[str, Any]:
        return {"policy": "uniform", "description": "every pair of models equally likely"}

    def target_shares(
        self, candidates: Sequence[Candidate], category: str = "text"
    ) -> dict[str, float]:
        distinct = _distinct(candidates)
        return {candidate.name: 1 / len(distinct) for candidate in distinct}


@dataclass(frozen=True)
class FairSamplingSettings:
    """The parameters of FairInformativePairs (the `sampling:` section of the config)."""

    new_contestant_battles: int = 300
    # An organization whose contestants together have fewer counted battles than
    # `new_contestant_battles` weighs this much more than an established one...
    new_contestant_boost: float = 6.0
    # ...and within an organization, its new variants share this part of its share.
    new_variant_priority: float = 0.8
    # The part of every pair's weight that ignores information: keeps every pair possible.
    exploration: float = 0.1
    # How strongly information shapes the pair weights (0: pairs uniform within the shares).
    information_power: float = 1.0
    pinned: Mapping[str, float] = field(default_factory=dict)  # model -> share of battles

    def __post_init__(self) -> None:
        if self.new_contestant_battles < 0:
            raise ValueError("new_contestant_battles must be >= 0")
        if self.new_contestant_boost < 1:
            raise ValueError("new_contestant_boost must be >= 1")
        if not 0 < self.new_variant_priority <= 1 or not 0 < self.exploration <= 1:
            raise ValueError("new_variant_priority and exploration must be in (0, 1]")
        if self.information_power < 0:
            raise ValueError("information_power must be >= 0")
        if any(not 0 < share <= 1 for share in self.pinned.values()):
            raise ValueError("a pinned share of battles must be in (0, 1]")
        if sum(self.pinned.values()) > 1.5:
            raise ValueError("pinned shares of battles may not add up to more than 1.5")


@dataclass(frozen=True)
class _Plan:
    """Pair weights for one set of candidates on one board: what `choose` draws from."""

    pairs: tuple[tuple[str, str], ...]
    cumulative: tuple[float, ...]
    shares: dict[str, float]  # model -> target share of appearances


class FairInformativePairs:
    """See the module docstring: fair per organization, new first, informative pairs."""

    def __init__(
        self, settings: FairSamplingSettings | None = None, rng: random.Random | None = None
    ) -> None:
        self.settings = settings or FairSamplingSettings()
        # SystemRandom: a visitor must not be able to predict the next pairing.
        self._rng = rng or random.SystemRandom()
        self._stats: dict[str, BoardStats] = {}
        self._plans: dict[tuple[str, tuple[Candidate, ...]], _Plan] = {}

    def update(self, category: str, stats: BoardStats) -> None:
        self._stats[category] = stats
        # Plans are rebuilt lazily; replacing the dict is atomic for concurrent readers.
        self._plans = {key: plan for key, plan in self._plans.items() if key[0] != category}

    def choose(self, candidates: Sequence[Candidate], category: str = "text") -> Pairing:
        key = (category, tuple(candidates))
        plan = self._plans.get(key)
        if plan is None:
            plan = self.plan(_distinct(candidates), self._stats.get(category))
            self._plans = {**self._plans, key: plan}
        position = self._rng.random() * plan.cumulative[-1]
        index = min(bisect_right(plan.cumulative, position), len(plan.pairs) - 1)
        first, second = plan.pairs[index]
        if self._rng.random() < 0.5:
            first, second = second, first
        return Pairing(model_a=first, model_b=second)

    def target_shares(
        self, candidates: Sequence[Candidate], category: str = "text"
    ) -> dict[str, float]:
        """Each candidate's share of appearances (summing to 1) on the current board."""
        return _target_shares(
            _distinct(candidates), _battles(self._stats.get(category)), self.settings
        )

    def describe(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "policy": "fair-informative",
            "description": (
                "Every active organization gets an equal share of appearances (each battle "
                "has two), split equally among its variants, whatever their number. An "
                "organization whose contestants have fewer than "
                f"{settings.new_contestant_battles} counted battles in all weighs "
                f"{settings.new_contestant_boost:g} times more; new variants of an "
                f"established organization share {settings.new_variant_priority:.0%} of "
                "its share. Within those shares, pairs are weighted by how much one more "
                "battle would narrow the ratings' confidence intervals. Draws and sides use "
                "the operating system's randomness."
            ),
            "new_contestant_battles": settings.new_contestant_battles,
            "new_contestant_boost": settings.new_contestant_boost,
            "new_variant_priority": settings.new_variant_priority,
            "exploration": settings.exploration,
            "information_power": settings.information_power,
            "pinned_share_of_battles": dict(sorted(settings.pinned.items())),
        }

    def plan(self, candidates: Sequence[Candidate], stats: BoardStats | None) -> _Plan:
        names = [candidate.name for candidate in candidates]
        shares = _target_shares(candidates, _battles(stats), self.settings)
        kernel = _pair_kernel(names, stats, self.settings)
        target = np.array([shares[name] for name in names])
        weights = _balanced(kernel, target)
        upper = np.triu_indices(len(names), k=1)
        pair_weights = weights[upper]
        pairs = tuple((names[i], names[j]) for i, j in zip(*upper, strict=True))
        return _Plan(pairs, tuple(accumulate(pair_weights.tolist())), shares)


def _battles(stats: BoardStats | None) -> dict[str, int]:
    return stats.battles if stats is not None else {}


def _target_shares(
    candidates: Sequence[Candidate], battles: Mapping[str, int], settings: FairSamplingSettings
) -> dict[str, float]:
    """Share of appearances per model: pins first, then organizations, then their variants."""
    names = {candidate.name for candidate in candidates}
    pinned = {name: share / 2 for name, share in settings.pinned.items() if name in names}
    members: dict[str, list[str]] = {}
    for candidate in candidates:
        if candidate.name not in pinned:
            members.setdefault(candidate.organization, []).append(candidate.name)
    threshold = settings.new_contestant_battles
    organization_weights = {
        organization: settings.new_contestant_boost
        if sum(battles.get(name, 0) for name in variants) < threshold
        else 1.0
        for organization, variants in members.items()
    }
    total_weight = sum(organization_weights.values())
    budget = max(0.0, 1.0 - sum(pinned.values()))
    shares = dict(pinned)
    for organization, variants in members.items():
        share = budget * organization_weights[organization] / total_weight
        new = [name for name in variants if battles.get(name, 0) < threshold]
        established = [name for name in variants if name not in new]
        if new and established:
            shares.update(dict.fromkeys(new, share * settings.new_variant_priority / len(new)))
            rest = share * (1 - settings.new_variant_priority) / len(established)
            shares.update(dict.fromkeys(established, rest))
        else:
            shares.update(dict.fromkeys(variants, share / len(variants)))
    total = sum(shares.values())
    return {name: share / total for name, share in shares.items()}


def _pair_kernel(
    names: Sequence[str], stats: BoardStats | None, settings: FairSamplingSettings
) -> NDArray[np.float64]:
    """Symmetric pair weights, zero diagonal: exploration plus normalised information gain."""
    size = len(names)
    uniform = np.ones((size, size)) - np.eye(size)
    if stats is None or settings.information_power == 0 or size < 3:
        return uniform
    gain = _interval_gain(names, stats) ** settings.information_power
    np.fill_diagonal(gain, 0.0)
    mean_gain = gain.sum() / (size * (size - 1))
    if not np.isfinite(mean_gain) or mean_gain <= 0:
        return uniform
    return settings.exploration * uniform + (1 - settings.exploration) * gain / mean_gain


def _interval_gain(names: Sequence[str], stats: BoardStats) -> NDArray[np.float64]:
    """How much one more battle between i and j would narrow the intervals, summed over models.

    The Bradley-Terry information of the counted battles (plus a weak prior) is inverted
    into the covariance C. One battle between i and j adds w = p(1-p) (in logit units) along
    u = e_i - e_j, so each variance C_kk shrinks by w (Cu)_k^2 / (1 + w u'Cu) (Sherman-
    Morrison), and each interval, proportional to sqrt(C_kk), by about that over 2 sqrt(C_kk).
    """
    index = {model: position for position, model in enumerate(stats.models)}
    known = [index.get(name) for name in names]
    mean_rating = float(np.mean(stats.ratings)) if len(stats.ratings) else 0.0
    ratings = np.array([stats.ratings[i] if i is not None else mean_rating for i in known])
    counts = np.zeros((len(names), len(names)))
    present = [(row, i) for row, i in enumerate(known) if i is not None]
    rows = [row for row, _ in present]
    columns = [i for _, i in present]
    counts[np.ix_(rows, rows)] = stats.pair_battles[np.ix_(columns, columns)]

    win = 1.0 / (1.0 + 10.0 ** ((ratings[None, :] - ratings[:, None]) / _SCALE))
    spread = win * (1.0 - win)  # p(1-p): the information of one battle, in logits squared
    weights = counts * spread
    information = np.diag(weights.sum(axis=1)) - weights
    information += np.eye(len(names)) * (_PRIOR_BATTLES * 0.25)
    covariance = np.linalg.inv(information)
    variance = np.diag(covariance)
    scaled = covariance @ np.diag(1.0 / np.sqrt(variance)) @ covariance
    along = np.diag(scaled)[:, None] + np.diag(scaled)[None, :] - 2 * scaled
    pair_variance = variance[:, None] + variance[None, :] - 2 * covariance
    return np.maximum(spread * along / (2.0 * (1.0 + spread * pair_variance)), 0.0)


def _balanced(kernel: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """Symmetric weights d_i K_ij d_j whose row sums are `target` (symmetric Sinkhorn).

    Row i's sum is model i's rate of appearances, so the draw keeps every share exactly
    while the kernel decides which partners each model meets. A share above one half
    cannot be met (a model meets itself never); such a model ends up in every battle.
    """
    target = np.minimum(target, 0.5)
    scale = np.sqrt(target / max(kernel.sum(), 1e-300)) + 1e-12
    for _ in range(_SINKHORN_ROUNDS):
        rows = kernel @ scale
        updated = np.sqrt(scale * target / np.maximum(rows, 1e-300))
        if np.max(np.abs(updated - scale)) < _SINKHORN_TOLERANCE * max(float(updated.max()), 1.0):
            scale = updated
            break
        scale = updated
    return scale[:, None] * kernel * scale[None, :]

"""How fragile the top of a Bradley-Terry board is: the fewest votes whose removal would
swap two adjacent models or change who is first.

Found with the approximate maximum influence perturbation of Broderick, Giordano & Meager:
the first-order effect of dropping one vote on the rating gap between two models is
-(u_a - u_b) * (outcome - p), with u = I^+ (e_i - e_j) and I the Fisher information of the
fit. Dropping the votes with the most negative effects first, the approximation says how
many it takes for the gap to close; a refit without those votes then CONFIRMS it, searching
along the same order for the fewest that really swap the pair on a refit (the reported
count). Every count is therefore an upper bound on the true minimum that a refit has shown
to suffice; on small boards it matches the exhaustive minimum (tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glassarena.ratings._logistic import expit
from glassarena.ratings.bradley_terry import BradleyTerry
from glassarena.ratings.errors import RatingError

# First place: how many of the challengers cheapest by the approximation are refitted.
_CHALLENGERS = 3
# How often the removal search refits and re-linearises before giving up on a pair.
_RELINEARISATIONS = 12


@dataclass(frozen=True, slots=True)
class Fragility:
    """`upper` is ahead of `lower` on the full board; `votes` dropped (confirmed by a refit)
    put `lower` ahead; None when no such removal was found."""

    upper: str
    lower: str
    upper_position: int  # 1-based position by rating
    votes: int | None
    approximate_votes: int | None
    total_votes: int
    removed: tuple[int, ...] = ()  # positions, in the input arrays, of the votes removed

    def sentence(self) -> str:
        if self.votes is None:
            return f"{self.upper} stays ahead of {self.lower} whatever votes against it are removed"
        return (
            f"{self.lower} would overtake {self.upper} if {self.votes:,} of "
            f"{self.total_votes:,} votes were removed"
        )


@dataclass(frozen=True)
class Robustness:
    pairs: tuple[Fragility, ...]  # adjacent pairs among the top k, best first
    first_place: Fragility | None  # the cheapest challenger to #1

    def headline(self) -> str:
        if self.first_place is None or self.first_place.votes is None:
            return "#1 does not change when any votes are removed"
        first = self.first_place
        return (
            f"#1 would change if {first.votes:,} of {first.total_votes:,} votes were removed "
            f"({first.lower} would overtake {first.upper})"
        )

    def to_dict(self) -> dict[str, object]:
        def row(item: Fragility) -> dict[str, object]:
            return {
                "upper": item.upper,
                "lower": item.lower,
                "position": item.upper_position,
                "votes_to_swap": item.votes,
                "approximate_votes": item.approximate_votes,
                "total_votes": item.total_votes,
            }

        return {
            "first_place": None if self.first_place is None else row(self.first_place),
            "adjacent_pairs": [row(item) for item in self.pairs],
            "headline": self.headline(),
        }


class _Board:
    """The battles as model codes, with the fit, for removal experiments."""

    def __init__(
        self,
        model_a: ArrayLike,
        model_b: ArrayLike,
        outcome: ArrayLike,
        prior: float,
    ) -> None:
        names_a = np.asarray(model_a, dtype=object).astype(str)
        names_b = np.asarray(model_b, dtype=object).astype(str)
        self.models, codes = np.unique(np.concatenate([names_a, names_b]), return_inverse=True)
        self.a = codes[: len(names_a)].astype(np.intp)
        self.b = codes[len(names_a) :].astype(np.intp)
        self.outcome = np.asarray(outcome, dtype=np.float64)
        self.prior = prior
        self.everything = np.ones(len(self.outcome), dtype=bool)
        strength = self.fit(self.everything)
        if strength is None:
            raise ValueError("the board cannot be fitted, so its fragility is undefined")
        self.strength = strength

    def fit(self, keep: NDArray[np.bool_]) -> NDArray[np.float64] | None:
        """Log-strengths of every model from the kept votes; None if they cannot be fitted."""
        try:
            fitted = BradleyTerry(ci=None, prior=self.prior).fit(
                self.a[keep], self.b[keep], self.outcome[keep], models=list(self.models)
            )
        except RatingError:
            return None
        strength = np.full(len(self.models), -np.inf)
        points = fitted.scale / np.log(fitted.base)
        strength[np.searchsorted(self.models, fitted.models_)] = fitted.ratings_ / points
        return strength

    def removal_order(
        self, keep: NDArray[np.bool_], strength: NDArray[np.float64], upper: int, lower: int
    ) -> tuple[NDArray[np.intp], int | None]:
        """Kept votes ordered by how much dropping each closes the gap (only those that
        close it), and how many the first-order approximation says close it (None: never)."""
        n = len(self.models)
        kept = np.flatnonzero(keep)
        a, b = self.a[kept], self.b[kept]
        p = expit(strength[a] - strength[b])
        weight = p * (1 - p)
        information = np.zeros((n, n))
        np.add.at(information, (a, a), weight)
        np.add.at(information, (b, b), weight)
        np.add.at(information, (a, b), -weight)
        np.add.at(information, (b, a), -weight)
        inverse = np.linalg.pinv(information + self.prior * np.eye(n))
        direction = inverse[:, upper] - inverse[:, lower]
        effect = -(direction[a] - direction[b]) * (self.outcome[kept] - p)
        order = np.argsort(effect, kind="stable")
        helpful = order[effect[order] < 0]
        closed = strength[upper] - strength[lower] + np.cumsum(effect[helpful])
        reached = np.flatnonzero(closed <= 0)
        return kept[helpful], (int(reached[0]) + 1 if len(reached) else None)

    def swaps(self, removed: NDArray[np.intp], upper: int, lower: int) -> bool:
        keep = self.everything.copy()
        keep[removed] = False
        strength = self.fit(keep)
        return strength is not None and bool(strength[lower] >= strength[upper])

    def approximate(self, upper: int, lower: int) -> int | None:
        return self.removal_order(self.everything, self.strength, upper, lower)[1]

    def fragility(self, upper: int, lower: int, position: int) -> Fragility:
        sequence = self._removal_sequence(upper, lower)
        votes = None if sequence is None else self._fewest(sequence, upper, lower)
        return Fragility(
            upper=str(self.models[upper]),
            lower=str(self.models[lower]),
            upper_position=position,
            votes=votes,
            approximate_votes=self.approximate(upper, lower),
            total_votes=len(self.outcome),
            removed=() if votes is None or sequence is None else tuple(sequence[:votes].tolist()),
        )

    def _removal_sequence(self, upper: int, lower: int) -> NDArray[np.intp] | None:
        """Votes to drop, in order, that swap the pair on a refit: drop what the
        approximation says closes the gap, refit, and re-linearise at the new fit until a
        refit shows the swap (the approximation is only first order)."""
        keep = self.everything.copy()
        strength = self.strength
        taken: list[NDArray[np.intp]] = []
        for _ in range(_RELINEARISATIONS):
            helpful, enough = self.removal_order(keep, strength, upper, lower)
            if len(helpful) == 0:
                return None
            step = helpful[: enough or len(helpful)]
            taken.append(step)
            keep[step] = False
            refit = self.fit(keep)
            if refit is None:
                return None
            if refit[lower] >= refit[upper]:
                return np.concatenate(taken)
            strength = refit
        return None

    def _fewest(self, sequence: NDArray[np.intp], upper: int, lower: int) -> int:
        """The shortest prefix of `sequence` whose removal still swaps the pair on a refit
        (bisection: the full sequence swaps, the empty one does not)."""
        low, high = 0, len(sequence)
        while high - low > 1:
            middle = (low + high) // 2
            if self.swaps(sequence[:middle], upper, lower):
                high = middle
            else:
                low = middle
        return high


def rank_fragility(
    model_a: ArrayLike,
    model_b: ArrayLike,
    outcome: ArrayLike,
    *,
    top: int = 10,
    prior: float = 0.0,
) -> Robustness:
    """Fragility of every adjacent pair among the `top` models by rating, and of first place:
    the cheapest challenger among the top to overtake #1, confirming by refit the
    `_CHALLENGERS` whose approximate counts are smallest."""
    if top < 2:
        raise ValueError(f"robustness needs at least the top 2 models, got top={top}")
    board = _Board(model_a, model_b, outcome, prior)
    order = np.argsort(-board.strength, kind="stable")[: min(top, len(board.models))]
    pairs = tuple(
        board.fragility(int(order[i]), int(order[i + 1]), i + 1) for i in range(len(order) - 1)
    )
    approximate = {
        int(j): board.approximate(int(order[0]), int(j)) or len(board.outcome) for j in order[1:]
    }
    cheapest = sorted(approximate, key=approximate.__getitem__)[:_CHALLENGERS]
    challengers = [board.fragility(int(order[0]), j, 1) for j in cheapest]
    found = [item for item in challengers if item.votes is not None]
    first = min(found, key=lambda item: item.votes or 0) if found else None
    return Robustness(
        pairs, first if first is not None else (challengers[0] if challengers else None)
    )

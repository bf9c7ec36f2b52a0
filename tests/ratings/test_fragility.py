"""Rank fragility: influence-approximated removal counts, confirmed by refits."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from glassarena.battles.formats import build_mapping, read_battles
from glassarena.battles.record import outcomes
from glassarena.ratings import BradleyTerry, RatingError
from glassarena.ratings.fragility import rank_fragility


def _swapped(
    a: np.ndarray, b: np.ndarray, o: np.ndarray, keep: np.ndarray, upper: str, lower: str
) -> bool:
    fit = BradleyTerry(ci=None).fit(a[keep], b[keep], o[keep])
    rating = dict(zip(fit.models_.tolist(), fit.ratings_.tolist(), strict=True))
    return rating[lower] >= rating[upper]


def _exhaustive_minimum(a: np.ndarray, b: np.ndarray, o: np.ndarray, upper: str, lower: str) -> int:
    """The fewest votes whose removal swaps the pair, over every subset. Votes with the same
    (unordered pair, verdict) are interchangeable, so subsets are enumerated as how many to
    drop from each such cell."""
    flip = a > b
    key = np.array(
        [
            f"{y}|{x}|{1 - v}" if f else f"{x}|{y}|{v}"
            for x, y, v, f in zip(a, b, o, flip, strict=True)
        ]
    )
    cells = {cell: np.flatnonzero(key == cell) for cell in np.unique(key)}
    sizes = [len(members) for members in cells.values()]
    for total in range(1, len(o) + 1):
        for counts in itertools.product(*(range(size + 1) for size in sizes)):
            if sum(counts) != total:
                continue
            keep = np.ones(len(o), dtype=bool)
            for members, count in zip(cells.values(), counts, strict=True):
                keep[members[:count]] = False
            try:
                if _swapped(a, b, o, keep, upper, lower):
                    return total
            except RatingError:  # a removal that leaves the board unfittable swaps nothing
                continue
    raise AssertionError("no removal swaps the pair")


@pytest.mark.parametrize("seed", range(6))
def test_influence_count_equals_the_exhaustive_minimum_on_a_small_board(seed: int) -> None:
    rng = np.random.default_rng(seed)
    models = np.array(["alpha", "beta", "gamma"])
    strength = np.array([0.6, 0.3, 0.0])
    n = 24
    first = rng.integers(0, 3, n)
    second = (first + rng.integers(1, 3, n)) % 3
    p = 1 / (1 + np.exp(-(strength[first] - strength[second])))
    o = np.where(rng.random(n) < 0.3, 0.5, np.where(rng.random(n) < p, 1.0, 0.0))
    a, b = models[first], models[second]
    robustness = rank_fragility(a, b, o, top=3)
    for pair in robustness.pairs:
        assert pair.votes == _exhaustive_minimum(a, b, o, pair.upper, pair.lower)


@pytest.mark.slow
def test_every_llmfao_count_is_confirmed_by_a_refit(llmfao_dir: Path) -> None:
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", None, build_mapping("llmfao"))
    o, kept = outcomes(battles["winner"])
    a = battles["model_a"].to_numpy()[kept]
    b = battles["model_b"].to_numpy()[kept]
    robustness = rank_fragility(a, b, o, top=10)
    assert robustness.first_place is not None and robustness.first_place.votes is not None
    for pair in (*robustness.pairs, robustness.first_place):
        assert pair.votes is not None and len(pair.removed) == pair.votes
        keep = np.ones(len(o), dtype=bool)
        keep[list(pair.removed)] = False
        assert _swapped(a, b, o, keep, pair.upper, pair.lower)
        keep[pair.removed[-1]] = True  # one vote fewer does not swap them
        assert not _swapped(a, b, o, keep, pair.upper, pair.lower)
    assert "#1 would change if" in robustness.headline()


def test_needs_at_least_two_models() -> None:
    with pytest.raises(ValueError, match="top 2"):
        rank_fragility(["x"], ["y"], [1.0], top=1)

"""The published sampling policy, simulated: fair per organization, new models first,
narrower intervals than uniform pairs, and draws nobody can predict.

Numbers are printed (pytest -s) so they can be reported; the assertions are the issue's bars.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from glassarena.arena.sampling import (
    BoardStats,
    Candidate,
    FairInformativePairs,
    FairSamplingSettings,
    SamplingPolicy,
    UniformPairs,
)
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard
from glassarena.ratings import BradleyTerry

# 20 organizations: one with 27 variants, twelve with one.
ORGANIZATION_SIZES = (27, 6, 4, 3, 3, 2, 2, 2, *(1,) * 12)
SPREAD = 400.0  # LMArena's board spans about 400 points from top to bottom


def _board(sizes: Sequence[int], prefix: str = "") -> list[Candidate]:
    return [
        Candidate(f"{prefix}org{org:02d}-v{variant:02d}", f"{prefix}org{org:02d}")
        for org, size in enumerate(sizes)
        for variant in range(size)
    ]


class _Simulation:
    """Battles drawn by a policy, outcomes by Bradley-Terry on hidden true ratings."""

    def __init__(self, policy: SamplingPolicy, ratings: dict[str, float], seed: int) -> None:
        self.policy = policy
        self.ratings = ratings
        self.names = sorted(ratings)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.pairs = np.zeros((len(self.names), len(self.names)))
        self.wins = np.zeros((len(self.names), len(self.names)))  # row beat column
        self.outcomes: list[tuple[str, str, float]] = []
        self.random = np.random.default_rng(seed)

    def battles(self, name: str) -> int:
        return int(self.pairs[self.index[name]].sum())

    def tell_policy(self, fit: bool) -> None:
        """The refresher's view: ratings fitted from the votes so far (or the true ones)."""
        seen = [name for name in self.names if self.battles(name) > 0]
        fitted = np.array([self.ratings[name] for name in seen])
        if fit and len(seen) > 2:
            # Fitted on the win counts (one weighted row per ordered pair): the same
            # estimate as on every vote, in a fraction of the time.
            winners, losers = np.nonzero(self.wins)
            bt = BradleyTerry(ci=None).fit(
                np.array(self.names)[winners],
                np.array(self.names)[losers],
                np.ones(len(winners)),
                weights=self.wins[winners, losers],
            )
            seen = [str(model) for model in bt.models_]
            fitted = np.asarray(bt.ratings_, dtype=float)
        rows = [self.index[name] for name in seen]
        stats = BoardStats(tuple(seen), fitted, self.pairs[np.ix_(rows, rows)])
        self.policy.update("text", stats)

    def run(
        self,
        count: int,
        candidates: Callable[[int], list[Candidate]],
        update_every: int,
        fit: bool = False,
        stop: Callable[[], bool] = lambda: False,
    ) -> int:
        for step in range(count):
            if step % update_every == 0:
                self.tell_policy(fit)
            pairing = self.policy.choose(candidates(step))
            a, b = self.index[pairing.model_a], self.index[pairing.model_b]
            self.pairs[a, b] += 1
            self.pairs[b, a] += 1
            difference = self.ratings[pairing.model_b] - self.ratings[pairing.model_a]
            won = self.random.random() < 1 / (1 + 10 ** (difference / 400))
            self.wins[(a, b) if won else (b, a)] += 1
            self.outcomes.append((pairing.model_a, pairing.model_b, 1.0 if won else 0.0))
            if stop():
                return step + 1
        return count

    def mean_interval_width(self) -> float:
        model_a, model_b, outcome = (
            np.array(column) for column in zip(*self.outcomes, strict=False)
        )
        bt = BradleyTerry(ci="sandwich").fit(model_a, model_b, outcome)
        return float(np.mean(bt.upper_ - bt.lower_))


def _spread_ratings(candidates: Sequence[Candidate], seed: int) -> dict[str, float]:
    positions = np.random.default_rng(seed).permutation(len(candidates))
    step = SPREAD / (len(candidates) - 1)
    return {
        c.name: float(position * step) for c, position in zip(candidates, positions, strict=True)
    }


def test_every_organization_gets_its_fair_share_whatever_its_variants() -> None:
    candidates = _board(ORGANIZATION_SIZES)
    simulation = _Simulation(
        FairInformativePairs(rng=random.Random(11)), _spread_ratings(candidates, 1), seed=2
    )
    battles = 100_000
    simulation.run(battles, lambda step: candidates, update_every=2_000)
    appearances = Counter[str]()
    for candidate in candidates:
        appearances[candidate.organization] += simulation.battles(candidate.name)
    fair = 2 * battles / len(ORGANIZATION_SIZES)
    ratios = {organization: count / fair for organization, count in appearances.items()}
    print(
        f"\nshare / fair share per organization: min {min(ratios.values()):.3f}, "
        f"max {max(ratios.values()):.3f}; the 27-variant lab: {ratios['org00']:.3f} "
        f"(uniform pairs would give it {27 / len(candidates) * len(ORGANIZATION_SIZES):.2f})"
    )
    assert all(0.8 <= ratio <= 1.2 for ratio in ratios.values()), ratios


def _battles_to_reach(policy: SamplingPolicy, newcomer: Candidate, seed: int) -> int:
    """Battles until `newcomer` has 300, joining a board where everyone else has 1,000."""
    established = _board(ORGANIZATION_SIZES)
    everyone = [*established, newcomer]
    simulation = _Simulation(policy, _spread_ratings(everyone, seed), seed=seed)
    share = 1_000 / (len(established) - 1)
    for a in established:
        for b in established:
            if a != b:
                simulation.pairs[simulation.index[a.name], simulation.index[b.name]] = share
    return simulation.run(
        60_000,
        lambda step: everyone,
        update_every=100,
        stop=lambda: simulation.battles(newcomer.name) >= 300,
    )


@pytest.mark.parametrize(
    ("newcomer", "speed_up"),
    [
        (Candidate("newcomer", "a-new-lab"), 3.0),
        (Candidate("org00-v99", "org00"), 2.0),  # the 27-variant lab's 28th variant
    ],
    ids=["new-organization", "new-variant-of-the-27-variant-lab"],
)
def test_a_new_model_gets_its_first_300_battles_sooner(
    newcomer: Candidate, speed_up: float
) -> None:
    uniform = _battles_to_reach(UniformPairs(random.Random(3)), newcomer, seed=4)
    fair = _battles_to_reach(FairInformativePairs(rng=random.Random(3)), newcomer, seed=4)
    print(
        f"\n{newcomer.name}: 300 battles after {fair} battles, {uniform} with uniform pairs "
        f"({uniform / fair:.1f}x sooner)"
    )
    assert uniform >= speed_up * fair


def _width_run(policy: SamplingPolicy, arrivals: bool, seed: int) -> float:
    """Mean interval width after 30,000 votes on a 30-model board spread over 400 points.

    With `arrivals`, 10 models open the board and one more joins every 1,500 votes, as on a
    public arena; without, all 30 are there from the start.
    """
    candidates = [Candidate(f"model{i:02d}", f"lab{i:02d}") for i in range(30)]
    ratings = _spread_ratings(candidates, seed)
    simulation = _Simulation(policy, ratings, seed=seed)

    def present(step: int) -> list[Candidate]:
        return candidates[: 10 + step // 1_500] if arrivals else candidates

    simulation.run(30_000, present, update_every=1_000, fit=True)
    return simulation.mean_interval_width()


def _compare_widths(arrivals: bool) -> tuple[float, float]:
    uniform = _width_run(UniformPairs(random.Random(5)), arrivals, seed=6)
    fair = _width_run(FairInformativePairs(rng=random.Random(5)), arrivals, seed=6)
    board = "models joining over time" if arrivals else "static board"
    print(
        f"\n{board}: mean 95% interval width {fair:.1f} points vs {uniform:.1f} with "
        f"uniform pairs ({1 - fair / uniform:.1%} narrower)"
    )
    return uniform, fair


def test_sampling_narrows_the_intervals_of_a_board_that_grows() -> None:
    uniform, fair = _compare_widths(arrivals=True)
    assert fair <= 0.85 * uniform


@pytest.mark.slow
def test_sampling_is_no_worse_on_a_board_where_nobody_is_new() -> None:
    # Every model's share is fixed by fairness here; only the choice of pairs is left.
    uniform, fair = _compare_widths(arrivals=False)
    assert fair <= uniform * 1.02


def test_the_next_pair_cannot_be_predicted_from_the_previous_ones() -> None:
    candidates = _board((3, 2, 1, 1))
    policy = FairInformativePairs()  # the default: the operating system's randomness
    assert isinstance(policy._rng, random.SystemRandom)
    # Seeding Python's generator (what a replay would need) changes nothing.
    random.seed(1234)
    first = [policy.choose(candidates) for _ in range(50)]
    random.seed(1234)
    second = [policy.choose(candidates) for _ in range(50)]
    assert first != second
    # Nor does replaying the policy on any seeded generator: no seed tried reproduces what
    # it drew.
    for seed in range(500):
        replay = FairInformativePairs(rng=random.Random(seed))
        assert [replay.choose(candidates) for _ in range(10)] != first[:10]
    # Successive draws are independent given the weights: the pair drawn says nothing about
    # the next one (chi-squared test of independence on consecutive unordered pairs), and
    # guessing "the pair that most often followed this one" does no better than guessing the
    # most common pair.
    draws = [
        frozenset((p.model_a, p.model_b))
        for p in (policy.choose(candidates) for _ in range(20_000))
    ]
    labels = {pair: i for i, pair in enumerate(sorted(set(draws), key=sorted))}
    table = np.zeros((len(labels), len(labels)))
    for previous, following in itertools.pairwise(draws):
        table[labels[previous], labels[following]] += 1
    assert chi2_contingency(table + 1).pvalue > 0.001
    half = len(draws) // 2
    successors: dict[frozenset[str], Counter[frozenset[str]]] = {}
    for previous, following in itertools.pairwise(draws[:half]):
        successors.setdefault(previous, Counter())[following] += 1
    most_common = Counter(draws[:half]).most_common(1)[0][0]
    tests = list(itertools.pairwise(draws[half:]))
    learned = sum(successors[p].most_common(1)[0][0] == f for p, f in tests) / len(tests)
    baseline = sum(f == most_common for _, f in tests) / len(tests)
    assert learned <= baseline + 0.02
    sides = Counter(policy.choose(candidates[:2]).model_a for _ in range(4_000))
    assert 1_800 < sides[candidates[0].name] < 2_200  # the sides are a coin toss


def test_pins_and_describe() -> None:
    candidates = _board((27, 1, 1))
    settings = FairSamplingSettings(pinned={"org01-v00": 0.5})
    policy = FairInformativePairs(settings, rng=random.Random(8))
    shares = policy.target_shares(candidates)
    assert shares["org01-v00"] == pytest.approx(0.25)  # in half the battles
    draws = Counter[str]()
    for _ in range(20_000):
        pairing = policy.choose(candidates)
        draws.update((pairing.model_a, pairing.model_b))
    assert draws["org01-v00"] / 20_000 == pytest.approx(0.5, abs=0.02)
    described = policy.describe()
    assert described["policy"] == "fair-informative"
    assert described["pinned_share_of_battles"] == {"org01-v00": 0.5}
    assert "organization" in described["description"]
    with pytest.raises(ValueError, match="pinned share"):
        FairSamplingSettings(pinned={"x": 1.5})


def test_the_board_comes_from_a_leaderboard_snapshot() -> None:
    rng = np.random.default_rng(3)
    names = ["alpha", "beta (v2)", "gamma"]
    rows = []
    for _ in range(300):
        a, b = rng.choice(3, size=2, replace=False)
        rows.append({"model_a": names[a], "model_b": names[b], "winner": "model_a"})
        rows.append({"model_a": names[b], "model_b": names[a], "winner": "model_b"})
    leaderboard = compute_leaderboard(pd.DataFrame(rows), LeaderboardOptions()).to_dict()
    stats = BoardStats.from_leaderboard(leaderboard, {"beta (v2)": "beta"})
    assert set(stats.models) == {"alpha", "beta", "gamma"}
    assert sum(stats.battles.values()) == 2 * len(rows)
    policy = FairInformativePairs(rng=random.Random(1))
    policy.update("text", stats)
    candidates = [Candidate(name.split(" ")[0], "lab") for name in names]
    shares = policy.target_shares(candidates)
    assert shares == pytest.approx(dict.fromkeys(("alpha", "beta", "gamma"), 1 / 3))

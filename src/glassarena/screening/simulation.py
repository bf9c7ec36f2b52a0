"""simulate-rigging as a Python API: inject each attacker into an honest vote table and
measure, with screening off and on, what the attack buys and what screening catches.

Gains are measured against the same pipeline on the honest votes alone: with screening off,
the honest board; with screening on, the screened honest board. Ranks are by rating
(1 = best), the strictest reading of "rank".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import kendalltau

from glassarena.ratings import BradleyTerry
from glassarena.ratings._logistic import expit
from glassarena.screening.attacks import Attack, RiggedVotes, rig
from glassarena.screening.screen import screen
from glassarena.screening.settings import ScreeningSettings
from glassarena.screening.table import VoteTable

_DAY = 86_400.0
POINTS = 400.0 / math.log(10.0)


@dataclass(frozen=True)
class RiggingOutcome:
    board: str
    strategy: str
    budget: int
    screening: bool
    target: str
    honest_rank: int
    rank: int
    rank_gain: int
    rank_gain_per_1000: float
    rating_gain: float
    rating_gain_per_1000: float
    rigged_caught: float  # TPR
    honest_uncounted: float  # FPR
    kendall_tau_vs_honest: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def with_times(table: VoteTable, days: float, rng: np.random.Generator) -> VoteTable:
    """A table without times gets plausible ones: each voter starts on a random day of the
    span and votes at random times between then and the end (deterministic per seed)."""
    if table.time is not None:
        return table
    start = rng.random(table.n_voters) * days * _DAY
    span = days * _DAY - start[table.voter]
    time = start[table.voter] + rng.random(table.n_votes) * span
    return VoteTable(
        table.models,
        table.model_a,
        table.model_b,
        table.outcome,
        table.voter,
        table.voter_names,
        table.voter if table.ip is None else table.ip,
        table.voter_names if table.ip_names is None else table.ip_names,
        time,
    )


def synthetic_crowd(
    n_models: int = 100,
    n_votes: int = 200_000,
    *,
    n_voters: int = 20_000,
    days: float = 30.0,
    spread: float = 100.0,
    tie_fraction: float = 0.3,
    seed: int = 0,
) -> tuple[VoteTable, NDArray[np.float64]]:
    """An honest crowd on a Bradley-Terry board: uniform random pairs, ties, voters with
    heavy-tailed activity (a few prolific, many casual), some sharing an IP hash (NAT).
    Returns the table and the true ratings (Elo scale)."""
    rng = np.random.default_rng(seed)
    ratings = 1000.0 + rng.normal(0.0, spread, n_models)
    first = rng.integers(0, n_models, n_votes)
    second = rng.integers(0, n_models - 1, n_votes)
    second = np.where(second >= first, second + 1, second)
    p = expit((ratings[first] - ratings[second]) / POINTS)
    room = 2.0 * np.minimum(p, 1.0 - p)
    kappa = min(1.0, tie_fraction / room.mean())
    tie = rng.random(n_votes) < kappa * room
    win = rng.random(n_votes) < (p - 0.5 * kappa * room) / (1.0 - kappa * room)
    outcome = np.where(tie, 0.5, np.where(win, 1.0, 0.0))
    activity = rng.lognormal(0.0, 1.5, n_voters)
    voter = rng.choice(n_voters, n_votes, p=activity / activity.sum())
    shared = rng.random(n_voters) < 0.1
    ip = np.where(shared, n_voters + rng.integers(0, 200, n_voters), np.arange(n_voters))
    start = rng.random(n_voters) * days * _DAY
    time = start[voter] + rng.random(n_votes) * (days * _DAY - start[voter])
    names = np.array([f"model-{index:03d}" for index in range(n_models)], dtype=object)
    table = VoteTable.from_arrays(
        names[first],
        names[second],
        outcome,
        np.array([f"voter-{v}" for v in voter], dtype=object),
        np.array([f"ip-{i}" for i in ip[voter]], dtype=object),
        time,
    )
    return table, ratings


def mid_table_model(table: VoteTable) -> str:
    ratings = _ratings(table, np.ones(table.n_votes, dtype=bool))
    order = np.argsort(-ratings)
    return str(table.models[order[len(order) // 2]])


def simulate_rigging(
    honest: VoteTable,
    strategies: Sequence[str],
    budgets: Sequence[int],
    *,
    board: str = "board",
    target: str | None = None,
    accuracy: float = 0.95,
    settings: ScreeningSettings | None = None,
    votes_per_day_per_voter: int = 300,
    votes_per_identity: int | None = None,
    seed: int = 0,
) -> list[RiggingOutcome]:
    """Each strategy at each budget, screening off and on; see module docstring."""
    settings = settings or ScreeningSettings()
    rng = np.random.default_rng(seed)
    honest = with_times(honest, 30.0, rng)
    everything = np.ones(honest.n_votes, dtype=bool)
    honest_ratings = _ratings(honest, everything)
    target = target or mid_table_model(honest)
    attacks = [
        Attack(
            strategy,
            budget,
            target,
            accuracy,
            votes_per_identity=votes_per_identity,
            votes_per_day_per_voter=votes_per_day_per_voter,
        )
        for strategy in strategies
        for budget in budgets
    ]
    screened_honest = screen(honest, settings).counted
    screened_ratings = _ratings(honest, screened_honest)
    results = []
    for attack in attacks:
        rigged = rig(honest, attack, honest_ratings, rng)
        combined = _append(honest, rigged)
        is_rigged = np.r_[np.zeros(honest.n_votes, bool), np.ones(attack.budget, bool)]
        for screening_on in (False, True):
            counted = (
                screen(combined, settings).counted
                if screening_on
                else np.ones(combined.n_votes, dtype=bool)
            )
            baseline = screened_ratings if screening_on else honest_ratings
            ratings = _ratings(combined, counted)
            results.append(
                _outcome(
                    board,
                    attack,
                    screening_on,
                    combined.models,
                    baseline,
                    ratings,
                    honest_ratings,
                    counted,
                    is_rigged,
                )
            )
    return results


def honest_board_agreement(
    honest: VoteTable, settings: ScreeningSettings, seed: int = 0
) -> tuple[float, float]:
    """Kendall tau between the honest board and the screened honest board, and the share of
    honest votes screening leaves uncounted."""
    honest = with_times(honest, 30.0, np.random.default_rng(seed))
    counted = screen(honest, settings).counted
    everything = np.ones(honest.n_votes, dtype=bool)
    tau = kendalltau(_ratings(honest, everything), _ratings(honest, counted)).statistic
    return float(tau), float(1.0 - counted.mean())


def _outcome(
    board: str,
    attack: Attack,
    screening_on: bool,
    models: NDArray[np.str_],
    baseline: NDArray[np.float64],
    ratings: NDArray[np.float64],
    honest_ratings: NDArray[np.float64],
    counted: NDArray[np.bool_],
    is_rigged: NDArray[np.bool_],
) -> RiggingOutcome:
    target = int(np.searchsorted(models, attack.target))
    before = _rank(baseline, target)
    after = _rank(ratings, target)
    rating_gain = float(ratings[target] - baseline[target])
    per_1000 = 1000.0 / attack.budget
    return RiggingOutcome(
        board=board,
        strategy=attack.strategy,
        budget=attack.budget,
        screening=screening_on,
        target=attack.target,
        honest_rank=before,
        rank=after,
        rank_gain=before - after,
        rank_gain_per_1000=(before - after) * per_1000,
        rating_gain=rating_gain,
        rating_gain_per_1000=rating_gain * per_1000,
        rigged_caught=float((~counted[is_rigged]).mean()),
        honest_uncounted=float((~counted[~is_rigged]).mean()),
        kendall_tau_vs_honest=float(kendalltau(honest_ratings, ratings).statistic),
    )


def _rank(ratings: NDArray[np.float64], index: int) -> int:
    return 1 + int((ratings > ratings[index]).sum())


def _ratings(table: VoteTable, counted: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Ratings of every model of the table (Elo scale, mean 1000) from the counted votes."""
    fit = BradleyTerry(ci=None, prior=0.5).fit(
        table.model_a[counted],
        table.model_b[counted],
        table.outcome[counted],
        models=list(table.models),
    )
    ratings = np.full(table.n_models, 1000.0)
    ratings[np.searchsorted(table.models, fit.models_)] = fit.ratings_
    return ratings


def _append(honest: VoteTable, rigged: RiggedVotes) -> VoteTable:
    assert honest.time is not None and honest.ip is not None and honest.ip_names is not None
    return VoteTable.from_arrays(
        np.r_[honest.models[honest.model_a].astype(object), rigged.model_a],
        np.r_[honest.models[honest.model_b].astype(object), rigged.model_b],
        np.r_[honest.outcome, rigged.outcome],
        np.r_[honest.voter_names[honest.voter], rigged.voter],
        np.r_[honest.ip_names[honest.ip], rigged.ip],
        np.r_[honest.time, rigged.time],
    )

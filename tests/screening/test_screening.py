"""Vote screening: each attack is first shown to work on the unscreened board, then caught.

Boards are small synthetic crowds (seconds); the full LLMFAO / 100-model runs are the
slow tests in test_simulation_boards.py and the tables in docs/manipulation.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassarena.screening import (
    REASONS,
    ScreeningInputError,
    ScreeningSettings,
    VoteTable,
    detectors,
    screen,
)
from glassarena.screening.attacks import Attack
from glassarena.screening.simulation import simulate_rigging, synthetic_crowd


@pytest.fixture(scope="module")
def crowd() -> VoteTable:
    table, _ = synthetic_crowd(20, 20_000, n_voters=2_000, seed=3)
    return table


def test_honest_crowd_is_almost_all_counted(crowd: VoteTable) -> None:
    result = screen(crowd)
    assert result.counted.mean() > 0.99
    assert len(result.counted) == crowd.n_votes  # votes are never dropped from the table


def test_every_uncounted_vote_keeps_a_known_reason(crowd: VoteTable) -> None:
    outcome = simulate_rigging(crowd, ["sybil"], [300], board="small", seed=1)
    assert outcome[1].rigged_caught > 0.9
    table, _ = synthetic_crowd(20, 5_000, n_voters=500, seed=4)
    result = screen(table, ScreeningSettings(voter_share_cap=0.01, cap_floor_votes=1))
    reasons = result.reason[~result.counted]
    assert len(reasons) and all(reason in REASONS for reason in reasons)
    assert all(reason is None for reason in result.reason[result.counted])
    # One byte a vote is held (an object per vote was 80 MB at ten million votes).
    assert result.reason_code.dtype == np.int8
    assert sum(result.counts_by_reason().values()) == result.n_uncounted


@pytest.mark.parametrize("strategy", ["target-only", "omnipresent", "sybil"])
def test_rigging_works_unscreened_and_is_caught_screened(crowd: VoteTable, strategy: str) -> None:
    off, on = simulate_rigging(crowd, [strategy], [1000], board="small", seed=2)
    assert not off.screening and on.screening
    assert off.rank_gain >= 3  # the attack works without screening ...
    assert on.rank_gain <= 1  # ... and is stopped with it
    assert on.rigged_caught >= 0.9
    assert on.honest_uncounted <= 0.05


def test_one_vote_swarm_is_caught(crowd: VoteTable) -> None:
    # 100 identities of one vote each, always for the target: no per-voter test sees them,
    # and among the crowd's thousands of new voters they barely move the cohort's rating
    # shift (before the swarm test counted one-vote voters: 47 % caught, +1 rank).
    off, on = simulate_rigging(crowd, ["sybil"], [100], votes_per_identity=1, seed=2)
    assert off.rank_gain >= 2
    assert on.rank_gain <= 0
    assert on.rigged_caught >= 0.9
    assert on.honest_uncounted <= 0.005


def test_random_votes_do_not_take_honest_newcomers_along(crowd: VoteTable) -> None:
    # 3,000 coin-flip votes from new identities flatten every model towards 50 % among new
    # voters. Read as rating shifts of the strong and the weak models, that took 4 % of the
    # honest votes along (the honest newcomers' votes on the flagged models); the cohort's
    # share of random verdicts is now part of its prediction.
    _, on = simulate_rigging(crowd, ["noise"], [3000], seed=2)
    assert on.honest_uncounted <= 0.005
    assert abs(on.rank_gain) <= 1


def test_share_cap_stops_one_voter_dominating_a_model() -> None:
    # 40 votes on model "t": one voter cast 30 of them, the rest come from 10 others.
    voters = ["heavy"] * 30 + [f"v{i}" for i in range(10)]
    rows = len(voters)
    table = VoteTable.from_arrays(
        ["t"] * rows, [f"m{i}" for i in range(rows)], [0.5] * rows, voters, time=range(rows)
    )
    settings = ScreeningSettings(voter_share_cap=0.25, cap_floor_votes=5)
    result = screen(table, settings)
    capped = result.reason == "voter-cap"
    assert capped.sum() == 30 - 10  # floor(0.25 * 40) = 10 of the heavy voter's count
    assert set(np.asarray(voters)[capped]) == {"heavy"}
    assert result.counted[:10].all()  # the earliest votes are the ones kept


def test_table_without_voter_column_says_so() -> None:
    battles = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["model_a"]})
    with pytest.raises(ScreeningInputError, match="no voter column"):
        VoteTable.from_battles(battles, "votes.csv")


def test_empty_board_is_an_error() -> None:
    with pytest.raises(ScreeningInputError, match="empty"):
        VoteTable.from_arrays([], [], [], [])


def test_bad_attacks_are_clear_errors(crowd: VoteTable) -> None:
    with pytest.raises(ValueError, match="unknown attacker strategy 'bribe'"):
        Attack("bribe", 100, "model-001")
    with pytest.raises(ValueError, match="larger than the honest data"):
        simulate_rigging(crowd, ["sybil"], [crowd.n_votes + 1])
    with pytest.raises(ValueError, match="rate limit"):
        Attack("target-only", 100, "model-001", votes_per_identity=1000, attack_days=2)
    with pytest.raises(ValueError, match="not on the board"):
        simulate_rigging(crowd, ["sybil"], [10], target="nobody")


def test_disabled_screening_counts_everything(crowd: VoteTable) -> None:
    assert screen(crowd, ScreeningSettings(enabled=False)).counted.all()


def test_screening_config_section_matches_the_settings() -> None:
    from glassarena.arena.config.schema import ArenaFile

    section = ArenaFile.model_validate({"screening": {"alpha": 0.05}}).screening
    settings = ScreeningSettings(**section.model_dump())
    assert settings.alpha == 0.05 and settings == ScreeningSettings(alpha=0.05)
    with pytest.raises(ValueError, match="alpha"):
        ArenaFile.model_validate({"screening": {"alpha": 2}})


def _omnipresent_crowd(fellow_votes: int, seed: int = 0) -> VoteTable:
    """An honest crowd on a sampler that shows six models 2.5 times as often as the rest,
    and 20 omnipresent identities voting only in battles of model 0 (the target) or its
    five rivals (models 1-5): for the target, against the rivals. Nineteen cast 100 votes,
    the last `fellow_votes`; all over the 30 days, like the honest voters."""
    rng = np.random.default_rng(seed)
    m, day = 30, 86_400.0
    weight = np.where(np.arange(m) < 6, 2.5, 1.0)
    strength = rng.normal(0.0, 0.5, m)

    def battles(n: int, touching_only: bool) -> tuple[np.ndarray, np.ndarray]:
        a, b = (rng.choice(m, 3 * n, p=weight / weight.sum()) for _ in range(2))
        keep = (a != b) & (((a < 6) | (b < 6)) | (not touching_only))
        return a[keep][:n], b[keep][:n]

    a, b = battles(20_000, False)
    honest_outcome = (rng.random(len(a)) < 1 / (1 + np.exp(strength[b] - strength[a]))) * 1.0
    voter = np.array([f"honest-{v}" for v in rng.integers(0, 1_500, len(a))], dtype=object)
    parts = [(a, b, honest_outcome, voter, rng.random(len(a)) * 30 * day)]
    for identity, votes in enumerate([100] * 19 + [fellow_votes]):
        ra, rb = battles(votes, True)
        outcome = np.where(ra == 0, 1.0, np.where(rb == 0, 0.0, np.where(ra < 6, 0.0, 1.0)))
        name = np.full(votes, f"rigged-{identity}", dtype=object)
        parts.append((ra, rb, outcome, name, rng.random(votes) * 30 * day))
    labels = np.array([f"model-{code:02d}" for code in range(m)], dtype=object)
    a, b, outcome, voters, time = (np.concatenate(column) for column in zip(*parts, strict=True))
    return VoteTable.from_arrays(labels[a], labels[b], outcome, voters, voters, time)


def test_an_omnipresent_identity_among_flagged_fellows_is_caught() -> None:
    """Where the target and its rivals are the most shown models, an identity of 40 votes
    stays under the concentration test's limit (which allows for every set of models a
    voter might favour), while its 19 fellows of 100 votes do not. Their set of models is
    then known, and the 40 votes are tested for that set alone."""
    table = _omnipresent_crowd(fellow_votes=40)
    settings = ScreeningSettings()
    fellow = int(np.flatnonzero(table.voter_names == "rigged-19")[0])
    everything = np.ones(table.n_votes, dtype=bool)
    sampler = detectors.Sampler.estimate(table, everything)
    concentrated = detectors.concentration(
        table,
        everything,
        table.voter,
        table.n_voters,
        settings.alpha,
        settings.min_voter_votes,
        settings.concentration_set_size,
        sampler,
    )
    assert len(concentrated.actors) == 19 and fellow not in concentrated.actors
    result = screen(table, settings)
    theirs = table.voter == fellow
    assert set(result.reason[theirs].tolist()) == {"shared-concentration"}
    honest = np.char.startswith(table.voter_names[table.voter].astype(str), "honest")
    assert result.counted[honest].all()
    assert not result.counted[~honest].any()

"""Retirement by rule: a model leaves the battles, never the board."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from glassarena.arena.bootstrap import build_arena
from glassarena.arena.config import load_config
from glassarena.arena.config.schema import InactiveRule, IntegritySettings, SupersededRule
from glassarena.arena.standing import decide_retirements, standings
from glassarena.battles.record import Winner
from glassarena.storage.integrity import IntegrityStore, VersionActivity
from glassarena.storage.repository import ArenaRepository
from vote_seeding import vote_on_a_battle

MODELS = ["Claude v1", "Code Llama (13B)", "Alpaca (7B)"]
SECRET = "s" * 32


def _config(tmp_path: Path, models: list[str]) -> Path:
    path = tmp_path / f"arena-{len(models)}.yaml"
    path.write_text(
        "recorded_sets:\n"
        "  - {name: llmfao, format: llmfao, path: 'builtin:llmfao', "
        f"contestants: {models!r}}}\n"
    )
    return path


def _vote(repository: ArenaRepository, version_ids: list[int], count: int) -> None:
    rng = random.Random(11)
    for number in range(count):
        model_a, model_b = rng.sample(version_ids, 2)
        vote_on_a_battle(
            repository,
            f"r-{number}",
            model_a,
            model_b,
            list(Winner)[rng.randrange(4)],
            kind="recorded",
            category="recorded",
        )


async def test_removing_a_contestant_retires_it_with_the_same_rating(
    tmp_path: Path, database_url: str
) -> None:
    arena = build_arena(load_config(_config(tmp_path, MODELS)), database_url, secret_key=SECRET)
    ids = [arena.service.roster.get(name).version_id for name in MODELS]
    _vote(arena.service.repository, ids, 40)
    arena.leaderboards.refresh()
    before = arena.leaderboards.snapshot("recorded")
    assert before is not None and before.leaderboard is not None
    alpaca_votes = arena.integrity.state().standing["Alpaca (7B)"].counted_votes
    await arena.close()

    arena = build_arena(load_config(_config(tmp_path, MODELS[:2])), database_url, secret_key=SECRET)
    try:
        arena.leaderboards.refresh()
        after = arena.leaderboards.snapshot("recorded")
        assert after is not None and after.leaderboard is not None
        assert after.leaderboard["rows"] == before.leaderboard["rows"]  # same ratings, all of them
        assert "Alpaca (7B)" not in arena.service.roster.names("recorded")
        state = arena.integrity.state()
        alpaca = state.standing["Alpaca (7B)"]
        assert alpaca.status == "retired" and not alpaca.in_config
        assert alpaca.organization == "Stanford"
        [retirement] = state.report["retirements"]
        assert retirement["model"] == "Alpaca (7B)"
        assert retirement["rule"] == "removed_from_config"
        assert retirement["votes"] == alpaca_votes > 0
        assert retirement["reinstated_at"] is None
    finally:
        await arena.close()

    # Starting again (or a second worker starting) records nothing twice; back in the
    # config, the model is reinstated and offered again.
    arena = build_arena(load_config(_config(tmp_path, MODELS)), database_url, secret_key=SECRET)
    try:
        assert "Alpaca (7B)" in arena.service.roster.names("recorded")
        [retirement] = arena.integrity.state().report["retirements"]
        assert retirement["reinstated_at"] is not None
    finally:
        await arena.close()


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per reading of every version's activity (a pass over every battle)."""
    counted: list[int] = []
    reading = IntegrityStore.version_activity

    def counting(store: IntegrityStore, *args: Any, **kwargs: Any) -> list[VersionActivity]:
        counted.append(1)
        return reading(store, *args, **kwargs)

    monkeypatch.setattr(IntegrityStore, "version_activity", counting)
    return counted


async def test_a_start_reads_the_activity_only_when_a_rule_could_act(
    tmp_path: Path, database_url: str, readings: list[int]
) -> None:
    """The rules' reading is a pass over every battle and vote (minutes at 10,000,000
    votes): a start with nothing to retire or reinstate does without it."""
    arena = build_arena(load_config(_config(tmp_path, MODELS)), database_url, secret_key=SECRET)
    ids = [arena.service.roster.get(name).version_id for name in MODELS]
    _vote(arena.service.repository, ids, 20)
    await arena.close()
    assert readings == []

    # Removed from the config: the rules must look at what it had.
    arena = build_arena(load_config(_config(tmp_path, MODELS[:2])), database_url, secret_key=SECRET)
    await arena.close()
    assert readings == [1]
    # Retired already: nothing left to decide.
    arena = build_arena(load_config(_config(tmp_path, MODELS[:2])), database_url, secret_key=SECRET)
    await arena.close()
    assert readings == [1]
    # Back in the config: reinstated and offered without a reading.
    arena = build_arena(load_config(_config(tmp_path, MODELS)), database_url, secret_key=SECRET)
    try:
        assert "Alpaca (7B)" in arena.service.roster.names("recorded")
        assert readings == [1]
    finally:
        await arena.close()


async def test_a_version_removed_before_any_vote_is_retired_once(
    tmp_path: Path, database_url: str, readings: list[int]
) -> None:
    """Left unretired, a version that never had a counted vote would stay a candidate, and
    every start would read every battle and vote again (30 s at 10,000,000 votes)."""
    for _ in range(2):
        arena = build_arena(load_config(_config(tmp_path, MODELS)), database_url, secret_key=SECRET)
        await arena.close()
    for _ in range(2):
        arena = build_arena(
            load_config(_config(tmp_path, MODELS[:2])), database_url, secret_key=SECRET
        )
        try:
            [retirement] = arena.integrity.state().report["retirements"]
            assert (retirement["model"], retirement["votes"]) == ("Alpaca (7B)", 0)
        finally:
            await arena.close()
    assert readings == [1], "read once, when the version left the config"


NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _activity(
    version_id: int, name: str, *, family: str | None, votes: int, days_ago: int, org: str = "Lab"
) -> VersionActivity:
    moment = NOW - timedelta(days=days_ago)
    return VersionActivity(
        version_id=version_id,
        name=name,
        version=1,
        organization=org,
        family=family,
        open_weights=None,
        created_at=moment,
        battles=votes,
        counted_votes=votes,
        first_battle_at=moment if votes else None,
        last_vote_at=moment if votes else None,
    )


def test_inactive_and_superseded_rules() -> None:
    old = _activity(1, "lab-1", family="lab", votes=400, days_ago=50)
    new = _activity(2, "lab-2", family="lab", votes=120, days_ago=10)
    quiet = _activity(3, "quiet", family=None, votes=5, days_ago=40)
    rules = [InactiveRule(rule="inactive", days=30), SupersededRule(rule="superseded", votes=100)]
    retire, reinstate = decide_retirements([old, new, quiet], {1, 2, 3}, set(), rules, NOW)
    assert [(decision.version_id, decision.rule) for decision in retire] == [
        (1, "inactive"),
        (3, "inactive"),
    ]
    # without the inactive rule, the older variant is superseded by the newer one
    retire, _ = decide_retirements([old, new, quiet], {1, 2, 3}, set(), rules[1:], NOW)
    assert [(decision.version_id, decision.rule) for decision in retire] == [(1, "superseded")]
    assert "lab-2 of the same family has 120 votes" in retire[0].detail
    assert reinstate == []


def test_provisional_until_enough_votes_and_while_a_lab_floods_the_arena() -> None:
    settings = IntegritySettings.model_validate(
        {"provisional": {"votes": 100, "organization_variants": 2}}
    )
    flood = [_activity(n, f"flood-{n}", family="f", votes=500, days_ago=1) for n in range(1, 4)]
    solo = _activity(9, "solo", family=None, votes=500, days_ago=1, org="Solo Lab")
    fresh = _activity(10, "fresh", family=None, votes=20, days_ago=1, org="Fresh Lab")
    board = {
        standing.label: standing
        for standing in standings([*flood, solo, fresh], {1, 2, 3, 9, 10}, [], settings)
    }
    assert board["solo"].status == "active"
    assert board["fresh"].status == "provisional"
    assert board["fresh"].reasons == ("20 of 100 votes",)
    assert board["flood-1"].status == "provisional"
    assert "Lab has 3 variants in battles (more than 2)" in board["flood-1"].reasons[0]

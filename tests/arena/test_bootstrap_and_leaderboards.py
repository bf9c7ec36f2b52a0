"""A whole arena built from a config file: recorded battles, votes, background leaderboards."""

from __future__ import annotations

import asyncio
import importlib.resources
import random
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from glassarena.arena.bootstrap import Arena, RedisUnavailableError, build_arena
from glassarena.arena.config import load_config
from glassarena.arena.errors import BattleClosed, InvalidRequest
from glassarena.arena.leaderboard_refresher import (
    LeaderboardRefresher,
    LeaderboardSnapshot,
    MemorySnapshotStore,
    RedisSnapshotStore,
    SnapshotStore,
)
from glassarena.arena.service import BattleRequest
from glassarena.battles.record import Winner
from glassarena.storage.errors import DatabaseUnavailableError
from vote_seeding import styled_text, vote_on_a_battle

RECORDED_MODELS = ["Claude v1", "Code Llama (13B)", "Alpaca (7B)"]
# A private copy of the shipped answers, as a team's own checkpoints would be: votes on a
# public set (the shipped one itself) are practice votes that never rank, see
# test_practice_battles.py; these tests are about a recorded board that does rank.
CONFIG = f"""
rate_limits:
  battles_per_minute_per_voter: 1000
  votes_per_minute_per_voter: 1000
recorded_sets:
  - name: llmfao
    format: llmfao
    path: checkpoints
    contestants: {RECORDED_MODELS}
"""
SECRET = "s" * 32
SHIPPED_LLMFAO = Path(str(importlib.resources.files("glassarena").joinpath("data/llmfao")))


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    shutil.copytree(SHIPPED_LLMFAO, tmp_path / "checkpoints")
    path = tmp_path / "arena.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
async def arena(config_path: Path, database_url: str) -> AsyncIterator[Arena]:
    arena = build_arena(load_config(config_path), database_url, secret_key=SECRET)
    yield arena
    await arena.close()


async def _recorded_battle(arena: Arena, voter_id: str, winner: Winner) -> str:
    service = arena.service
    voter = service.voter(voter_id, "192.0.2.20")
    live = await service.start(voter, BattleRequest(kind="recorded"))
    events = [event async for event in live.events()]
    assert events[-1] == {"type": "complete", "voting_open": True}, events
    service.vote(voter, live.battle_id, winner)
    return live.battle_id


async def test_recorded_battles_show_a_recorded_prompt_and_rank_separately(
    arena: Arena,
) -> None:
    service = arena.service
    voter = service.voter("reader", "192.0.2.20")
    live = await service.start(voter, BattleRequest(kind="recorded"))
    events = [event async for event in live.events()]
    prompt = events[0]["prompt"]
    assert prompt and events[-1]["voting_open"]
    reveal = service.vote(voter, live.battle_id, Winner.MODEL_A)
    assert reveal.counted
    assert {model.name for model in reveal.models.values()} <= set(RECORDED_MODELS)
    assert {model.provider_kind for model in reveal.models.values()} == {"recorded"}
    with pytest.raises(InvalidRequest, match="recorded prompt"):
        await service.start(voter, BattleRequest(kind="recorded", prompt="my own"))

    other = await service.start(voter, BattleRequest(kind="recorded"))
    async for _ in other.events():
        pass
    with pytest.raises(BattleClosed, match="single prompt"):
        await service.follow_up(voter, other.battle_id, "and then?")

    for number in range(11):
        await _recorded_battle(arena, f"voter-{number}", list(Winner)[number % 4])
    assert arena.leaderboards.refresh_if_needed() is True
    assert arena.leaderboards.refresh_if_needed() is False  # nothing new: no recomputation
    recorded = arena.leaderboards.snapshot("recorded")
    assert recorded is not None and recorded.votes == 12
    text = arena.leaderboards.snapshot("text")
    assert text is not None and text.leaderboard is None and text.votes == 0
    assert text.message == "No counted votes in this category yet."


def _seed_votes(arena: Arena, rounds: int) -> None:
    """Counted recorded-category votes over every pair, with wins, losses and ties."""
    repository = arena.service.repository
    ids = [arena.service.roster.get(name).version_id for name in RECORDED_MODELS]
    pairs = [(ids[0], ids[1]), (ids[1], ids[2]), (ids[2], ids[0])]
    rng = random.Random(5)
    for number in range(rounds):
        vote_on_a_battle(
            repository,
            f"seeded-{number}",
            *pairs[number % 3],
            list(Winner)[number % 4],
            kind="recorded",
            category="recorded",
            voter_id="seeder",
            answers=(styled_text(rng, most_words=80), styled_text(rng, most_words=80)),
        )


async def test_leaderboards_rank_each_category_with_and_without_style_control(
    arena: Arena,
) -> None:
    _seed_votes(arena, 24)
    arena.leaderboards.refresh()
    recorded = arena.leaderboards.snapshot("recorded")
    assert recorded is not None and recorded.votes == 24 and recorded.leaderboard is not None
    assert {row["model"] for row in recorded.leaderboard["rows"]} == set(RECORDED_MODELS)
    assert recorded.leaderboard["method"] == "Bradley-Terry"
    styled = arena.leaderboards.snapshot("recorded", style_control=True)
    assert styled is not None and styled.leaderboard is not None, styled
    assert styled.leaderboard["method"] == "style-controlled Bradley-Terry"
    assert {entry["feature"] for entry in styled.leaderboard["style"]} == {
        "tokens",
        "headers",
        "lists",
        "bold",
    }
    for category in ("text", "webdev"):
        snapshot = arena.leaderboards.snapshot(category)
        assert snapshot is not None and snapshot.leaderboard is None and snapshot.votes == 0


async def test_the_background_refresher_follows_new_votes(
    config_path: Path, tmp_path: Path
) -> None:
    arena = build_arena(
        load_config(config_path),
        f"sqlite:///{tmp_path / 'bg.db'}",
        secret_key=SECRET,
        leaderboard_interval_seconds=0.05,
    )
    await arena.start()
    try:
        for _ in range(100):
            if arena.leaderboards.snapshot("recorded") is not None:
                break
            await asyncio.sleep(0.05)
        first = arena.leaderboards.snapshot("recorded")
        assert first is not None and first.votes == 0
        await _recorded_battle(arena, "late-voter", Winner.MODEL_B)
        for _ in range(100):
            latest = arena.leaderboards.snapshot("recorded")
            if latest is not None and latest.votes == 1:
                break
            await asyncio.sleep(0.05)
        assert latest is not None and latest.votes == 1 and latest.watermark > first.watermark
    finally:
        await arena.close()


@pytest.mark.redis
async def test_workers_share_one_computation_through_redis(arena: Arena, redis_url: str) -> None:
    from redis import Redis

    _seed_votes(arena, 4)
    client = Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:"
    repository = arena.service.repository
    first = LeaderboardRefresher(repository, store=RedisSnapshotStore(client, prefix=prefix))
    second = LeaderboardRefresher(repository, store=RedisSnapshotStore(client, prefix=prefix))
    try:
        assert first.refresh_if_needed() is True
        assert second.refresh_if_needed() is False  # already computed by the first worker
        snapshot = second.snapshot("recorded")
        assert snapshot is not None and snapshot.votes == 4
        assert snapshot == first.snapshot("recorded")
    finally:
        client.delete(*client.scan_iter(f"{prefix}*"))
        client.close()


def test_an_unreachable_redis_is_a_clear_error(config_path: Path, tmp_path: Path) -> None:
    with pytest.raises(RedisUnavailableError, match=r"redis://:\*\*\*@127\.0\.0\.1:1/0"):
        build_arena(
            load_config(config_path),
            f"sqlite:///{tmp_path / 'x.db'}",
            "redis://:topsecret@127.0.0.1:1/0",
            secret_key=SECRET,
        )


def test_an_unreachable_database_is_a_clear_error(config_path: Path) -> None:
    with pytest.raises(DatabaseUnavailableError, match=r"postgresql://arena:\*\*\*@127\.0\.0\.1:1"):
        build_arena(
            load_config(config_path), "postgresql://arena:pw@127.0.0.1:1/arena", secret_key=SECRET
        )


async def test_a_failing_leaderboard_does_not_block_the_others(
    arena: Arena, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glassarena.arena import leaderboard_refresher

    real = leaderboard_refresher.compute_leaderboard_from_counts

    def fails_with_style_control(battles, options):  # type: ignore[no-untyped-def]
        if options.style_control:
            raise ArithmeticError("singular matrix")
        return real(battles, options)

    monkeypatch.setattr(
        leaderboard_refresher, "compute_leaderboard_from_counts", fails_with_style_control
    )
    _seed_votes(arena, 12)
    arena.leaderboards.refresh()
    plain = arena.leaderboards.snapshot("recorded")
    styled = arena.leaderboards.snapshot("recorded", style_control=True)
    assert plain is not None and plain.leaderboard is not None
    assert styled is not None and styled.leaderboard is None
    assert styled.message == "This leaderboard could not be computed; see the log."


def _snapshot(watermark: int) -> LeaderboardSnapshot:
    return LeaderboardSnapshot("text", False, watermark, watermark, "now", None, f"at {watermark}")


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_an_older_computation_never_overwrites_a_newer_one(
    backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "memory":
        store: SnapshotStore = MemorySnapshotStore()
    else:
        from redis import Redis

        client = Redis.from_url(request.getfixturevalue("redis_url"))
        prefix = f"test:{uuid.uuid4().hex}:"
        request.addfinalizer(lambda: client.delete(*client.scan_iter(f"{prefix}*")))
        store = RedisSnapshotStore(client, prefix=prefix)
    assert store.get("text", False) is None and store.watermark() is None
    store.put(_snapshot(7))
    store.put(_snapshot(5))  # a slower worker finishing an older computation
    assert store.get("text", False) == _snapshot(7)
    assert store.watermark() == 7
    store.put(_snapshot(9))
    assert store.get("text", False) == _snapshot(9) and store.watermark() == 9
    if backend == "redis":
        assert 0 < client.ttl(f"{prefix}watermark") <= 7 * 86_400


@pytest.mark.redis
async def test_two_databases_sharing_one_redis_keep_their_own_leaderboards(
    config_path: Path, tmp_path: Path, redis_url: str
) -> None:
    busy = build_arena(
        load_config(config_path), f"sqlite:///{tmp_path / 'busy.db'}", redis_url, secret_key=SECRET
    )
    fresh = build_arena(
        load_config(config_path), f"sqlite:///{tmp_path / 'fresh.db'}", redis_url, secret_key=SECRET
    )
    try:
        _seed_votes(busy, 6)
        assert busy.leaderboards.refresh_if_needed() is True
        assert fresh.leaderboards.refresh_if_needed() is True
        busy_snapshot = busy.leaderboards.snapshot("recorded")
        fresh_snapshot = fresh.leaderboards.snapshot("recorded")
        assert busy_snapshot is not None and busy_snapshot.votes == 6
        assert fresh_snapshot is not None and fresh_snapshot.votes == 0
    finally:
        for arena in (busy, fresh):
            assert arena.redis is not None
            prefix = f"glassarena:leaderboard:{arena.service.repository.instance_id()}:"
            arena.redis.delete(*arena.redis.scan_iter(f"{prefix}*"))
            await arena.close()

"""Several nodes on one database and one Redis, in one process: the shared pieces alone.

One leaderboard computation at a time for the whole deployment; one shared queue of WebDev
execution checks with leases; a turn followed from another node through Redis, and taken
over (restarted) by it when the node answering it is gone.
`tests/web/test_several_node_processes.py` runs the same with real `glassarena serve`
processes and a SIGKILL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service

from glassarena.arena.leaderboard_refresher import RedisSnapshotStore
from glassarena.arena.pacing import StreamPacing
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.arena.shared_turns import SharedTurns, parse_event_id
from glassarena.storage.app_checks import AppCheckStore
from glassarena.storage.database import Database
from glassarena.storage.repository import AnswerResult, ArenaRepository
from glassarena.vocabulary import BattleStatus
from glassarena.webdev.checks import WebdevChecks

APP_ANSWER = "Here:\n```html\n<!DOCTYPE html><html><body><h1>Hi</h1></body></html>\n```\n"


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    from redis import Redis

    prefix = f"test-nodes:{uuid.uuid4().hex}:"
    yield prefix
    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
def test_one_computation_at_a_time_across_nodes(redis_url: str, prefix: str) -> None:
    from redis import Redis

    client = Redis.from_url(redis_url)
    node_a, node_b = RedisSnapshotStore(client, prefix), RedisSnapshotStore(client, prefix)
    try:
        assert node_a.claim(10)
        # Votes arrived meanwhile: a newer head, but the node holding the lease computes it.
        assert not node_b.claim(12)
        assert node_a.claim(12)  # the holder renews its lease at each refresh
        assert not node_b.claim(13)
        # A lease whose holder died runs out by itself, and then another node takes over.
        client.pexpire(f"{prefix}computing", 1)
        time.sleep(0.05)
        assert node_b.claim(14)
        assert not node_a.claim(15)  # its lease had lapsed: b's stays
        assert node_b.claim(15)
    finally:
        client.close()


@pytest.mark.redis
def test_nodes_sharing_a_secret_and_redis_share_each_voters_limits(
    redis_url: str, prefix: str
) -> None:
    from redis import Redis

    from glassarena.arena.errors import RateLimited
    from glassarena.arena.ratelimit import RateLimits, RedisRateLimiter
    from glassarena.arena.voter import IpHasher

    limits = RateLimits(votes_per_minute_per_voter=3).for_votes()
    nodes = []
    for _ in range(2):  # each node: its own connection, hasher and limiter
        client = Redis.from_url(redis_url)
        nodes.append(
            (client, IpHasher("one secret for every node"), RedisRateLimiter(client, prefix))
        )
    try:
        # Windows are aligned to the minute: do not straddle a boundary.
        if time.time() % 60 > 55:
            time.sleep(61 - time.time() % 60)
        for attempt in range(3):
            _, hasher, limiter = nodes[attempt % 2]
            limiter.acquire(hasher.voter("roaming", "198.51.100.9"), limits, "votes")
        for _, hasher, limiter in nodes:
            with pytest.raises(RateLimited):
                limiter.acquire(hasher.voter("roaming", "198.51.100.9"), limits, "votes")
    finally:
        for client, _, _ in nodes:
            client.close()


def _webdev_battle(repository: ArenaRepository, battle_id: str) -> None:
    alpha = repository.ensure_version("alpha", "openai", {}, "fp-alpha")
    beta = repository.ensure_version("beta", "openai", {}, "fp-beta")
    repository.create_battle(
        public_id=battle_id,
        mode="anonymous",
        kind="webdev",
        category="webdev",
        model_a_id=alpha.version_id,
        model_b_id=beta.version_id,
        voter_id="voter",
        ip_hash="ip",
        prompt="build a page",
    )
    for side in "ab":
        repository.finish_answer(battle_id, 1, side, AnswerResult(APP_ANSWER, "done"))


def test_a_queued_check_is_held_by_one_node_until_its_lease_expires(database: Database) -> None:
    _webdev_battle(ArenaRepository(database), "q-1")
    store = AppCheckStore(database)
    assert store.enqueue("q-1", 1, "a") and store.enqueue("q-1", 1, "b")
    assert not store.enqueue("q-1", 1, "a")  # queued once
    first = store.claim("node-a", lease_seconds=60)
    second = store.claim("node-b", lease_seconds=60)
    assert first is not None and second is not None
    assert {(first.side, first.attempts), (second.side, second.attempts)} == {("a", 1), ("b", 1)}
    assert store.claim("node-c", lease_seconds=60) is None  # both held
    assert not store.renew(first.job_id, "node-b", 60)  # not b's to renew

    # node-a dies holding its check: once the lease has run out, another node gets it.
    assert store.renew(first.job_id, "node-a", 0.01)
    time.sleep(0.05)
    again = store.claim("node-c", lease_seconds=60)
    assert again is not None and (again.job_id, again.attempts) == (first.job_id, 2)
    assert not store.renew(first.job_id, "node-a", 60)


async def test_checks_queued_by_a_dead_node_are_run_once_by_another(database: Database) -> None:
    repository = ArenaRepository(database)
    store = AppCheckStore(database)
    for index in range(3):
        _webdev_battle(repository, f"dead-{index}")
        for side in "ab":
            store.enqueue(f"dead-{index}", 1, side)
    # The dead node had taken one check and never finished it.
    held_until = time.monotonic() + 3.0
    assert store.claim("dead-node", lease_seconds=3.0) is not None
    survivors = [WebdevChecks(store, checker=None, owner=f"node-{n}") for n in (1, 2)]
    ran = await asyncio.gather(*(checks.check_unchecked() for checks in survivors))
    assert time.monotonic() < held_until, "too slow to tell: the lease ran out meanwhile"
    assert sum(ran) == 5  # the held one is not free yet
    await asyncio.sleep(held_until - time.monotonic() + 0.1)
    assert sum(await asyncio.gather(*(c.check_unchecked() for c in survivors))) == 1
    assert store.queued() == 0
    stored = store.all_checks()
    assert len(stored) == 6
    assert all(
        check.failure == "not checked: this server has no Chromium" for check in stored.values()
    )


async def test_a_check_that_keeps_killing_its_node_is_stored_as_not_checked(
    database: Database,
) -> None:
    _webdev_battle(ArenaRepository(database), "poison")
    store = AppCheckStore(database)
    store.enqueue("poison", 1, "a")
    for attempt in range(3):
        claimed = store.claim(f"node-{attempt}", lease_seconds=0.01)
        assert claimed is not None and claimed.attempts == attempt + 1
        time.sleep(0.03)
    checks = WebdevChecks(store, checker=None, owner="node-last", max_attempts=3)
    assert await checks.check_unchecked() == 2  # side b, and the poison at attempt 4
    assert store.all_checks()[("poison", 1, "a")].failure == (
        "not checked: the check was interrupted 3 times"
    )


# -- battles followed and taken over across nodes -------------------------------------------


def _providers(gate: asyncio.Event | None = None) -> dict[str, ScriptedProvider]:
    return {
        name: ScriptedProvider(f"S{index}", gate=gate) for index, name in enumerate(MODEL_NAMES)
    }


async def _node(
    database: Database, redis_url: str, prefix: str, name: str, providers, lease_s: float
) -> tuple[ArenaService, object]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    turns = SharedTurns(client, prefix, node=name, lease_s=lease_s)
    unpaced = StreamPacing(paced=False)  # each word is an event as soon as it is written
    return make_service(database, providers, shared_turns=turns, pacing=unpaced), client


async def _collect(events: AsyncIterator[tuple[str | None, dict]]) -> list[tuple[str | None, dict]]:
    return [item async for item in events]


@pytest.mark.redis
async def test_another_node_follows_a_turn_live(
    database: Database, redis_url: str, prefix: str
) -> None:
    gate = asyncio.Event()
    generating, client_a = await _node(database, redis_url, prefix, "a", _providers(gate), 5)
    following, client_b = await _node(database, redis_url, prefix, "b", _providers(), 5)
    try:
        voter = generating.voter("roaming", "192.0.2.60")
        live = await generating.start(voter, BattleRequest(prompt="Across nodes?"))
        seen: list[tuple[str | None, dict]] = []

        async def follow() -> None:
            async for item in following.numbered_events(voter, live.battle_id):
                seen.append(item)

        follower = asyncio.create_task(follow())
        # The first words arrive through Redis while the turn is still being generated.
        for _ in range(100):
            if any(event["type"] == "delta" for _, event in seen):
                break
            await asyncio.sleep(0.05)
        assert any(event["type"] == "delta" for _, event in seen) and not follower.done()
        gate.set()
        await asyncio.wait_for(follower, 15)
        direct = [event async for event in live.events()]
        assert [event for _, event in seen] == direct
        assert [parse_event_id(i) for i, _ in seen] == [(1, n) for n in range(len(direct))]
    finally:
        await client_a.aclose()
        await client_b.aclose()


@pytest.mark.redis
async def test_a_turn_whose_node_died_is_restarted_by_the_node_following_it(
    database: Database, redis_url: str, prefix: str
) -> None:
    never = asyncio.Event()
    dying, client_a = await _node(database, redis_url, prefix, "a", _providers(never), 1.0)
    survivor, client_b = await _node(database, redis_url, prefix, "b", _providers(), 1.0)
    try:
        voter = dying.voter("roaming", "192.0.2.61")
        live = await dying.start(voter, BattleRequest(prompt="Still there?"))
        async for _ in _first_delta(live.events()):
            pass
        await asyncio.sleep(0.1)  # published
        await _die(dying)

        seen = await asyncio.wait_for(_collect(survivor.numbered_events(voter, live.battle_id)), 30)
        events = [event for _, event in seen]
        restarts = [event for event in events if event["type"] == "battle"]
        assert len(restarts) == 2 and restarts[1]["restarted"] is True
        assert "stopped" in restarts[1]["notice"]
        after = events[events.index(restarts[1]) :]
        for side in "ab":
            text = "".join(e["text"] for e in after if e["type"] == "delta" and e["side"] == side)
            assert text.startswith("Reply S") and text.endswith("to turn 1.")
        assert events[-1] == {"type": "complete", "voting_open": True}
        positions = [parse_event_id(i) for i, _ in seen]
        assert positions == [(1, n) for n in range(len(seen))]  # numbering goes on
        battle = survivor.repository.battle(live.battle_id)
        assert battle is not None and battle.status is BattleStatus.COMPLETE
        assert survivor.vote(voter, live.battle_id, "model_a").counted
    finally:
        await client_a.aclose()
        await client_b.aclose()


async def _first_delta(events: AsyncIterator[dict]) -> AsyncIterator[dict]:
    async for event in events:
        yield event
        if event["type"] == "delta":
            return


async def _die(service: ArenaService) -> None:
    """As close to a SIGKILL as one process allows: the node's tasks stop, and nothing it
    would do on an orderly stop (failing its battles) happens."""
    for live in list(service._live.values()):
        live.superseded = True
    for task in list(service._tasks):
        task.cancel()
    await asyncio.gather(*service._tasks, return_exceptions=True)

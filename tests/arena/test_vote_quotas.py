"""Quotas that count what matters: only accepted votes use the vote quota, refusals are
limited apart, one IPv6 /56 is one address, and fresh cookies share their address's budget.

Each test first states the attack as it worked before (measured on the old code) and then
shows it fail, on the in-memory limiter and on Redis shared by workers.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service

from glassarena.arena.bootstrap import build_arena
from glassarena.arena.config import ConfigError, load_config
from glassarena.arena.errors import AlreadyVoted, NotFound, RateLimited
from glassarena.arena.ratelimit import MemoryRateLimiter, RateLimiter, RateLimits, RedisRateLimiter
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.arena.voter import Voter
from glassarena.battles.record import Winner
from glassarena.storage.database import Database

# Generous battle limits: these tests are about votes unless they say otherwise.
BATTLES = {
    "battles_per_minute_per_voter": 1000,
    "battles_per_minute_per_ip": 1000,
    "new_voters_per_hour_per_ip": 1000,
    "new_voters_per_day_per_ip": 1000,
}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    from redis import Redis

    client = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid.uuid4().hex}:"
    yield RedisRateLimiter(client, prefix=prefix)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _service(database: Database, limiter: RateLimiter, **limits: int) -> ArenaService:
    providers = {name: ScriptedProvider(f"S{i}") for i, name in enumerate(MODEL_NAMES)}
    return make_service(
        database, providers, rate_limits=RateLimits(**{**BATTLES, **limits}), rate_limiter=limiter
    )


async def _finish(service: ArenaService, voter: Voter) -> str:
    live = await service.start(voter, BattleRequest(prompt="Tell me a joke."))
    async for _ in live.events():
        pass
    return live.battle_id


async def test_junk_votes_do_not_lock_out_an_honest_voter(
    database: Database, limiter: RateLimiter
) -> None:
    service = _service(database, limiter)  # the default vote limits: 30 a minute per IP
    honest = service.voter("honest", "203.0.113.9")
    battle_id = await _finish(service, honest)
    # The attack: votes on battles that do not exist, a fresh cookie each, from the honest
    # voter's address. Before, each used the IP's vote quota: after 30 the honest vote was
    # a 429 for the rest of the minute (and 1,000 blocked the address for the day).
    for number in range(30):
        with pytest.raises(NotFound):
            service.vote(
                service.voter(f"junk-{number}", "203.0.113.9"), "no-such-battle", Winner.TIE
            )
    reveal = service.vote(honest, battle_id, Winner.MODEL_A)
    assert reveal.counted


async def test_refusals_have_their_own_limit_which_blocks_only_refusals(
    database: Database, limiter: RateLimiter
) -> None:
    service = _service(
        database, limiter, refused_votes_per_minute_per_voter=5, refused_votes_per_minute_per_ip=8
    )
    attacker = service.voter("attacker", "203.0.113.10")
    for _ in range(5):
        with pytest.raises(NotFound):
            service.vote(attacker, "no-such-battle", Winner.TIE)
    with pytest.raises(RateLimited, match="refused votes"):
        service.vote(attacker, "no-such-battle", Winner.TIE)
    for number in range(3):  # fresh cookies reach the per-IP refusal limit
        with pytest.raises(NotFound):
            service.vote(service.voter(f"junk-{number}", "203.0.113.10"), "nothing", Winner.TIE)
    with pytest.raises(RateLimited, match="refused votes"):
        service.vote(service.voter("junk-9", "203.0.113.10"), "nothing", Winner.TIE)
    # Neither the attacker's own quota nor anybody's at the address was touched.
    own = await _finish(service, attacker)
    assert service.vote(attacker, own, Winner.TIE).counted
    neighbour = service.voter("neighbour", "203.0.113.10")
    assert service.vote(neighbour, await _finish(service, neighbour), Winner.MODEL_B).counted


async def test_refused_votes_use_no_vote_quota(database: Database, limiter: RateLimiter) -> None:
    service = _service(database, limiter, votes_per_minute_per_voter=2)
    voter = service.voter("careful", "203.0.113.11")
    first = await _finish(service, voter)
    service.vote(voter, first, Winner.MODEL_A)
    for _ in range(3):  # already voted: refused, and free
        with pytest.raises(AlreadyVoted):
            service.vote(voter, first, Winner.MODEL_B)
    with pytest.raises(NotFound):
        service.vote(voter, "", Winner.TIE)
    service.vote(voter, await _finish(service, voter), Winner.TIE)  # the second of two
    third = await _finish(service, voter)
    with pytest.raises(RateLimited):
        service.vote(voter, third, Winner.TIE)
    # A limited voter never gets a stored vote.
    state = service.battle_state(voter, third)
    assert state.vote is None and state.voting_open


async def test_racing_votes_on_one_battle_store_one_and_give_the_quota_back(
    database: Database, limiter: RateLimiter
) -> None:
    service = _service(database, limiter, votes_per_minute_per_voter=3)
    voter = service.voter("racer", "203.0.113.12")
    battle_id = await _finish(service, voter)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def cast() -> None:
        barrier.wait()
        try:
            service.vote(voter, battle_id, Winner.MODEL_A)
            outcomes.append("stored")
        except (AlreadyVoted, RateLimited) as refused:
            outcomes.append(type(refused).__name__)

    threads = [threading.Thread(target=cast) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("stored") == 1
    # The losers' quota came back: two more votes fit in the limit of three.
    service.vote(voter, await _finish(service, voter), Winner.TIE)
    service.vote(voter, await _finish(service, voter), Winner.TIE)
    with pytest.raises(RateLimited):
        service.vote(voter, await _finish(service, voter), Winner.TIE)


async def test_the_64s_of_one_56_share_one_address(
    database: Database, limiter: RateLimiter
) -> None:
    service = _service(database, limiter, battles_per_minute_per_ip=30)
    # The attack: 35 battles from 35 /64s of one /56, a fresh cookie each. Grouped by /64,
    # all 35 were accepted; grouped by /56 the address's 30 a minute hold.
    started, refused = 0, 0
    for subnet in range(35):
        voter = service.voter(f"v6-{subnet}", f"2001:db8:aa:{subnet:x}::7")
        try:
            await _finish(service, voter)
            started += 1
        except RateLimited:
            refused += 1
    assert (started, refused) == (30, 5)


async def test_a_fresh_cookie_per_battle_buys_nothing(
    database: Database, limiter: RateLimiter
) -> None:
    service = _service(
        database,
        limiter,
        new_voters_per_hour_per_ip=4,
        votes_per_minute_per_voter=1,
        votes_per_minute_per_ip=30,
    )
    # The attack: one vote per cookie, a new cookie per battle. Before, each cookie came
    # with its own per-voter quota, so 10 cookies cast 10 votes in a minute where one
    # voter may cast 1; now only 4 new voters a hour may start at one address.
    counted = 0
    for number in range(10):
        voter = service.voter(f"fresh-{number}", "198.51.100.40")
        try:
            battle_id = await _finish(service, voter)
        except RateLimited as limited:
            assert "battles" in limited.message
            continue
        counted += service.vote(voter, battle_id, Winner.MODEL_A).counted
    assert counted == 4
    # A voter already known at the address is not a new voter: it keeps going.
    returning = service.voter("fresh-0", "198.51.100.40")
    await _finish(service, returning)


def test_the_ipv6_prefix_comes_from_the_config(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "arena.yaml"
    config.write_text("rate_limits:\n  ipv6_prefix: 48\n")
    arena = build_arena(load_config(config), database_url, secret_key="k" * 32)
    try:
        voter = arena.service.voter
        assert voter("x", "2001:db8:1:100::1").ip_hash == voter("x", "2001:db8:1:ff00::1").ip_hash
        assert voter("x", "2001:db8:1::1").ip_hash != voter("x", "2001:db8:2::1").ip_hash
    finally:
        asyncio.run(arena.close())
    config.write_text("rate_limits:\n  ipv6_prefix: 96\n")
    with pytest.raises(ConfigError, match=r"arena.yaml:2.*64"):
        load_config(config)

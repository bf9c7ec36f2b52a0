"""Rate limits behave the same in memory and on Redis, and Redis limits hold across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from glassarena.arena.errors import RateLimited, ServiceUnavailable
from glassarena.arena.ratelimit import (
    Grant,
    Limit,
    MemoryRateLimiter,
    RateLimiter,
    RateLimits,
    RedisRateLimiter,
)
from glassarena.arena.voter import Voter


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


LimiterFactory = Callable[[FakeClock], RateLimiter]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_limiter(request: pytest.FixtureRequest) -> Iterator[LimiterFactory]:
    if request.param == "memory":
        yield lambda clock: MemoryRateLimiter(clock)
        return
    from redis import Redis

    client = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid.uuid4().hex}:"
    yield lambda clock: RedisRateLimiter(client, prefix=prefix, clock=clock)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


ALICE = Voter("alice", "hash-shared")
BOB = Voter("bob", "hash-shared")  # same IP hash as Alice
CAROL = Voter("carol", "hash-carol")


def test_a_limit_refuses_with_the_time_until_its_window_ends(
    make_limiter: LimiterFactory,
) -> None:
    clock = FakeClock(1_700_000_000.0)  # a multiple of 60 plus 20 s: 40 s left
    limiter = make_limiter(clock)
    limits = [Limit("battle", 3, 60, "voter")]
    for _ in range(3):
        limiter.acquire(ALICE, limits, "battles")
    with pytest.raises(RateLimited) as raised:
        limiter.acquire(ALICE, limits, "battles")
    assert raised.value.retry_after == 40
    assert raised.value.status == 429
    assert "40 seconds" in raised.value.message
    limiter.acquire(CAROL, limits, "battles")  # other voters are not affected
    clock.now += 40
    limiter.acquire(ALICE, limits, "battles")  # a new window


def test_ip_limits_group_voters_behind_one_address(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(FakeClock())
    limits = RateLimits(votes_per_minute_per_ip=2).for_votes()
    limiter.acquire(ALICE, limits, "votes")
    limiter.acquire(BOB, limits, "votes")
    with pytest.raises(RateLimited):
        limiter.acquire(BOB, limits, "votes")
    limiter.acquire(CAROL, limits, "votes")


def test_refused_requests_use_no_quota(make_limiter: LimiterFactory) -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    per_minute = Limit("vote", 1, 60, "voter")
    per_day = Limit("vote", 3, 86_400, "voter")
    limiter.acquire(ALICE, [per_minute, per_day], "votes")
    for _ in range(5):  # refused by the minute limit: the daily count must not move
        with pytest.raises(RateLimited):
            limiter.acquire(ALICE, [per_minute, per_day], "votes")
    clock.now += 60
    limiter.acquire(ALICE, [per_minute, per_day], "votes")
    clock.now += 60
    limiter.acquire(ALICE, [per_minute, per_day], "votes")
    clock.now += 60
    with pytest.raises(RateLimited) as raised:  # the daily cap: 3 votes
        limiter.acquire(ALICE, [per_minute, per_day], "votes")
    assert raised.value.retry_after > 3600
    assert "hours" in raised.value.message


def test_limits_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="positive"):
        Limit("vote", 0, 60, "voter")
    with pytest.raises(ValueError, match="subject"):
        Limit("vote", 1, 60, "cookie")


_WORKER = textwrap.dedent(
    """
    import sys
    from redis import Redis
    from glassarena.arena.errors import RateLimited
    from glassarena.arena.ratelimit import Limit, RedisRateLimiter
    from glassarena.arena.voter import Voter

    url, prefix, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    limiter = RedisRateLimiter(Redis.from_url(url), prefix=prefix)
    limit = [Limit("vote", 25, 86_400, "ip")]
    granted = 0
    for number in range(attempts):
        try:
            limiter.acquire(Voter(f"sock-{number}", "one-address"), limit, "votes")
            granted += 1
        except RateLimited:
            pass
    print(granted)
    """
)


@pytest.mark.redis
def test_two_processes_share_one_redis_limit(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    env = {"PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, redis_url, prefix, "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        for _ in range(2)
    ]
    granted = []
    for worker in workers:
        output, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
        granted.append(int(output))
    # 80 attempts from two processes against one daily cap of 25: exactly 25 pass.
    assert sum(granted) == 25
    from redis import Redis

    client = Redis.from_url(redis_url)
    client.delete(*client.scan_iter(f"{prefix}*"))
    client.close()


def test_an_unreachable_redis_refuses_rather_than_allowing_everything() -> None:
    from redis import Redis

    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    limiter = RedisRateLimiter(client)
    with pytest.raises(ServiceUnavailable) as raised:
        limiter.acquire(ALICE, [Limit("vote", 5, 60, "voter")], "votes")
    assert raised.value.status == 503


def test_a_refund_gives_back_what_a_grant_used(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(FakeClock())
    limits = RateLimits(votes_per_minute_per_voter=2).for_votes()
    limiter.acquire(ALICE, limits, "votes")
    grant = limiter.acquire(ALICE, limits, "votes")
    with pytest.raises(RateLimited):
        limiter.acquire(ALICE, limits, "votes")
    limiter.refund(grant)  # the second vote was refused after all
    limiter.acquire(ALICE, limits, "votes")
    with pytest.raises(RateLimited):
        limiter.acquire(ALICE, limits, "votes")


def test_a_refund_after_the_window_ended_touches_nothing(make_limiter: LimiterFactory) -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    limits = [Limit("vote", 1, 60, "voter")]
    grant = limiter.acquire(ALICE, limits, "votes")
    clock.now += 60
    limiter.acquire(ALICE, limits, "votes")
    limiter.refund(grant)  # names the old window's counter: the new one stays used
    with pytest.raises(RateLimited):
        limiter.acquire(ALICE, limits, "votes")


def test_fresh_cookies_share_their_address_budget_for_new_voters(
    make_limiter: LimiterFactory,
) -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    per_voter_only = [Limit("battle", 1, 60, "voter")]
    # The attack: with limits per voter alone, a fresh cookie per battle is a fresh quota.
    for number in range(6):
        limiter.acquire(Voter(f"fresh-{number}", "hash-attacker"), per_voter_only, "battles")

    limits = RateLimits(new_voters_per_hour_per_ip=3, new_voters_per_day_per_ip=5).for_battles()
    for number in range(3):
        limiter.acquire(Voter(f"cookie-{number}", "hash-attacker"), limits, "battles")
    with pytest.raises(RateLimited) as raised:
        limiter.acquire(Voter("cookie-3", "hash-attacker"), limits, "battles")
    assert 1 <= raised.value.retry_after <= 3600
    limiter.acquire(Voter("cookie-0", "hash-attacker"), limits, "battles")  # already known here
    limiter.acquire(Voter("cookie-3", "hash-elsewhere"), limits, "battles")  # another address
    clock.now += 3600
    for number in (4, 5):  # a new hour: the day's budget of 5 new voters runs out
        limiter.acquire(Voter(f"cookie-{number}", "hash-attacker"), limits, "battles")
    with pytest.raises(RateLimited) as daily:
        limiter.acquire(Voter("cookie-6", "hash-attacker"), limits, "battles")
    # Until the UTC day ends (Redis ages its keys in real time, not by the test's clock, so
    # there the day's key has more left).
    assert daily.value.retry_after >= 86_400 - int(clock.now) % 86_400


def test_a_refused_new_voter_is_not_remembered_as_seen(make_limiter: LimiterFactory) -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    limits = RateLimits(battles_per_minute_per_voter=1, new_voters_per_hour_per_ip=2).for_battles()
    limiter.acquire(Voter("first", "hash-x"), limits, "battles")
    limiter.acquire(Voter("second", "hash-x"), limits, "battles")
    with pytest.raises(RateLimited):
        limiter.acquire(Voter("third", "hash-x"), limits, "battles")
    clock.now += 60  # a new minute, the same hour: "third" is still new, the budget spent
    with pytest.raises(RateLimited):
        limiter.acquire(Voter("third", "hash-x"), limits, "battles")
    limiter.acquire(Voter("first", "hash-x"), limits, "battles")


def test_concurrent_acquires_and_refunds_never_exceed_the_limit(
    make_limiter: LimiterFactory,
) -> None:
    """Many threads take quota at once and give half of it back: the counter never lets
    more than the limit through, and what was refunded can be used again."""
    limiter = make_limiter(FakeClock())
    limits = [Limit("vote", 10, 60, "ip")]
    barrier = threading.Barrier(20)
    kept: list[Grant] = []
    lock = threading.Lock()

    def race(number: int) -> None:
        barrier.wait()
        try:
            grant = limiter.acquire(Voter(f"racer-{number}", "hash-race"), limits, "votes")
        except RateLimited:
            return
        if number % 2:
            limiter.refund(grant)
        else:
            with lock:
                kept.append(grant)

    threads = [threading.Thread(target=race, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) <= 10
    for number in range(10 - len(kept)):  # exactly the unused quota is left
        limiter.acquire(Voter(f"late-{number}", "hash-race"), limits, "votes")
    with pytest.raises(RateLimited):
        limiter.acquire(Voter("one-too-many", "hash-race"), limits, "votes")

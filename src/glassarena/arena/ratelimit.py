"""Rate limits and daily caps, per voter and per IP hash.

Windows are fixed and aligned to the epoch (a one-day window is a UTC day). A request that
is refused does not use up quota. Two implementations share one interface: `MemoryRateLimiter`
for a single process, `RedisRateLimiter` when several workers must share the counts (the
check-and-increment is one Lua script, so it is atomic across processes).

Quota that must only be spent on success (a vote is charged only once it is stored) is
taken with `acquire` before the work and given back with `refund` if the work is refused.
Because the counter is raised before the work, concurrent requests, in one process or in
many workers, can never let anybody exceed a limit; the price is that a request racing one
that is later refunded may be refused although, a moment later, quota would have been free
(at most one spurious refusal per concurrent in-flight request, and only near the limit).

New voters: a limit marked `new_voters_only` counts a voter id only the first time it is
seen from an IP hash (a "seen" marker per IP hash and voter id, kept as long as the longest
such window: a Redis key set in the same script, or an in-memory entry). A fresh cookie per
request therefore draws on its address's budget for new voters, not on a quota of its own.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import RedisError

from glassarena.arena.errors import RateLimited, ServiceUnavailable
from glassarena.arena.voter import Voter

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
_SWEEP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` actions named `action` per `window_seconds`, for one subject.

    With `new_voters_only`, only a voter id's first action seen from its IP hash counts.
    """

    action: str
    count: int
    window_seconds: int
    subject: str  # "voter" or "ip"
    new_voters_only: bool = False

    def __post_init__(self) -> None:
        if self.count < 1 or self.window_seconds < 1:
            raise ValueError(f"rate limit {self.action!r} needs a positive count and window")
        if self.subject not in ("voter", "ip"):
            raise ValueError(f"rate limit subject must be 'voter' or 'ip', not {self.subject!r}")

    def key(self, voter: Voter, window_index: int) -> str:
        who = voter.voter_id if self.subject == "voter" else voter.ip_hash
        return f"{self.action}:{self.subject}:{self.window_seconds}:{who}:{window_index}"


@dataclass(frozen=True, slots=True)
class Grant:
    """The counters one successful `acquire` raised: what `refund` lowers again."""

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits the arena applies; every count is configurable."""

    battles_per_minute_per_voter: int = 10
    battles_per_minute_per_ip: int = 30
    new_voters_per_hour_per_ip: int = 20
    new_voters_per_day_per_ip: int = 100
    votes_per_minute_per_voter: int = 10
    votes_per_minute_per_ip: int = 30
    votes_per_day_per_voter: int = 300
    votes_per_day_per_ip: int = 1000
    refused_votes_per_minute_per_voter: int = 30
    refused_votes_per_minute_per_ip: int = 120

    def for_battles(self) -> tuple[Limit, ...]:
        return (
            Limit("battle", self.battles_per_minute_per_voter, 60, "voter"),
            Limit("battle", self.battles_per_minute_per_ip, 60, "ip"),
            Limit("new-voter", self.new_voters_per_hour_per_ip, 3_600, "ip", new_voters_only=True),
            Limit("new-voter", self.new_voters_per_day_per_ip, 86_400, "ip", new_voters_only=True),
        )

    def for_votes(self) -> tuple[Limit, ...]:
        return (
            Limit("vote", self.votes_per_minute_per_voter, 60, "voter"),
            Limit("vote", self.votes_per_minute_per_ip, 60, "ip"),
            Limit("vote", self.votes_per_day_per_voter, 86_400, "voter"),
            Limit("vote", self.votes_per_day_per_ip, 86_400, "ip"),
        )

    def for_refused_votes(self) -> tuple[Limit, ...]:
        """Votes that were refused (no such battle, already voted, ...): counted apart, so
        that they never use the vote quota and a flood of them locks out nobody else's votes."""
        return (
            Limit("refused-vote", self.refused_votes_per_minute_per_voter, 60, "voter"),
            Limit("refused-vote", self.refused_votes_per_minute_per_ip, 60, "ip"),
        )


class RateLimiter(Protocol):
    # Whether `acquire` may wait on the network: callers on an event loop then run it in a
    # thread; an in-memory check is cheaper than the hop to a thread and back.
    waits_on_network: bool

    def acquire(self, voter: Voter, limits: Iterable[Limit], what: str) -> Grant:
        """Use one unit of every limit, or none: raises RateLimited when any is exhausted."""
        ...

    def refund(self, grant: Grant) -> None:
        """Give back the units a grant used (the action it allowed was refused after all)."""
        ...


def _window(limit: Limit, now: float) -> tuple[int, int]:
    """The window index and whole seconds until it ends (at least 1)."""
    index = int(now // limit.window_seconds)
    remaining = math.ceil((index + 1) * limit.window_seconds - now)
    return index, max(remaining, 1)


def _seen_key(voter: Voter) -> str:
    return f"seen:{voter.ip_hash}:{voter.voter_id}"


def _seen_seconds(limits: Iterable[Limit]) -> int:
    """How long a voter stays known to its address: the longest new-voter window (0: none)."""
    return max((limit.window_seconds for limit in limits if limit.new_voters_only), default=0)


class MemoryRateLimiter:
    """Counts in this process's memory; right for a single worker."""

    waits_on_network = False

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._expiry: dict[str, float] = {}  # for counters and seen markers alike
        self._next_sweep = 0.0
        self._lock = threading.Lock()

    def acquire(self, voter: Voter, limits: Iterable[Limit], what: str) -> Grant:
        limits = tuple(limits)
        now = self._clock()
        seen_seconds = _seen_seconds(limits)
        seen_key = _seen_key(voter)
        with self._lock:
            self._forget_expired(now)
            is_new = seen_seconds > 0 and self._expiry.get(seen_key, 0.0) <= now
            planned: list[tuple[str, float]] = []
            for limit in limits:
                if limit.new_voters_only and not is_new:
                    continue
                index, remaining = _window(limit, now)
                key = limit.key(voter, index)
                if self._counts.get(key, 0) >= limit.count:
                    raise RateLimited(remaining, what)
                planned.append((key, now + remaining))
            for key, expires in planned:
                self._counts[key] = self._counts.get(key, 0) + 1
                self._expiry[key] = expires
            if is_new:
                self._expiry[seen_key] = now + seen_seconds
        return Grant(tuple(key for key, _ in planned))

    def refund(self, grant: Grant) -> None:
        with self._lock:
            for key in grant.keys:
                if self._counts.get(key, 0) > 0:
                    self._counts[key] -= 1

    def _forget_expired(self, now: float) -> None:
        # Sweeping is linear in the number of counters, so it runs at most once a minute;
        # until then a stale counter only costs memory (its key names a past window).
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_SECONDS
        expired = [key for key, expires in self._expiry.items() if expires <= now]
        for key in expired:
            self._counts.pop(key, None)
            del self._expiry[key]


# KEYS: one counter per limit, then the voter's seen marker.
# ARGV: the number of counters n; their counts; their TTLs in seconds; per counter 1 if it
# counts new voters only, else 0; the seen marker's TTL (0: no limit counts new voters).
# Returns {0, is_new} when every applicable counter was incremented, else {TTL of the first
# exhausted one, is_new}.
_ACQUIRE_SCRIPT = """
local n = tonumber(ARGV[1])
local marker_ttl = tonumber(ARGV[3 * n + 2])
local is_new = 0
if marker_ttl > 0 and redis.call('EXISTS', KEYS[n + 1]) == 0 then is_new = 1 end
local function applies(i)
  return ARGV[2 * n + 1 + i] == '0' or is_new == 1
end
for i = 1, n do
  if applies(i) then
    local current = tonumber(redis.call('GET', KEYS[i]) or '0')
    if current >= tonumber(ARGV[1 + i]) then
      local ttl = redis.call('TTL', KEYS[i])
      if ttl < 1 then ttl = tonumber(ARGV[n + 1 + i]) end
      return {ttl, is_new}
    end
  end
end
for i = 1, n do
  if applies(i) and redis.call('INCR', KEYS[i]) == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[n + 1 + i])
  end
end
if is_new == 1 then redis.call('SET', KEYS[n + 1], '1', 'EX', marker_ttl) end
return {0, is_new}
"""

# KEYS: counters a grant raised. Lowers each that still exists (a counter whose window has
# ended is gone and stays gone); DECR keeps the key's TTL.
_REFUND_SCRIPT = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


class RedisRateLimiter:
    """Counts in Redis, shared by every worker process that uses the same Redis and prefix."""

    waits_on_network = True

    def __init__(
        self, client: Redis, prefix: str = "glassarena:ratelimit:", clock: Clock = time.time
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._acquire = client.register_script(_ACQUIRE_SCRIPT)
        self._refund = client.register_script(_REFUND_SCRIPT)

    def acquire(self, voter: Voter, limits: Iterable[Limit], what: str) -> Grant:
        limits = tuple(limits)
        if not limits:
            return Grant(())
        now = self._clock()
        keys: list[str] = []
        counts: list[int] = []
        ttls: list[int] = []
        for limit in limits:
            index, remaining = _window(limit, now)
            keys.append(self._prefix + limit.key(voter, index))
            counts.append(limit.count)
            ttls.append(remaining)
        new_only = [int(limit.new_voters_only) for limit in limits]
        args = [len(keys), *counts, *ttls, *new_only, _seen_seconds(limits)]
        with _failing_closed():
            retry_after, is_new = self._acquire(
                keys=[*keys, self._prefix + _seen_key(voter)], args=args
            )
        if retry_after:
            raise RateLimited(int(retry_after), what)
        return Grant(
            tuple(
                key
                for key, limit in zip(keys, limits, strict=True)
                if is_new or not limit.new_voters_only
            )
        )

    def refund(self, grant: Grant) -> None:
        if grant.keys:
            with _failing_closed():
                self._refund(keys=list(grant.keys))


@contextmanager
def _failing_closed() -> Iterator[None]:
    """Redis errors become a 503: a limit nobody can check must not become no limit at all."""
    try:
        yield
    except RedisError as error:
        logger.error("Redis rate limiter failed: %s", error)
        raise ServiceUnavailable(
            "The arena cannot check its limits right now; please try again in a moment."
        ) from error

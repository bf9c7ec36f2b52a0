"""Rate limits and daily caps, per voter and per IP hash.

Windows are fixed and aligned to the epoch (a one-day window is a UTC day). A request that
is refused does not use up quota. Two implementations share one interface: `MemoryRateLimiter`
for a single process, `RedisRateLimiter` when several workers must share the counts (the
check-and-increment is one Lua script, so it is atomic across processes).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
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
    """At most `count` actions named `action` per `window_seconds`, for one subject."""

    action: str
    count: int
    window_seconds: int
    subject: str  # "voter" or "ip"

    def __post_init__(self) -> None:
        if self.count < 1 or self.window_seconds < 1:
            raise ValueError(f"rate limit {self.action!r} needs a positive count and window")
        if self.subject not in ("voter", "ip"):
            raise ValueError(f"rate limit subject must be 'voter' or 'ip', not {self.subject!r}")

    def key(self, voter: Voter, window_index: int) -> str:
        who = voter.voter_id if self.subject == "voter" else voter.ip_hash
        return f"{self.action}:{self.subject}:{self.window_seconds}:{who}:{window_index}"


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits the arena applies; every count is configurable."""

    battles_per_minute_per_voter: int = 10
    battles_per_minute_per_ip: int = 30
    votes_per_minute_per_voter: int = 10
    votes_per_minute_per_ip: int = 30
    votes_per_day_per_voter: int = 300
    votes_per_day_per_ip: int = 1000

    def for_battles(self) -> tuple[Limit, ...]:
        return (
            Limit("battle", self.battles_per_minute_per_voter, 60, "voter"),
            Limit("battle", self.battles_per_minute_per_ip, 60, "ip"),
        )

    def for_votes(self) -> tuple[Limit, ...]:
        return (
            Limit("vote", self.votes_per_minute_per_voter, 60, "voter"),
            Limit("vote", self.votes_per_minute_per_ip, 60, "ip"),
            Limit("vote", self.votes_per_day_per_voter, 86_400, "voter"),
            Limit("vote", self.votes_per_day_per_ip, 86_400, "ip"),
        )


class RateLimiter(Protocol):
    # Whether `acquire` may wait on the network: callers on an event loop then run it in a
    # thread; an in-memory check is cheaper than the hop to a thread and back.
    waits_on_network: bool

    def acquire(self, voter: Voter, limits: Iterable[Limit], what: str) -> None:
        """Use one unit of every limit, or none: raises RateLimited when any is exhausted."""
        ...


def _window(limit: Limit, now: float) -> tuple[int, int]:
    """The window index and whole seconds until it ends (at least 1)."""
    index = int(now // limit.window_seconds)
    remaining = math.ceil((index + 1) * limit.window_seconds - now)
    return index, max(remaining, 1)


class MemoryRateLimiter:
    """Counts in this process's memory; right for a single worker."""

    waits_on_network = False

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._expiry: dict[str, float] = {}
        self._next_sweep = 0.0
        self._lock = threading.Lock()

    def acquire(self, voter: Voter, limits: Iterable[Limit], what: str) -> None:
        now = self._clock()
        with self._lock:
            self._forget_expired(now)
            planned: list[tuple[str, float]] = []
            for limit in limits:
                index, remaining = _window(limit, now)
                key = limit.key(voter, index)
                if self._counts.get(key, 0) >= limit.count:
                    raise RateLimited(remaining, what)
                planned.append((key, now + remaining))
            for key, expires in planned:
                self._counts[key] = self._counts.get(key, 0) + 1
                self._expiry[key] = expires

    def _forget_expired(self, now: float) -> None:
        # Sweeping is linear in the number of counters, so it runs at most once a minute;
        # until then a stale counter only costs memory (its key names a past window).
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_SECONDS
        expired = [key for key, expires in self._expiry.items() if expires <= now]
        for key in expired:
            del self._counts[key]
            del self._expiry[key]


# KEYS: one counter per limit. ARGV: the limits' counts, then their TTLs in seconds.
# Returns 0 when every counter was incremented, else the TTL of the first exhausted one.
_ACQUIRE_SCRIPT = """
local n = #KEYS
for i = 1, n do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = tonumber(ARGV[n + i]) end
    return ttl
  end
end
for i = 1, n do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[n + i])
  end
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
        self._script = client.register_script(_ACQUIRE_SCRIPT)

    def acquire(self, voter: Voter, limits: Iterable[Limit], what: str) -> None:
        now = self._clock()
        keys: list[str] = []
        counts: list[int] = []
        ttls: list[int] = []
        for limit in limits:
            index, remaining = _window(limit, now)
            keys.append(self._prefix + limit.key(voter, index))
            counts.append(limit.count)
            ttls.append(remaining)
        if not keys:
            return
        try:
            retry_after = int(self._script(keys=keys, args=[*counts, *ttls]))
        except RedisError as error:
            # Failing closed: a limit nobody can check must not become no limit at all.
            logger.error("Redis rate limiter failed: %s", error)
            raise ServiceUnavailable(
                "The arena cannot check its limits right now; please try again in a moment."
            ) from error
        if retry_after:
            raise RateLimited(retry_after, what)

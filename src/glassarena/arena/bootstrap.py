"""Wire a whole arena from its configuration: storage, contestants, policies, limits.

```python
arena = build_arena(load_config(path), database_url, redis_url, secret_key=key)
await arena.start()          # background leaderboard refresher, provider warm-up
arena.service                # ArenaService: battles and votes
arena.leaderboards           # LeaderboardRefresher: snapshots for the leaderboard pages
await arena.close()          # stop generating, release providers and connections
```
Explicit arguments win over the URLs in the configuration; without either, SQLite in the
working directory and in-process rate limits are used.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glassarena.arena.config import ArenaConfig, build_provider
from glassarena.arena.config.schema import SamplingSettings
from glassarena.arena.identity_guard import guard_from_config
from glassarena.arena.integrity import IntegrityView
from glassarena.arena.leaderboard_refresher import (
    LeaderboardRefresher,
    MemorySnapshotStore,
    RedisSnapshotStore,
    Screening,
    SnapshotStore,
)
from glassarena.arena.live_screening import LiveScreening
from glassarena.arena.pacing import StreamPacing
from glassarena.arena.prompt_judge import PromptJudge
from glassarena.arena.ratelimit import MemoryRateLimiter, RateLimiter, RateLimits, RedisRateLimiter
from glassarena.arena.roster import ContestantToRegister, Roster
from glassarena.arena.sampling import (
    BoardStats,
    Candidate,
    FairInformativePairs,
    FairSamplingSettings,
    SamplingPolicy,
    UniformPairs,
)
from glassarena.arena.screening_process import ScreeningProcess
from glassarena.arena.service import ArenaLimits, ArenaService
from glassarena.arena.shared_turns import LEASE_S, SharedTurns, node_name
from glassarena.arena.standing import enforce_retirement
from glassarena.arena.voter import IpHasher
from glassarena.arena.votes import AnonymousCompletedBattles, IdentityGuarded
from glassarena.leaderboard import LeaderboardOptions
from glassarena.providers.base import Provider, close, warm_up
from glassarena.screening import ScreeningSettings
from glassarena.storage.battle_view import version_label
from glassarena.storage.database import DEFAULT_DATABASE_URL, Database, open_database
from glassarena.storage.integrity import IntegrityStore
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.verdict_log import VerdictLog
from glassarena.storage.vote_log import DatabaseVoteLog
from glassarena.vocabulary import WebdevStack

if TYPE_CHECKING:
    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis

logger = logging.getLogger(__name__)


class RedisUnavailableError(RuntimeError):
    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(f"cannot reach Redis at {_redact_redis(url)}: {cause}")


@dataclass
class Arena:
    service: ArenaService
    leaderboards: LeaderboardRefresher
    database: Database
    integrity: IntegrityView
    redis: Redis | None = None
    shared_redis: AsyncRedis | None = None  # the battles followed across nodes
    sampling: SamplingPolicy = field(default_factory=UniformPairs)
    prompt_judge: PromptJudge | None = None
    screening: Screening | None = None  # stopped with the arena
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._background.append(
            asyncio.create_task(self.leaderboards.run(), name="glassarena leaderboards")
        )
        self._background.append(
            asyncio.create_task(self._feed_sampling(), name="glassarena sampling board")
        )
        for model in self.service.roster:
            self._background.append(
                asyncio.create_task(_warm_up(model.name, model.provider), name=f"warm {model.name}")
            )

    def sampling_report(self) -> dict[str, Any]:
        """The policy in force, each model's target share now, and the realised shares."""
        roster = list(self.service.roster)
        targets = {}
        for kind in self.leaderboards.categories:
            candidates = [Candidate(m.name, m.organization) for m in roster if kind in m.kinds]
            if len(candidates) >= 2:
                targets[kind] = self.sampling.target_shares(candidates, kind)
        organizations = {model.name: model.organization for model in roster}
        state = self.integrity.state()
        return {
            "policy": self.sampling.describe(),
            "target_shares": targets,
            "organizations": organizations,
            # None for the moment after a start when the first reading is being computed.
            "realised_shares": state.report["shares"] if state.ready else None,
        }

    async def _feed_sampling(self) -> None:
        """Hand the sampling policy each new board the leaderboard refresher computes."""
        seen: dict[str, int] = {}
        # The board names a contestant's later versions `name (vN)`; sampling knows names.
        names = {version_label(m.name, m.version): m.name for m in self.service.roster}
        while True:
            for category in self.leaderboards.categories:
                snapshot = self.leaderboards.snapshot(category)
                if snapshot is None or snapshot.leaderboard is None:
                    continue
                if seen.get(category) == snapshot.watermark:
                    continue
                seen[category] = snapshot.watermark
                try:
                    stats = BoardStats.from_leaderboard(snapshot.leaderboard, names)
                    self.sampling.update(category, stats)
                except Exception:
                    # Sampling goes on with the board it had; the pages are not affected.
                    logger.exception("the %s board could not be given to the sampling", category)
            await asyncio.sleep(self.leaderboards.interval_seconds)

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        if self.screening is not None:
            await asyncio.to_thread(self.screening.close)
        await self.service.aclose()
        if self.prompt_judge is not None:
            await self.prompt_judge.aclose()
        for model in self.service.roster:
            await close(model.provider)
        self.database.dispose()
        if self.redis is not None:
            self.redis.close()
        if self.shared_redis is not None:
            await self.shared_redis.aclose()


def _prompt_judge(config: ArenaConfig) -> PromptJudge | None:
    """The judge model the config names, asked after the rules have tagged each battle."""
    judge = config.prompt_judge
    if judge is None:
        return None
    return PromptJudge(
        base_url=judge.base_url,
        model=judge.model,
        api_key=config.prompt_judge_api_key,
        timeout_seconds=judge.timeout_seconds,
    )


def build_arena(
    config: ArenaConfig,
    database_url: str | None = None,
    redis_url: str | None = None,
    *,
    secret_key: str | None = None,
    leaderboard_interval_seconds: float = 1.0,
    cache_dir: Path | None = None,
    webdev_stack: WebdevStack = WebdevStack.HTML,
    tone_style: bool = False,
    node: str | None = None,
    node_lease_seconds: float = LEASE_S,
) -> Arena:
    """Open storage (migrating it), register every contestant's version, and wire the arena.

    `secret_key` keys the IP hashes; give the server's persistent secret so that hashes
    agree across workers and restarts (without one, a random key lives as long as the process).
    `cache_dir` is where embedded weights are assembled (default: ~/.cache/glassarena).
    `webdev_stack` is the stack a WebDev battle asks for when its request names none.
    `tone_style` adds emoji and sentiment to the live style-controlled boards.
    With Redis, battles being answered are shared with the other nodes (followed, and taken
    over `node_lease_seconds` after their node died); `node` names this process there.
    Raises DatabaseUnavailableError / RedisUnavailableError naming the (redacted) URL.
    """
    redis_client = _connect_redis(redis_url or config.redis_url)
    database = open_database(database_url or config.database_url or DEFAULT_DATABASE_URL)
    if secret_key is None:
        logger.warning("no secret key given: IP hashes will not match across restarts")
        secret_key = secrets.token_urlsafe(32)

    repository = ArenaRepository(database)
    prompt_judge = _prompt_judge(config)
    to_register = [
        ContestantToRegister(
            name=contestant.name,
            provider_kind=contestant.provider_kind,
            settings=contestant.settings,
            settings_fingerprint=contestant.settings_fingerprint,
            provider=build_provider(contestant, cache_dir),
            kinds=frozenset(contestant.battle_kinds),
            organization=contestant.organization,
            family=contestant.family,
            open_weights=contestant.open_weights,
        )
        for contestant in config.contestants
    ]
    roster = enforce_retirement(
        IntegrityStore(database),
        Roster.register(repository, to_register),
        config.integrity,
        datetime.now(UTC),
    )
    limiter: RateLimiter
    store: SnapshotStore
    shared_turns: SharedTurns | None = None
    shared_client: AsyncRedis | None = None
    if redis_client is not None:
        limiter = RedisRateLimiter(redis_client)
        # Keyed by the database's id: a Redis shared with another (or a recreated) database
        # must never serve that database's leaderboards, nor its battles.
        instance = repository.instance_id()
        store = RedisSnapshotStore(redis_client, prefix=f"glassarena:leaderboard:{instance}:")
        shared_client = _async_redis(redis_url or config.redis_url or "")
        shared_turns = SharedTurns(
            shared_client,
            prefix=f"glassarena:battles:{instance}:",
            node=node or node_name(),
            lease_s=node_lease_seconds,
        )
    else:
        limiter = MemoryRateLimiter()
        store = MemorySnapshotStore()
    sampling = sampling_policy(config.sampling)
    identity_guard = guard_from_config(
        config.identity_guard.enabled, config.identity_guard.families
    )
    service = ArenaService(
        repository=repository,
        roster=roster,
        sampling=sampling,
        # A battle whose prompt or answers give a model's identity away does not count.
        acceptance=IdentityGuarded(AnonymousCompletedBattles(), identity_guard),
        identity_guard=identity_guard,
        vote_log=DatabaseVoteLog(),
        rate_limiter=limiter,
        ip_hasher=IpHasher(secret_key, ipv6_prefix=config.rate_limits.ipv6_prefix),
        rate_limits=RateLimits(**config.rate_limits.model_dump(exclude={"ipv6_prefix"})),
        limits=ArenaLimits(**config.limits.model_dump()),
        recorded_prompts=config.recorded_prompts(),
        pacing=StreamPacing(
            paced=config.stream.paced,
            tick_seconds=config.stream.tick_ms / 1000,
            chunk_chars=config.stream.chunk_chars,
        ),
        reveal_timings=config.stream.show_timings,
        webdev_stack=webdev_stack,
        prompt_judge=prompt_judge,
        tone_style=tone_style,
        shared_turns=shared_turns,
    )
    verdicts = VerdictLog(database)
    screening = (
        _screening(database, verdicts, ScreeningSettings(**config.screening.model_dump()))
        if config.screening.enabled
        else None
    )
    leaderboards = LeaderboardRefresher(
        repository,
        store=store,
        interval_seconds=leaderboard_interval_seconds,
        # The style-controlled boards add emoji and sentiment to the style features; the
        # service stores them in each side's style counts (see ArenaService).
        options=LeaderboardOptions(tone_style=tone_style),
        screening=screening,
    )
    integrity = IntegrityView(
        IntegrityStore(database),
        repository,
        lambda: service.roster,
        sampling,
        config.integrity,
        screening_runs=verdicts,
    )
    return Arena(
        service=service,
        leaderboards=leaderboards,
        database=database,
        integrity=integrity,
        redis=redis_client,
        shared_redis=shared_client,
        sampling=sampling,
        prompt_judge=prompt_judge,
        screening=screening,
    )


def _screening(
    database: Database, verdicts: VerdictLog, settings: ScreeningSettings
) -> LiveScreening | ScreeningProcess:
    """The live screening in a process of its own, unless the database lives only in this
    process's memory (a child would open another, empty one)."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return LiveScreening(verdicts, settings)
    return ScreeningProcess(url.render_as_string(hide_password=False), settings)


def sampling_policy(settings: SamplingSettings) -> SamplingPolicy:
    """The policy the `sampling:` section of the config asks for."""
    if settings.policy == "uniform":
        return UniformPairs()
    parameters = settings.model_dump(exclude={"policy"})
    return FairInformativePairs(FairSamplingSettings(**parameters))


def _connect_redis(url: str | None) -> Redis | None:
    if not url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (RedisError, OSError, ValueError) as error:
        client.close()
        raise RedisUnavailableError(url, error) from error
    return client


def _async_redis(url: str) -> AsyncRedis:
    from redis.asyncio import Redis as AsyncRedis

    # Reads block for at most shared_turns.READ_BLOCK_S: well inside the socket timeout.
    return AsyncRedis.from_url(url, socket_connect_timeout=5, socket_timeout=10)


def _redact_redis(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


async def _warm_up(name: str, provider: Provider) -> None:
    try:
        await warm_up(provider)
    except Exception:
        # A model that cannot load fails its battles clearly; the arena keeps serving.
        logger.exception("contestant %s could not be prepared", name)

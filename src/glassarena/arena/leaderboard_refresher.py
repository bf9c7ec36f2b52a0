"""Keeps the leaderboards up to date in the background, never on a page view.

Every `interval_seconds` the refresher reads the vote log's head (one cheap query). When it
moved, every leaderboard (each category, with and without style control) is recomputed once
from the counted votes of log entries up to exactly that head, in log order: however many
votes arrive in between, there is at most one computation per interval, and each snapshot
names the head it was computed at, so `glassarena verify` can replay the published log up to
that head and must get the same leaderboard bit for bit.

Snapshots are JSON-ready dicts. With Redis, they are shared: one worker, on whichever node
of the deployment takes the Redis lock, computes at a time, and every worker serves the
result. The lock is one key for the whole arena (not one per log head), held while the
computation runs and given back after it; it expires on its own when the worker holding it
dies.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from redis.exceptions import RedisError

from glassarena.arena.model_record import NEEDS_WIN_AND_LOSS, model_records
from glassarena.battles.categories import in_category as tagged_in_category
from glassarena.battles.errors import BattleDataError
from glassarena.battles.table import RowLocator, validate_battles
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard
from glassarena.ratings.errors import RatingError
from glassarena.storage.repository import ArenaRepository, CountedVote, LogHead
from glassarena.storage.schema import as_utc
from glassarena.storage.vote_chain import GENESIS_HASH
from glassarena.vocabulary import (
    CATEGORIES,
    WEBDEV_CATEGORIES,
    WEBDEV_STACK_BOARDS,
    BattleKind,
    PromptCategory,
)

if TYPE_CHECKING:
    from redis import Redis

    from glassarena.arena.live_screening import LiveScreening

logger = logging.getLogger(__name__)
_PROMPT_CATEGORIES = frozenset(PromptCategory)


@dataclass(frozen=True, slots=True)
class LeaderboardSnapshot:
    category: str
    style_control: bool
    watermark: int  # the vote log position this was computed at (every entry up to it)
    votes: int
    computed_at: str  # ISO 8601, UTC
    leaderboard: dict[str, Any] | None  # glassarena.leaderboard.Leaderboard.to_dict()
    message: str | None  # why there is no leaderboard yet (too few votes, disconnected...)
    log_head: str = GENESIS_HASH  # hash of the log entry at `watermark`
    # Each model's wins, ties and losses (`model_record.model_records`), shown with or
    # instead of the ratings; None in snapshots stored before it existed.
    record: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SnapshotStore(Protocol):
    def get(self, category: str, style_control: bool) -> LeaderboardSnapshot | None: ...
    def put(self, snapshot: LeaderboardSnapshot) -> None:
        """Keep `snapshot` unless a newer one (higher watermark) is already stored."""
        ...

    def watermark(self) -> int | None: ...
    def claim(self, watermark: int) -> bool:
        """True when this worker should compute the leaderboards for `watermark`: no other
        worker is computing now. A claim that returned True is ended with `release`."""
        ...

    def release(self) -> None:
        """End this worker's claim (its computation is stored, or failed)."""
        ...


class MemorySnapshotStore:
    def __init__(self) -> None:
        self._snapshots: dict[tuple[str, bool], LeaderboardSnapshot] = {}
        self._watermark: int | None = None

    def get(self, category: str, style_control: bool) -> LeaderboardSnapshot | None:
        return self._snapshots.get((category, style_control))

    def put(self, snapshot: LeaderboardSnapshot) -> None:
        key = (snapshot.category, snapshot.style_control)
        stored = self._snapshots.get(key)
        if stored is None or stored.watermark <= snapshot.watermark:
            self._snapshots[key] = snapshot
        self._watermark = max(self._watermark or 0, snapshot.watermark)

    def watermark(self) -> int | None:
        return self._watermark

    def claim(self, watermark: int) -> bool:
        return True

    def release(self) -> None:
        return None


# KEYS: the snapshot's hash, the global watermark. ARGV: watermark, snapshot JSON, TTL.
# Two workers may compute at once (a vote arrived meanwhile); the older result must not
# overwrite the newer one, so the comparison and the write are one atomic script.
_PUT_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'watermark') or '-1')
local incoming = tonumber(ARGV[1])
if incoming >= current then
  redis.call('HSET', KEYS[1], 'watermark', ARGV[1], 'snapshot', ARGV[2])
end
if incoming > tonumber(redis.call('GET', KEYS[2]) or '-1') then
  redis.call('SET', KEYS[2], ARGV[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 0
"""

# KEYS: the lock. ARGV: the token its holder set. Deletes it only if this holder still owns
# it: a lock that expired and was taken by another worker is that worker's.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSnapshotStore:
    """Snapshots in Redis, so that every worker serves the one computation."""

    def __init__(
        self,
        client: Redis,
        prefix: str = "glassarena:leaderboard:",
        lock_seconds: int = 120,
        keep_seconds: int = 7 * 86_400,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._lock_seconds = lock_seconds
        # Snapshots of an arena that stopped are forgotten; a running one rewrites them.
        self._keep_seconds = keep_seconds
        self._put = client.register_script(_PUT_SCRIPT)
        self._release = client.register_script(_RELEASE_SCRIPT)
        self._token: str | None = None
        # The last snapshot read per board: served while Redis is unreachable, so that the
        # leaderboard pages stay up (stale, and saying when they were computed).
        self._last: dict[str, LeaderboardSnapshot] = {}

    def _key(self, category: str, style_control: bool) -> str:
        return f"{self._prefix}{category}:{'style' if style_control else 'plain'}"

    def get(self, category: str, style_control: bool) -> LeaderboardSnapshot | None:
        key = self._key(category, style_control)
        try:
            raw = self._client.hget(key, "snapshot")
        except RedisError as error:
            logger.warning("Redis unreachable, serving the last leaderboard read: %s", error)
            return self._last.get(key)
        if raw is None:
            return None
        snapshot = LeaderboardSnapshot(**json.loads(raw))
        self._last[key] = snapshot
        return snapshot

    def put(self, snapshot: LeaderboardSnapshot) -> None:
        self._put(
            keys=[self._key(snapshot.category, snapshot.style_control), self._watermark_key],
            args=[snapshot.watermark, json.dumps(snapshot.to_dict()), self._keep_seconds],
        )

    @property
    def _watermark_key(self) -> str:
        return f"{self._prefix}watermark"

    def watermark(self) -> int | None:
        raw = self._client.get(self._watermark_key)
        return int(raw) if raw is not None else None

    @property
    def _lock_key(self) -> str:
        return f"{self._prefix}computing"

    def claim(self, watermark: int) -> bool:
        token = secrets.token_hex(16)
        if not self._client.set(self._lock_key, token, nx=True, ex=self._lock_seconds):
            return False
        self._token = token
        # Another worker may have stored this head between our look at the watermark and
        # the lock: computing it again would be wasted.
        known = self.watermark()
        if known is not None and known >= watermark:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._token is not None:
            token, self._token = self._token, None
            self._release(keys=[self._lock_key], args=[token])


def battle_table(votes: Sequence[CountedVote]) -> pd.DataFrame:
    """The counted votes as a battle table, checked as any battle file is.

    Style counts become LMArena's conv_metadata columns. Built column by column (no dict
    per vote), since the refresher runs this over every counted vote.
    """
    if not votes:
        return pd.DataFrame()
    columns = {
        "model_a": [vote.model_a for vote in votes],
        "category_tag": [vote.prompt_categories for vote in votes],
        "webdev_stack": [vote.webdev_stack for vote in votes],
        "model_b": [vote.model_b for vote in votes],
        "winner": [vote.winner for vote in votes],
        "category": [vote.category for vote in votes],
        "anony": np.ones(len(votes), dtype=bool),
        "tstamp": [as_utc(vote.voted_at).timestamp() for vote in votes],
    }
    styles = pd.DataFrame.from_records(
        [{**(vote.style_a or {}), **(vote.style_b or {})} for vote in votes]
    )
    table = pd.concat([pd.DataFrame(columns), styles], axis=1)
    return validate_battles(table, RowLocator("counted votes", "vote"))


def compute_snapshots(
    votes: Sequence[CountedVote],
    head: LogHead,
    categories: Sequence[str],
    options: LeaderboardOptions,
    computed_at: str,
) -> list[LeaderboardSnapshot]:
    """Every leaderboard (each category, without and with style control) at one log head.

    Deterministic in its inputs: `glassarena verify` calls it on votes read back from a
    published log and must get what the refresher stored.
    """
    table = battle_table(votes)
    snapshots = []
    for category in categories:
        in_category = table[_on_board(table, category)] if len(table) else table
        for style_control in (False, True):
            snapshot = LeaderboardSnapshot(
                category=category,
                style_control=style_control,
                watermark=head.position,
                votes=len(in_category),
                computed_at=computed_at,
                leaderboard=None,
                message=None,
                log_head=head.entry_hash,
                record=model_records(in_category),
            )
            snapshots.append(_computed(snapshot, in_category, options))
    return snapshots


def _on_board(table: pd.DataFrame, category: str) -> np.ndarray:
    """A battle kind's board has its battles; a prompt category's board has the text
    battles whose prompt is in that category; a stack's board has the WebDev battles asked
    in that stack."""
    stack = WEBDEV_STACK_BOARDS.get(category)
    kind = category
    if category in _PROMPT_CATEGORIES:
        kind = BattleKind.TEXT.category
    elif stack is not None:
        kind = BattleKind.WEBDEV.category
    on_board: np.ndarray = table["category"].eq(kind).to_numpy(dtype=bool)
    if category in _PROMPT_CATEGORIES:
        on_board = on_board & tagged_in_category(table, category)
    if stack is not None:
        on_board = on_board & table["webdev_stack"].eq(stack.value).to_numpy(dtype=bool)
    return on_board


def _computed(
    snapshot: LeaderboardSnapshot, battles: pd.DataFrame, base_options: LeaderboardOptions
) -> LeaderboardSnapshot:
    if battles.empty:
        return replace(snapshot, message="No counted votes in this category yet.")
    options = replace(
        base_options,
        style_control=snapshot.style_control,
        code_style=snapshot.style_control and snapshot.category in WEBDEV_CATEGORIES,
    )
    try:
        leaderboard = compute_leaderboard(battles.reset_index(drop=True), options)
    except (RatingError, BattleDataError) as error:
        lacking = [record for record in snapshot.record or () if record["needs"]]
        reason = (
            NEEDS_WIN_AND_LOSS if lacking else f"Not enough votes to rank these models yet: {error}"
        )
        return replace(snapshot, message=reason)
    except Exception:
        # One leaderboard failing must not keep the others (or the pages) from updating.
        logger.exception(
            "leaderboard %s (style control %s) failed",
            snapshot.category,
            snapshot.style_control,
        )
        return replace(snapshot, message="This leaderboard could not be computed; see the log.")
    return replace(snapshot, leaderboard=leaderboard.to_dict())


class LeaderboardRefresher:
    def __init__(
        self,
        repository: ArenaRepository,
        *,
        store: SnapshotStore | None = None,
        categories: Sequence[str] = CATEGORIES,
        interval_seconds: float = 10.0,
        options: LeaderboardOptions | None = None,
        screening: LiveScreening | None = None,
    ) -> None:
        self._repository = repository
        # Runs after a refresh, on a budget of the refresh's time; its verdicts move the
        # log's head, so the next refresh leaves the votes it flagged out.
        self._screening = screening
        self._store = store or MemorySnapshotStore()
        self.categories = tuple(categories)
        self.interval_seconds = interval_seconds
        self._options = options or LeaderboardOptions()

    def snapshot(self, category: str, style_control: bool = False) -> LeaderboardSnapshot | None:
        """The latest computed leaderboard; None until the first computation finished."""
        return self._store.get(category, style_control)

    def refresh_if_needed(self) -> bool:
        """Recompute when a vote was logged since the last computation; True if it did."""
        head = self._repository.log_head()
        known = self._store.watermark()
        if known is not None and known >= head.position:
            return False
        if not self._store.claim(head.position):
            return False
        try:
            self.refresh(head)
        finally:
            self._store.release()
        return True

    def refresh(self, head: LogHead | None = None) -> None:
        if head is None:
            head = self._repository.log_head()
        started = time.monotonic()
        votes = self._repository.counted_votes_in_log(head.position)
        computed_at = datetime.now(UTC).isoformat()
        for snapshot in compute_snapshots(votes, head, self.categories, self._options, computed_at):
            self._store.put(snapshot)
        elapsed = time.monotonic() - started
        logger.info("leaderboards recomputed from %d votes in %.2f s", len(votes), elapsed)
        if self._screening is not None:
            self._screening.after_refresh(head, elapsed)

    async def run(self) -> None:
        """Refresh in the background until cancelled; failures are logged, not fatal."""
        while True:
            try:
                await asyncio.to_thread(self.refresh_if_needed)
            except RedisError as error:
                # One line: the operator needs the cause, not the client library's stack.
                logger.error(
                    "leaderboard refresh failed, Redis unreachable: %s; retrying in %s s",
                    error,
                    self.interval_seconds,
                )
            except Exception:
                logger.exception(
                    "leaderboard refresh failed; retrying in %s s", self.interval_seconds
                )
            await asyncio.sleep(self.interval_seconds)

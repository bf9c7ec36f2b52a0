"""Keeps the leaderboards up to date in the background, never on a page view.

Every `interval_seconds` the refresher reads the vote log's head (one cheap query). When it
moved, the counted votes of the new log entries (and only those) are folded into the board
statistics (arena/board_statistics.py), and every leaderboard (each category, with and
without style control) is computed from them at exactly that head: however many votes
arrive in between, there is at most one computation per interval, and each snapshot names
the head it was computed at, so `glassarena verify` can replay the published log up to that
head and must get the same leaderboard bit for bit (it builds the same statistics from the
log's votes and runs the same computation, `compute_snapshots`). The first refresh after a
start builds the statistics from the database in one columnar read.

Snapshots are JSON-ready dicts. With Redis, they are shared: one worker, on whichever node
of the deployment holds the Redis lease, computes, and every worker serves the result. The
lease is one key for the whole arena, renewed by its holder at every refresh (it alone keeps
the statistics in memory); it runs out on its own when that worker stops or dies, and
another takes over.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from redis.exceptions import RedisError

from glassarena.arena.board_statistics import Board, BoardStatistics
from glassarena.arena.freed_memory import release_freed_memory
from glassarena.arena.model_record import NEEDS_WIN_AND_LOSS, model_records
from glassarena.battles.categories import in_category as tagged_in_category
from glassarena.battles.errors import BattleDataError
from glassarena.battles.table import RowLocator, validate_battles
from glassarena.leaderboard import (
    LeaderboardOptions,
    compute_leaderboard,
    compute_leaderboard_from_counts,
)
from glassarena.ratings.errors import RatingError
from glassarena.storage.board_snapshots import StoredBoard
from glassarena.storage.repository import ArenaRepository, CountedVote, LogHead
from glassarena.storage.schema import as_utc
from glassarena.storage.verdict_log import VerdictLog
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

logger = logging.getLogger(__name__)
_PROMPT_CATEGORIES = frozenset(PromptCategory)
# Log entries per stored segment of the board statistics: a restart reads at most this many
# votes from the log itself (the slow way, JSON), the rest from the segments.
SEGMENT_ENTRIES = 16_384
# The published boards are stored for the next start at most this often, and when the
# arena stops (`LeaderboardRefresher.save_boards`).
SAVE_BOARDS_SECONDS = 30.0
# Changes whenever a stored snapshot's meaning or layout changes: older ones are not served.
STORED_BOARD_FORMAT = "board-snapshot-1"


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

    def to_json(self) -> str:
        """As Redis and the stored boards keep it."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> LeaderboardSnapshot:
        return cls(**json.loads(text))


class Screening(Protocol):
    """The live screening (`LiveScreening`, or `ScreeningProcess` running one in a child)."""

    def after_refresh(self, head: LogHead, refresh_seconds: float) -> object | None:
        """Count the boards' time; run a pass up to `head` when due (None when none ran)."""
        ...

    def close(self) -> None:
        """Stop whatever runs the passes (called when the arena stops)."""
        ...


class SnapshotStore(Protocol):
    def get(self, category: str, style_control: bool) -> LeaderboardSnapshot | None: ...
    def put(self, snapshot: LeaderboardSnapshot) -> None:
        """Keep `snapshot` unless a newer one (higher watermark) is already stored."""
        ...

    def watermark(self) -> int | None: ...
    def claim(self, watermark: int) -> bool:
        """True when this worker should compute the leaderboards (for `watermark`)."""
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

# KEYS: the lease. ARGV: this worker's token, the lease's length in seconds.
_CLAIM_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


class RedisSnapshotStore:
    """Snapshots in Redis, so that every worker serves the one computation."""

    def __init__(
        self,
        client: Redis,
        prefix: str = "glassarena:leaderboard:",
        lock_seconds: int = 60,
        keep_seconds: int = 7 * 86_400,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._lock_seconds = lock_seconds
        # Snapshots of an arena that stopped are forgotten; a running one rewrites them.
        self._keep_seconds = keep_seconds
        self._put = client.register_script(_PUT_SCRIPT)
        self._claim = client.register_script(_CLAIM_SCRIPT)
        self._token = secrets.token_hex(16)
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
        snapshot = LeaderboardSnapshot.from_json(raw)
        self._last[key] = snapshot
        return snapshot

    def put(self, snapshot: LeaderboardSnapshot) -> None:
        self._put(
            keys=[self._key(snapshot.category, snapshot.style_control), self._watermark_key],
            args=[snapshot.watermark, snapshot.to_json(), self._keep_seconds],
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
        """One worker computes for as long as it keeps claiming (every refresh interval):
        it alone keeps the board statistics in memory. Another takes over once its lease
        has run out (`lock_seconds` after its last claim: it stopped or died)."""
        return bool(self._claim(keys=[self._lock_key], args=[self._token, self._lock_seconds]))


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
    statistics = BoardStatistics.from_votes(votes, categories)
    if not options.tone_style:
        return statistics_snapshots(statistics, head, options, computed_at)
    plain = statistics_snapshots(statistics, head, options, computed_at, (False,))
    return [*plain, *tone_snapshots(votes, head, categories, options, computed_at)]


def statistics_snapshots(
    statistics: BoardStatistics,
    head: LogHead,
    options: LeaderboardOptions,
    computed_at: str,
    style_controls: Sequence[bool] = (False, True),
) -> list[LeaderboardSnapshot]:
    """The statistics' leaderboards (each category, with each of `style_controls`) at `head`."""
    return [
        board_snapshot(statistics.board(category, style_control), head, options, computed_at)
        for category in statistics.categories
        for style_control in style_controls
    ]


def tone_snapshots(
    votes: Sequence[CountedVote],
    head: LogHead,
    categories: Sequence[str],
    options: LeaderboardOptions,
    computed_at: str,
) -> list[LeaderboardSnapshot]:
    """The style-controlled boards when they also control for tone (emoji and sentiment):
    those features are not among the statistics' style rows, so they are fitted from the
    votes' battle table, as `glassarena rank` does."""
    table = battle_table(votes)
    snapshots = []
    for category in categories:
        battles = table[on_board(table, category)] if len(table) else table
        snapshot = LeaderboardSnapshot(
            category=category,
            style_control=True,
            watermark=head.position,
            votes=len(battles),
            computed_at=computed_at,
            leaderboard=None,
            message=None,
            log_head=head.entry_hash,
            record=model_records(battles),
        )
        snapshots.append(_table_snapshot(snapshot, battles, options))
    return snapshots


def _table_snapshot(
    snapshot: LeaderboardSnapshot, battles: pd.DataFrame, base_options: LeaderboardOptions
) -> LeaderboardSnapshot:
    if battles.empty:
        return replace(snapshot, message="No counted votes in this category yet.")
    options = replace(
        base_options, style_control=True, code_style=snapshot.category in WEBDEV_CATEGORIES
    )
    try:
        leaderboard = compute_leaderboard(battles.reset_index(drop=True), options)
    except (RatingError, BattleDataError) as error:
        return replace(snapshot, message=_no_ratings_reason(snapshot.record or [], error))
    except Exception:
        logger.exception("leaderboard %s (style and tone control) failed", snapshot.category)
        return replace(snapshot, message="This leaderboard could not be computed; see the log.")
    return replace(snapshot, leaderboard=leaderboard.to_dict())


def _no_ratings_reason(record: Sequence[dict[str, Any]], error: Exception) -> str:
    if any(row["needs"] for row in record):
        return NEEDS_WIN_AND_LOSS
    return f"Not enough votes to rank these models yet: {error}"


def on_board(table: pd.DataFrame, category: str) -> np.ndarray:
    """Which battles of a battle table are on `category`'s board: a battle kind's board has
    its battles; a prompt category's board has the text battles whose prompt is in that
    category; a stack's board has the WebDev battles asked in that stack.
    `BoardStatistics` keeps to the same rule vote by vote."""
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


def board_snapshot(
    board: Board, head: LogHead, base_options: LeaderboardOptions, computed_at: str
) -> LeaderboardSnapshot:
    """One board's snapshot: its leaderboard, or the reason there is none yet."""
    snapshot = LeaderboardSnapshot(
        category=board.category,
        style_control=board.style_control,
        watermark=head.position,
        votes=board.votes,
        computed_at=computed_at,
        leaderboard=None,
        message=None,
        log_head=head.entry_hash,
        record=board.record,
    )
    if board.votes == 0:
        return replace(snapshot, message="No counted votes in this category yet.")
    options = replace(
        base_options,
        style_control=board.style_control,
        code_style=board.style_control and board.category in WEBDEV_CATEGORIES,
        # Tone control needs the answers' tone counts, which `tone_snapshots` fits.
        tone_style=False,
    )
    try:
        leaderboard = compute_leaderboard_from_counts(board.battles, options)
    except (RatingError, BattleDataError) as error:
        return replace(snapshot, message=_no_ratings_reason(board.record, error))
    except Exception:
        # One leaderboard failing must not keep the others (or the pages) from updating.
        logger.exception(
            "leaderboard %s (style control %s) failed", board.category, board.style_control
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
        interval_seconds: float = 1.0,
        options: LeaderboardOptions | None = None,
        screening: Screening | None = None,
    ) -> None:
        self._repository = repository
        # Runs after a refresh, on a budget of the refresh's time; its verdicts move the
        # log's head, so the next refresh leaves the votes it flagged out.
        self._screening = screening
        self._store = store or MemorySnapshotStore()
        self.categories = tuple(categories)
        self.interval_seconds = interval_seconds
        self._options = options or LeaderboardOptions()
        # Built by the first refresh of this worker, then kept up to date by each one.
        self._statistics: BoardStatistics | None = None
        self._folded = LogHead(0, GENESIS_HASH)
        self._folding = threading.Lock()
        # The log position each category's style-controlled board was last computed at.
        self._styled: dict[str, int] = {}
        self._segmented = 0  # the log position up to which segments are stored
        self._loaded = 0  # votes the cold start read from stored segments
        self._verdicts = VerdictLog(repository.database)
        self._style_seconds = 0.0  # style fits since screening last had its budget
        self._board_seconds = 0.0  # the other boards' computations since then
        self._screened_at = -1  # the log position of the last screening pass
        self._stored_options = stored_board_options(self._options, self.categories)
        # Boards stored at the last stop and served since this start, by their watermark;
        # None until they were looked for.
        self._restored: dict[tuple[str, bool], int] | None = None
        self._saved: dict[tuple[str, bool], int] = {}  # each board's watermark as stored
        self._saved_at = time.monotonic()

    def snapshot(self, category: str, style_control: bool = False) -> LeaderboardSnapshot | None:
        """The latest computed leaderboard; None until the first computation finished."""
        return self._store.get(category, style_control)

    def refresh_if_needed(self, style_control: bool = True) -> bool:
        """Recompute when a vote was logged since the last computation; True if it did.

        With `style_control=False` only the boards without style control are computed (in
        milliseconds, from counts); `run` computes the style-controlled ones beside them.
        """
        head = self._repository.log_head()
        if not self._store.claim(head.position):
            # Another worker computes; what this one folded would only go stale.
            with self._folding:
                self._statistics, self._folded = None, LogHead(0, GENESIS_HASH)
            return False
        if self._restored is None:
            self._restore_boards()
        known = self._store.watermark()
        # Statistics are built at once after a start, whatever is served meanwhile, so that
        # the first vote reaches the board in an interval, not after a cold read.
        if known is not None and known >= head.position and self._statistics is not None:
            return False
        self.refresh(head, style_control=style_control)
        return True

    def refresh(self, head: LogHead | None = None, style_control: bool = True) -> None:
        """Fold the log up to `head` (its head now by default) and compute the boards there;
        the style-controlled ones too unless `style_control` is False."""
        if head is None:
            head = self._repository.log_head()
        started = time.monotonic()
        with self._folding:
            statistics = self._fold(head)
            computed_at = datetime.now(UTC).isoformat()
            snapshots = statistics_snapshots(statistics, head, self._options, computed_at, (False,))
        for snapshot in snapshots:
            self._store.put(snapshot)
        elapsed = time.monotonic() - started
        logger.info("leaderboards computed at log position %d in %.3f s", head.position, elapsed)
        self._board_seconds += elapsed
        if style_control:
            self.refresh_style_boards()

    def screen_if_due(self) -> bool:
        """Run a screening pass over the log up to the last folded head when the boards'
        time since the last pass has earned one; True if a pass ran.

        `run` calls this in a loop of its own: a pass reads and screens every vote (minutes
        at ten million), and new votes must reach the boards meanwhile. Not before every
        board has been published once since the statistics were built: after a restart a
        first pass would share the CPU with the first boards and pages; it waits for them
        instead (`glassarena verify` replays verdicts whenever they were logged)."""
        if self._screening is None:
            return False
        with self._folding:
            head, published = self._folded, self._statistics is not None and self._published()
        if not published or head.position == self._screened_at:
            return False
        # The time the boards took, style fits included, is screening's budget.
        elapsed, self._board_seconds, self._style_seconds = (
            self._board_seconds + self._style_seconds,
            0.0,
            0.0,
        )
        if self._screening.after_refresh(head, elapsed) is None:
            return False
        self._screened_at = head.position
        return True

    def _published(self) -> bool:
        """Whether every board, style-controlled ones included, was computed since the
        statistics were built."""
        return all(category in self._styled for category in self.categories)

    def refresh_style_boards(self) -> int:
        """The style-controlled boards at the last folded head, where they are behind it;
        returns how many were computed.

        The style fit goes over every vote of a board, so it runs outside the fold's lock on
        a copy of the board's rows: new votes keep reaching the other boards meanwhile, and
        each snapshot names the head its copy was taken at.
        """
        started = time.monotonic()
        if self._options.tone_style:
            computed = self._refresh_tone_boards()
        else:
            computed = self._refresh_statistics_style_boards()
        if computed:
            release_freed_memory()  # else each fit's temporaries stay for good
        self._style_seconds += time.monotonic() - started
        return computed

    def _refresh_statistics_style_boards(self) -> int:
        computed = 0
        for category in self.categories:
            with self._folding:
                statistics, head = self._statistics, self._folded
                if statistics is None:
                    return computed
                if self._styled.get(category, -1) >= head.position:
                    continue
                board = statistics.board(category, style_control=True)
            computed_at = datetime.now(UTC).isoformat()
            snapshot = board_snapshot(board, head, self._options, computed_at)
            # Its copy of the rows goes before the next board's is taken, not after.
            del board
            self._store.put(snapshot)
            self._styled[category] = head.position
            computed += 1
        return computed

    def _refresh_tone_boards(self) -> int:
        """Tone counts are not among the statistics' style rows: these boards are fitted
        from the counted votes read at the folded head, all categories at once."""
        with self._folding:
            head = self._folded
            if self._statistics is None:
                return 0
        if all(self._styled.get(category, -1) >= head.position for category in self.categories):
            return 0
        votes = self._repository.counted_votes_in_log(head.position)
        computed_at = datetime.now(UTC).isoformat()
        snapshots = tone_snapshots(votes, head, self.categories, self._options, computed_at)
        for snapshot in snapshots:
            self._store.put(snapshot)
            self._styled[snapshot.category] = head.position
        return len(snapshots)

    def _fold(self, head: LogHead) -> BoardStatistics:
        """The statistics at `head`: the votes logged since the last fold are added."""
        statistics, folded = self._statistics, self._folded
        if (
            statistics is None
            or head.position < folded.position
            or (head.position == folded.position and head.entry_hash != folded.entry_hash)
        ):
            # A first refresh, or a log that is not the one folded (a restored database).
            statistics, position = self._cold_start(head)
            folded = LogHead(position, "")
        started = time.monotonic()
        for votes in self._repository.vote_columns(folded.position, head.position):
            statistics.add(votes)
        # Screening verdicts logged meanwhile: the latest on a vote decides whether it counts
        # (applied as states, so replaying one already in a stored segment changes nothing).
        verdicts = self._verdicts.events(folded.position, head.position)
        if verdicts:
            statistics.set_counted(
                [verdict.vote_position for verdict in verdicts],
                [verdict.counted for verdict in verdicts],
            )
        if self._statistics is not statistics:
            release_freed_memory()  # what reading every vote passed through
            logger.info(
                "board statistics: %d votes after the stored segments read from the log in %.2f s",
                statistics.size - self._loaded,
                time.monotonic() - started,
            )
        self._statistics, self._folded = statistics, head
        self._store_segments(statistics, head.position)
        return statistics

    def _cold_start(self, head: LogHead) -> tuple[BoardStatistics, int]:
        """Statistics from the stored segments, and the log position they reach."""
        started = time.monotonic()
        statistics = BoardStatistics(self.categories)
        statistics.reserve(head.position)  # every entry a counted vote at most
        segments = 0
        self._segmented = 0
        for segment in self._repository.board_segments(statistics.layout):
            statistics.load_segment(segment.payload)
            segments, self._segmented = segments + 1, segment.last_position
        self._styled.clear()
        # A style-controlled board stored at exactly this head is the one a fit would give.
        self._styled.update(
            (category, watermark)
            for (category, style_control), watermark in (self._restored or {}).items()
            if style_control and watermark == head.position
        )
        self._loaded = statistics.size
        logger.info(
            "board statistics: %d votes read from %d stored segments in %.2f s",
            statistics.size,
            segments,
            time.monotonic() - started,
        )
        return statistics, self._segmented

    def _restore_boards(self) -> None:
        """Serve the boards stored at the last stop (each names its log head) while the
        statistics are read back: at millions of votes that takes a while."""
        self._restored = {}
        for stored in self._repository.stored_boards(self._stored_options):
            if stored.category not in self.categories:
                continue
            snapshot = LeaderboardSnapshot.from_json(zlib.decompress(stored.payload))
            self._store.put(snapshot)
            self._restored[(stored.category, stored.style_control)] = stored.watermark
        self._saved = dict(self._restored)
        if self._restored:
            logger.info(
                "serving %d leaderboards stored at the last stop (log positions %d to %d)",
                len(self._restored),
                min(self._restored.values()),
                max(self._restored.values()),
            )
        else:
            logger.info("no stored leaderboards of this log and these options to serve")

    def save_boards(self) -> int:
        """Store the published boards for the next start; returns how many were stored.

        Only the worker that computes stores them, and only boards that changed."""
        if self._statistics is None:
            return 0
        boards = []
        for category in self.categories:
            for style_control in (False, True):
                snapshot = self._store.get(category, style_control)
                key = (category, style_control)
                if snapshot is None or self._saved.get(key) == snapshot.watermark:
                    continue
                payload = zlib.compress(snapshot.to_json().encode())
                boards.append(
                    StoredBoard(
                        category, style_control, snapshot.watermark, snapshot.log_head, payload
                    )
                )
        self._repository.save_boards(self._stored_options, boards)
        self._saved.update(
            ((board.category, board.style_control), board.watermark) for board in boards
        )
        self._saved_at = time.monotonic()
        if boards:
            logger.info(
                "stored %d leaderboards for the next start (log positions %d to %d)",
                len(boards),
                min(board.watermark for board in boards),
                max(board.watermark for board in boards),
            )
        return len(boards)

    def _store_segments(self, statistics: BoardStatistics, position: int) -> None:
        """Store each whole segment of the log folded since the last one stored."""
        while self._segmented + SEGMENT_ENTRIES <= position:
            end = self._segmented + SEGMENT_ENTRIES
            payload = statistics.segment(self._segmented, end)
            self._repository.save_board_segment(self._segmented, end, statistics.layout, payload)
            self._segmented = end

    async def run(self) -> None:
        """Refresh in the background until cancelled; failures are logged, not fatal.

        Two loops: the boards without style control follow the log every interval; the
        style-controlled ones, whose fit takes longer, are recomputed once new votes were
        folded in, after a rest as long as their previous computation.
        """
        styled = asyncio.create_task(self._run_style_boards())
        screening = asyncio.create_task(self._run_screening())
        try:
            while True:
                try:
                    await asyncio.to_thread(self.refresh_if_needed, False)
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
        finally:
            styled.cancel()
            screening.cancel()
            try:
                await asyncio.to_thread(self.save_boards)
            except Exception:
                logger.exception("the leaderboards could not be stored for the next start")

    async def _run_style_boards(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await asyncio.to_thread(self.refresh_style_boards)
                if time.monotonic() - self._saved_at >= SAVE_BOARDS_SECONDS:
                    await asyncio.to_thread(self.save_boards)
            except RedisError as error:
                logger.error("style-controlled leaderboards: Redis unreachable: %s", error)
            except Exception:
                logger.exception(
                    "style-controlled leaderboards failed; retrying in %s s", self.interval_seconds
                )
            # Rest as long as the fit took: at most half a core goes to style fits, the
            # rest stays with the votes.
            await asyncio.sleep(max(self.interval_seconds, time.monotonic() - started))

    async def _run_screening(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.screen_if_due)
            except Exception:
                logger.exception("vote screening failed; retrying in %s s", self.interval_seconds)
            await asyncio.sleep(self.interval_seconds)


def stored_board_options(options: LeaderboardOptions, categories: Sequence[str]) -> str:
    """What a stored board's computation depended on besides the log: a board stored under
    other options or categories is not served."""
    described = {
        "format": STORED_BOARD_FORMAT,
        "options": asdict(options),
        "categories": list(categories),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()

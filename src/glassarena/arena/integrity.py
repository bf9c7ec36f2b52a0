"""What `/integrity` and the leaderboard show about how the board was made.

The sampling policy in force, the realised shares of the battles it chose and of their
counted votes per organization and per model (last 7 days, 30 days, all time),
organizations and their variants, provisional and retired models, the retirement log, and
the vote log's head. Read from the database in the background every few seconds at most,
never per page view.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from glassarena.arena.config.schema import IntegritySettings
from glassarena.arena.roster import Roster
from glassarena.arena.sampling import SamplingPolicy
from glassarena.arena.standing import Standing, standings
from glassarena.storage.battle_view import version_label
from glassarena.storage.integrity import ActivityWindow, IntegrityStore, VersionActivity
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.verdict_log import VerdictLog

logger = logging.getLogger(__name__)

# How long a page waits for the first reading after a start before it is served without it:
# a small arena's reading takes milliseconds; a million votes' takes seconds.
FIRST_WAIT_SECONDS = 2.0
# A reading is at least this many times its own duration old before the next: at ten
# million votes a reading takes minutes of a core, which the votes and pages need more.
READ_SPACING = 10.0

WINDOWS: tuple[tuple[str, timedelta | None], ...] = (
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
    ("all", None),
)


@dataclass(frozen=True, slots=True)
class IntegrityState:
    """One consistent reading, JSON-ready in `report`; `standing` per board label.

    Not `ready` while the first reading after a start is still being computed: then the
    report holds only `pending` and what costs nothing to know, and `standing` has the
    configured models with their organization and retirement but no counts, so a page can
    be served and say that the figures are coming."""

    report: dict[str, Any]
    standing: Mapping[str, Standing]
    variants: Mapping[str, int]  # organization -> versions that have had battles
    ready: bool = True


class IntegrityView:
    def __init__(
        self,
        store: IntegrityStore,
        repository: ArenaRepository,
        roster: Callable[[], Roster],
        sampling: SamplingPolicy,
        settings: IntegritySettings,
        *,
        keep_seconds: float = 5.0,
        first_wait_seconds: float = FIRST_WAIT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        screening_runs: VerdictLog | None = None,
    ) -> None:
        self._store = store
        self._screening_runs = screening_runs
        self._repository = repository
        self._roster = roster
        self._sampling = sampling
        self._settings = settings
        self._keep_seconds = keep_seconds
        self._first_wait_seconds = first_wait_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, IntegrityState] | None = None
        self._reading = False
        self._read_seconds = 0.0  # how long the last reading took
        self._first_read = threading.Event()

    def state(self) -> IntegrityState:
        """The latest reading, at once; when it is older than `keep_seconds`, one background
        re-read starts (grouped queries over every battle cost seconds on a big arena, which
        no page view should wait for), or older than `READ_SPACING` times the last reading's
        duration, whichever is later. Before the first reading is done, a caller waits for
        it at most `first_wait_seconds`, then gets a state that is not `ready`."""
        with self._lock:
            cached = self._cached
            keep = max(self._keep_seconds, READ_SPACING * self._read_seconds)
            if cached is None or time.monotonic() - cached[0] >= keep:
                self._reread_in_background()
        if cached is not None:
            return cached[1]
        self._first_read.wait(self._first_wait_seconds)
        with self._lock:
            cached = self._cached
        return cached[1] if cached is not None else self._pending()

    def _reread_in_background(self) -> None:
        # The caller holds the lock.
        if not self._reading:
            self._reading = True
            threading.Thread(target=self._reread, name="integrity re-read", daemon=True).start()

    def _reread(self) -> None:
        try:
            started = time.monotonic()
            state = self._read()
            with self._lock:
                self._cached = (time.monotonic(), state)
                self._read_seconds = self._cached[0] - started
            self._first_read.set()
        except Exception:
            logger.exception("the integrity report could not be re-read; keeping the last one")
        finally:
            with self._lock:
                self._reading = False

    def _pending(self) -> IntegrityState:
        """What is known without reading the battles: the configured models, who made them,
        and which are retired (decided at the start)."""
        standing = {}
        for model in self._roster():
            label = version_label(model.name, model.version)
            standing[label] = Standing(
                label=label,
                name=model.name,
                version=model.version,
                organization=model.organization,
                family=model.family,
                open_weights=model.open_weights,
                status="retired" if model.retired else "active",
                reasons=(),
                battles=0,
                counted_votes=0,
                in_config=True,
            )
        report = {"pending": True, "policy": self._sampling.describe()}
        return IntegrityState(report=report, standing=standing, variants={}, ready=False)

    def _read(self) -> IntegrityState:
        now = self._clock()
        roster = self._roster()
        in_config = {model.version_id for model in roster}
        head = self._repository.log_head()
        all_time, *sampled = self._store.version_activities(
            [ActivityWindow(), *sampling_windows(now)]
        )
        retirements = self._store.retirements()
        board = standings(all_time, in_config, retirements, self._settings)
        variants: dict[str, int] = defaultdict(int)
        for record in all_time:
            if record.battles:
                variants[record.organization] += 1
        offered: dict[str, int] = defaultdict(int)
        for model in roster:
            if not model.retired:
                offered[model.organization] += 1
        report = {
            "log": {"position": head.position, "head": head.entry_hash},
            "policy": self._sampling.describe(),
            "shares": realised_shares(sampled),
            "organizations": [
                {
                    "organization": organization,
                    "variants_in_battles": variants.get(organization, 0),
                    "variants_offered_now": offered.get(organization, 0),
                }
                for organization in sorted(set(variants) | set(offered))
            ],
            "provisional_rules": self._settings.provisional.model_dump(),
            "retirement_rules": [rule.model_dump() for rule in self._settings.retirement],
            "models": [standing.to_dict() for standing in board],
            # Votes are never deleted: each one that does not count is here, by its reason.
            "uncounted_votes": self._store.uncounted_votes(),
            # The live screening's last pass: uncounted votes by reason, boards with and
            # without screening (None before the first pass, or with screening off).
            "screening": self._screening_runs.latest_run()
            if self._screening_runs is not None
            else None,
            "retirements": [
                {
                    "model": record.label,
                    "organization": record.organization,
                    "rule": record.rule,
                    "detail": record.detail,
                    "votes": record.votes,
                    "retired_at": record.retired_at.isoformat(),
                    "reinstated_at": record.reinstated_at.isoformat()
                    if record.reinstated_at
                    else None,
                }
                for record in retirements
            ],
            "computed_at": now.isoformat(),
        }
        return IntegrityState(
            report=report,
            standing={standing.label: standing for standing in board},
            variants=dict(variants),
        )


def sampling_windows(now: datetime) -> list[ActivityWindow]:
    """The battles behind the realised shares, per window of `WINDOWS`: what the sampling
    policy did (anonymous battles; named and single-model ones are the user's choice)."""
    return [
        ActivityWindow(None if span is None else now - span, sampled_only=True)
        for _, span in WINDOWS
    ]


def realised_shares(
    sampled: Sequence[Sequence[VersionActivity]],
) -> dict[str, dict[str, Any]]:
    """What the sampling policy did, per window, from the readings of `sampling_windows`."""
    return {name: _shares(activity) for (name, _), activity in zip(WINDOWS, sampled, strict=True)}


def _shares(activity: Sequence[VersionActivity]) -> dict[str, Any]:
    """Battles and counted votes per model and per organization, with their shares: each
    organization's and model's part of the battles the policy chose and of their votes.

    A battle appears once for each of its models, so shares are of model appearances.
    """
    battles = sum(record.battles for record in activity)
    votes = sum(record.counted_votes for record in activity)
    by_organization: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    models = []
    for record in activity:
        if not record.battles:
            continue
        by_organization[record.organization][0] += record.battles
        by_organization[record.organization][1] += record.counted_votes
        models.append(
            {
                "model": record.label,
                "organization": record.organization,
                "battles": record.battles,
                "counted_votes": record.counted_votes,
                "battle_share": _share(record.battles, battles),
                "vote_share": _share(record.counted_votes, votes),
            }
        )
    organizations = [
        {
            "organization": organization,
            "battles": counts[0],
            "counted_votes": counts[1],
            "battle_share": _share(counts[0], battles),
            "vote_share": _share(counts[1], votes),
        }
        for organization, counts in sorted(by_organization.items())
    ]
    return {
        "appearances": battles,
        "counted_vote_appearances": votes,
        "organizations": organizations,
        "models": models,
    }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0

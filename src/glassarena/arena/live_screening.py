"""Vote screening inside the live arena: the detectors of `glassarena.screening` run on the
arena's own votes, and a vote they flag stops counting, with its reason, through a *verdict*
chained into the public vote log (storage/verdict_log.py). Nothing is deleted or rewritten:
anyone replaying the log applies the verdicts in order and gets the same boards.

Each pass screens, per battle kind, every two-model vote that was counted when accepted (a
vote the acceptance seam did not count, e.g. a named-mode vote, is never judged, and never
made to count), from scratch and deterministically, and appends a verdict for each vote
whose standing changes: newly flagged votes stop counting, and a vote no longer flagged
(more data cleared its voter) counts again.

Cost is amortised against the refresh it sits beside. The leaderboard refresher reports the
time each refresh took; a pass runs when the refresh time accumulated since the last pass,
times `ScreeningSettings.refresh_share`, reaches what the last pass cost. So over any run of
refreshes the screening time is at most that share of the refresh time (plus one pass),
whatever the arena's size; a big arena screens every few refreshes, a small one every
refresh. Passes read the log incrementally: each reads just the entries appended since the
previous one and keeps every column (voter, IP hash, model codes) in memory.

Each pass also records, for `/integrity`, its counts per reason and each board with and
without screening (storage: `screening_runs`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from glassarena.arena.freed_memory import release_freed_memory
from glassarena.battles.errors import BattleDataError
from glassarena.leaderboard import (
    WINNERS,
    CountedBattles,
    LeaderboardOptions,
    compute_leaderboard_from_counts,
)
from glassarena.ratings.errors import RatingError
from glassarena.screening import REASONS, ScreeningResult, ScreeningSettings, VoteTable, screen
from glassarena.screening.result import explanation
from glassarena.storage.repository import LogHead
from glassarena.storage.verdict_log import ScreenableVotes, Verdict, VerdictLog
from glassarena.vocabulary import Winner

logger = logging.getLogger(__name__)

# Bumped whenever the detectors change what they decide; logged with every verdict.
SCREENING_VERSION = "3"
_OUTCOMES = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
_COLUMNS = ("position", "category", "model_a", "model_b", "winner", "voter", "ip", "time")
# Log positions read per query: bounds the rows a first pass over a long log holds at once.
READ_ENTRIES = 50_000


def screening_version(settings: ScreeningSettings) -> str:
    """The detectors' version and a fingerprint of the thresholds, as verdicts name it."""
    decisive = {key: value for key, value in asdict(settings).items() if key != "refresh_share"}
    thresholds = json.dumps(decisive, sort_keys=True).encode("utf-8")
    return f"{SCREENING_VERSION}:{hashlib.sha256(thresholds).hexdigest()[:12]}"


class _Codes:
    """Stable integer codes for values in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}
        self.names: list[Any] = []

    def encode(self, values: Sequence[Hashable], dtype: type[np.integer[Any]]) -> NDArray[Any]:
        batch, uniques = pd.factorize(np.asarray(values, dtype=object))
        index = self.index
        codes = np.empty(len(uniques), dtype=dtype)
        for number, value in enumerate(uniques.tolist()):
            code = index.get(value)
            if code is None:
                code = index[value] = len(self.names)
                self.names.append(value)
            codes[number] = code
        return codes[batch]


@dataclass
class _Screenable:
    """Every screenable vote read so far, as arrays; grows by the newly logged ones only.

    No Python object per vote is kept: at a million votes, a string per vote held between
    passes pins the allocator's pages that the read's transient rows were spread over, and
    the process keeps the read's peak (hundreds of MiB) for good. Codes are 32-bit and no
    battle id is kept (a verdict looks its battle up): 33 bytes a vote, 330 MB at 10,000,000.
    """

    read_up_to: int = 0
    position: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    category: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    model_a: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    model_b: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    winner: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    voter: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    ip: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    time: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    categories: _Codes = field(default_factory=_Codes)
    models: _Codes = field(default_factory=_Codes)
    winners: _Codes = field(default_factory=_Codes)
    voters: _Codes = field(default_factory=_Codes)
    ips: _Codes = field(default_factory=_Codes)

    def extend(self, batches: Iterable[ScreenableVotes], up_to: int) -> None:
        """Append the batches' votes (in log order), joined to the arrays once at the end."""
        parts: dict[str, list[NDArray[Any]]] = {name: [getattr(self, name)] for name in _COLUMNS}
        for new in batches:
            parts["position"].append(np.asarray(new.position, dtype=np.int64))
            parts["category"].append(self.categories.encode(new.category, np.int32))
            parts["model_a"].append(self.models.encode(new.model_a, np.int32))
            parts["model_b"].append(self.models.encode(new.model_b, np.int32))
            parts["winner"].append(self.winners.encode(new.winner, np.int8))
            parts["voter"].append(self.voters.encode(new.voter_id, np.int32))
            parts["ip"].append(self.ips.encode(new.ip_hash, np.int32))
            parts["time"].append(np.asarray(new.voted_at, dtype=np.float64))
        for name, columns in parts.items():
            setattr(self, name, np.concatenate(columns) if len(columns) > 1 else columns[0])
        self.read_up_to = up_to

    def outcome(self, rows: NDArray[np.intp]) -> NDArray[np.float64]:
        scores = np.array([_OUTCOMES[winner] for winner in self.winners.names], dtype=np.float64)
        return scores[self.winner[rows]]

    def table(self, rows: NDArray[np.intp]) -> VoteTable:
        """The votes at `rows` as a VoteTable (models sorted, as screening requires).

        When `rows` are every vote (one battle kind), the voter, IP and time columns are
        the table's as they are, not copies."""
        every = len(rows) == len(self.position)

        def taken(column: NDArray[Any]) -> NDArray[Any]:
            return column if every else column[rows]

        model_a, model_b = taken(self.model_a), taken(self.model_b)
        known = len(self.models.names)
        present = np.flatnonzero(
            np.bincount(model_a, minlength=known) + np.bincount(model_b, minlength=known)
        )
        labels = np.array([self.models.names[code] for code in present], dtype=str)
        order = np.argsort(labels)
        sorted_code = np.empty(len(self.models.names), dtype=np.int32)
        sorted_code[present[order]] = np.arange(len(present))
        return VoteTable(
            models=labels[order],
            model_a=sorted_code[model_a],
            model_b=sorted_code[model_b],
            outcome=self.outcome(rows),
            voter=taken(self.voter),
            voter_names=np.array(self.voters.names, dtype=object),
            ip=taken(self.ip),
            ip_names=np.array(self.ips.names, dtype=object),
            time=taken(self.time),
        )


@dataclass(frozen=True, slots=True)
class PassOutcome:
    """What one pass decided: per screened vote position, the reason it does not count."""

    position: int
    uncounted: Mapping[int, str]
    appended: int
    seconds: float
    report: Mapping[str, Any]


class LiveScreening:
    def __init__(
        self,
        verdicts: VerdictLog,
        settings: ScreeningSettings,
        *,
        options: LeaderboardOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verdicts = verdicts
        self.settings = settings
        self.version = screening_version(settings)
        self._options = replace(options or LeaderboardOptions(), style_control=False)
        self._clock = clock
        self._votes = _Screenable()
        self._refresh_seconds = 0.0  # refresh time since the last pass
        self._last_cost: float | None = None

    def due(self) -> bool:
        """Whether the refresh time since the last pass has earned another pass."""
        if self._last_cost is None:
            return True
        return self._refresh_seconds * self.settings.refresh_share >= self._last_cost

    def after_refresh(self, head: LogHead, refresh_seconds: float) -> PassOutcome | None:
        """The refresher's hook, after each refresh that stored its boards: count the
        refresh's time and run a pass over the log up to `head` when one is due. A failing
        pass is logged and costs its time like any pass; the boards are not affected."""
        self._refresh_seconds += refresh_seconds
        if not self.due():
            return None
        started = self._clock()
        try:
            return self.run(head)
        except Exception:
            logger.exception("vote screening failed at log position %d", head.position)
            self._passed(self._clock() - started)
            return None

    def close(self) -> None:
        """Nothing to stop: a pass runs only when called (`ScreeningProcess` has a child)."""

    def run(self, head: LogHead) -> PassOutcome:
        """Screen every screenable vote up to `head` and log the verdicts that change one."""
        started = self._clock()
        votes = self._votes
        if head.position > votes.read_up_to:
            votes.extend(
                (
                    self._verdicts.screenable_votes(after, min(after + READ_ENTRIES, head.position))
                    for after in range(votes.read_up_to, head.position, READ_ENTRIES)
                ),
                head.position,
            )
        uncounted, report = self._decide(head.position)
        in_force = self._verdicts.screened_out(head.position)
        flagged = {
            int(votes.position[row]): reason
            for row, reason in uncounted.items()
            if int(votes.position[row]) not in in_force
        }
        # Votes a verdict left uncounted that this pass no longer flags count again.
        held = np.array(sorted(in_force), dtype=np.int64)
        rows = np.minimum(np.searchsorted(votes.position, held), max(len(votes.position) - 1, 0))
        judged = votes.position[rows] == held if len(votes.position) else held < 0
        cleared = [
            int(votes.position[row]) for row in rows[judged].tolist() if row not in uncounted
        ]
        battles = self._verdicts.battle_ids([*flagged, *cleared])
        changes = [
            Verdict(position, battles[position], False, reason, explanation(reason))
            for position, reason in flagged.items()
        ] + [Verdict(position, battles[position], True, None) for position in cleared]
        changes.sort(key=lambda verdict: verdict.vote_position)
        appended = self._verdicts.append(changes, self.version)
        release_freed_memory()  # the pass's per-vote temporaries, until the next pass
        seconds = self._clock() - started
        report = {**report, "verdicts_appended": appended}
        self._verdicts.record_run(head.position, seconds, report)
        self._passed(seconds)
        logger.info(
            "screened %d votes up to log position %d in %.2f s: %d uncounted, %d verdicts",
            len(votes.position),
            head.position,
            seconds,
            len(uncounted),
            appended,
        )
        return PassOutcome(
            head.position,
            {int(votes.position[row]): reason for row, reason in uncounted.items()},
            appended,
            seconds,
            report,
        )

    def _passed(self, seconds: float) -> None:
        self._last_cost = seconds
        self._refresh_seconds = 0.0

    def _decide(self, position: int) -> tuple[dict[int, str], dict[str, Any]]:
        """Per battle kind: screen its votes; returns row -> reason for the flagged ones, and
        the report (counts per reason, model shifts, boards with and without screening)."""
        votes = self._votes
        uncounted: dict[int, str] = {}
        boards: dict[str, Any] = {}
        shifts: list[dict[str, Any]] = []
        by_reason: dict[str, int] = {}
        for code, category in enumerate(votes.categories.names):
            rows = np.flatnonzero(votes.category == code)
            if len(rows) == 0:
                continue
            result = screen(votes.table(rows), self.settings)
            flagged = np.flatnonzero(~result.counted)
            for row, reason in zip(
                rows[flagged].tolist(), result.reasons_at(flagged).tolist(), strict=True
            ):
                uncounted[row] = reason
            for reason, count in result.counts_by_reason().items():
                by_reason[reason] = by_reason.get(reason, 0) + count
            shifts += [
                {**_finite(asdict(shift)), "category": category} for shift in result.model_shifts
            ]
            boards[category] = self._boards(rows, result)
        report = {
            "screening": self.version,
            "votes_screened": len(votes.position),
            "uncounted_by_reason": {
                reason: by_reason[reason] for reason in REASONS if reason in by_reason
            },
            "reasons": {reason: REASONS[reason] for reason in by_reason},
            "model_shifts": shifts,
            "boards": boards,
            "head_position": position,
        }
        return uncounted, report

    def _boards(self, rows: NDArray[np.intp], result: ScreeningResult) -> dict[str, Any]:
        """The board of these votes with screening (the flagged ones left out) and without,
        side by side: each model's rating and rank in both and how many places screening
        moved it (positive: up)."""
        unscreened = self._leaderboard(rows)
        flagged = not result.counted.all()
        screened = self._leaderboard(rows[result.counted]) if flagged else unscreened
        models = sorted(
            set(screened) | set(unscreened),
            key=lambda model: (screened.get(model, (np.inf, 0.0))[0], model),
        )
        return {
            "votes_counted": int(result.counted.sum()),
            "votes_without_screening": len(rows),
            "rows": [
                {
                    "model": model,
                    "rank": screened[model][0] if model in screened else None,
                    "rating": screened[model][1] if model in screened else None,
                    "rank_without_screening": unscreened[model][0] if model in unscreened else None,
                    "rating_without_screening": unscreened[model][1]
                    if model in unscreened
                    else None,
                    "rank_change": unscreened[model][0] - screened[model][0]
                    if model in screened and model in unscreened
                    else None,
                }
                for model in models
            ],
        }

    def _leaderboard(self, rows: NDArray[np.intp]) -> dict[str, tuple[int, float]]:
        """Model -> (rank, rating) on the board of the votes at `rows`, computed as the
        live board computes it (from counts per pair and verdict, as `compute_leaderboard`
        would on a table of these votes); empty when they cannot be ranked yet."""
        votes = self._votes
        if len(rows) == 0:
            return {}
        names = votes.models.names
        order = sorted(range(len(names)), key=names.__getitem__)
        sorted_code = np.empty(len(names), dtype=np.intp)
        sorted_code[order] = np.arange(len(names))
        verdict = np.array([WINNERS.index(Winner(name)) for name in votes.winners.names])
        n, w = len(names), len(WINNERS)
        cells = (
            sorted_code[votes.model_a[rows]] * n + sorted_code[votes.model_b[rows]]
        ) * w + verdict[votes.winner[rows]]
        counts = np.bincount(cells, minlength=n * n * w).reshape(n, n, w)
        battles = CountedBattles(models=[names[index] for index in order], counts=counts)
        try:
            board = compute_leaderboard_from_counts(battles, self._options)
        except (RatingError, BattleDataError):
            return {}
        return {row.model: (row.rank, round(row.rating, 2)) for row in board.rows}


def _finite(values: Mapping[str, Any]) -> dict[str, Any]:
    """NaN (a count test has no z-score) as None, so the report stays valid JSON."""
    return {
        key: None if isinstance(value, float) and not np.isfinite(value) else value
        for key, value in values.items()
    }

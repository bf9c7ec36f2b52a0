"""Screening verdicts on earlier votes, chained into the vote log, and the screening passes.

A verdict never changes a vote's log entry: it is a new entry, appended to the same hash
chain (its position and `prev_hash` come from the one `vote_log_head` row that every vote
append locks), saying that from here on the vote at `vote_position` counts or not, and why.
The latest verdict on a vote decides; a vote without one keeps the decision it was accepted
with. Anyone replaying the published log applies the verdicts in order and gets the same
counted votes (arena/log_audit.py).

The `votes` table is the arena's working copy, not the record: in the verdict's transaction
its row takes the verdict's standing (`counted`, and the reason, readable, where it no longer
counts), so that everything reading it (the voter's reveal, the personal board, the vote
reasons, the shares per model and organization, `/integrity`'s uncounted votes) agrees with
the board. What a vote was accepted with stays in its log entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    String,
    Table,
    bindparam,
    cast,
    desc,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from glassarena.storage.battle_view import version_label
from glassarena.storage.database import Database
from glassarena.storage.schema import (
    ScreeningRun,
    Vote,
    VoteLogEntry,
    VoteLogHead,
    VoteVerdict,
    as_utc,
    utc_now,
)
from glassarena.storage.vote_chain import entry_hash, verdict_entry


def _table(mapped: type[Any]) -> Table:
    return mapped.__table__  # type: ignore[no-any-return]


_verdicts = _table(VoteVerdict)
_vote_log = _table(VoteLogEntry)
_head = _table(VoteLogHead)
_runs = _table(ScreeningRun)
_votes = _table(Vote)
# Taking the head row's lock before reading the verdicts in force: two screening passes
# racing (two workers) then see each other's verdicts and append no duplicates.
_LOCK_HEAD = update(_head).where(_head.c.id == 1).values(position=_head.c.position)
# The vote row of the log entry at a position takes a verdict's standing (see the module
# docstring).
_FOLLOW_VERDICT = (
    update(_votes)
    .where(
        _votes.c.id
        == select(_vote_log.c.vote_id)
        .where(_vote_log.c.position == bindparam("at_position"))
        .scalar_subquery()
    )
    .values(counted=bindparam("now_counted"), not_counted_reason=bindparam("now_reason"))
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """From now on, the vote logged at `vote_position` counts (or not, for `reason`)."""

    vote_position: int
    battle_public_id: str
    counted: bool
    reason: str | None  # a code, as logged
    # What the vote's row says from now on where it no longer counts (the voter reads it in
    # the reveal); the code where None.
    explanation: str | None = None


@dataclass(frozen=True, slots=True)
class VerdictEvent:
    """A logged verdict, as a reader replaying the log in order meets it."""

    position: int
    vote_position: int
    counted: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class ScreenableVotes:
    """Log entries screening may judge (two-model votes counted when they were accepted),
    column by column. Holds voter ids and IP hashes: never published."""

    position: list[int]
    category: list[str]
    model_a: list[str]
    model_b: list[str]
    winner: list[str]
    voter_id: list[str]
    ip_hash: list[str]
    voted_at: list[float]  # seconds since the epoch

    def __len__(self) -> int:
        return len(self.position)


def screened_out(connection: Connection, up_to: int) -> dict[int, str | None]:
    """Vote position -> reason, for every vote a verdict at or before `up_to` leaves
    uncounted (its latest verdict there says not counted)."""
    uncounted: dict[int, str | None] = {}
    for event in _events(connection, 0, up_to):
        if event.counted:
            uncounted.pop(event.vote_position, None)
        else:
            uncounted[event.vote_position] = event.reason
    return uncounted


def _events(connection: Connection, after: int, up_to: int) -> Iterator[VerdictEvent]:
    query = (
        select(_verdicts.c.position, _verdicts.c.vote_position, _verdicts.c.counted)
        .add_columns(_verdicts.c.reason)
        .where(_verdicts.c.position > after, _verdicts.c.position <= up_to)
        .order_by(_verdicts.c.position)
    )
    for row in connection.execute(query):
        yield VerdictEvent(row.position, row.vote_position, row.counted, row.reason)


class VerdictLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def events(self, after: int, up_to: int) -> list[VerdictEvent]:
        """The verdicts logged at positions after..up_to, in log order."""
        with self._database.engine.connect() as reader:
            return list(_events(reader, after, up_to))

    def screened_out(self, up_to: int) -> dict[int, str | None]:
        with self._database.engine.connect() as reader:
            return screened_out(reader, up_to)

    def screenable_votes(self, after: int, up_to: int) -> ScreenableVotes:
        """The votes logged at positions after..up_to that screening may judge, in log order."""
        log = _vote_log.c
        dialect = self._database.engine.dialect.name
        query = (
            select(
                log.position,
                log.category,
                log.model_a,
                log.model_a_version,
                log.model_b,
                log.model_b_version,
                log.winner,
                log.voter_id,
                log.ip_hash,
                _voted_at(log.created_at, dialect),
            )
            .where(
                log.position > after,
                log.position <= up_to,
                log.counted.is_(True),
                log.model_b.is_not(None),
            )
            .order_by(log.position)
        )
        with self._database.engine.connect() as reader:
            rows = reader.execute(query).all()
        if not rows:
            return ScreenableVotes([], [], [], [], [], [], [], [])
        (
            position,
            category,
            model_a,
            version_a,
            model_b,
            version_b,
            winner,
            voter,
            ip_hash,
            voted_at,
        ) = (list(column) for column in zip(*rows, strict=True))
        labels: dict[tuple[str, int], str] = {}

        def label(name: str, version: int) -> str:
            found = labels.get((name, version))
            if found is None:
                found = labels[(name, version)] = version_label(name, version)
            return found

        return ScreenableVotes(
            position=position,
            category=category,
            model_a=list(map(label, model_a, version_a)),
            model_b=list(map(label, model_b, version_b)),
            winner=winner,
            voter_id=voter,
            ip_hash=ip_hash,
            voted_at=_seconds(voted_at, dialect),
        )

    def battle_ids(self, positions: Sequence[int]) -> dict[int, str]:
        """The battle of each vote logged at these positions (for the verdicts on them:
        screening keeps no battle id per vote in memory)."""
        log = _vote_log.c
        found: dict[int, str] = {}
        with self._database.engine.connect() as reader:
            for start in range(0, len(positions), 10_000):
                query = select(log.position, log.battle_public_id).where(
                    log.position.in_(list(positions[start : start + 10_000]))
                )
                found.update((position, battle) for position, battle in reader.execute(query))
        return found

    def append(self, verdicts: Sequence[Verdict], screening: str) -> int:
        """Chain the verdicts that change a vote's standing (in the given order) onto the log,
        in one transaction; the others are already in force and are left out. Returns how
        many were appended."""
        if not verdicts:
            return 0
        with self._database.transaction() as connection:
            connection.execute(_LOCK_HEAD)
            head = connection.execute(select(_head.c.position)).scalar_one()
            in_force = screened_out(connection, head)
            changes = [
                verdict
                for verdict in verdicts
                if (verdict.vote_position in in_force) != (not verdict.counted)
            ]
            if changes:
                _append(connection, changes, screening, utc_now())
            return len(changes)

    def entries(self, up_to: int, batch: int = 1000) -> Iterator[VoteVerdict]:
        """Verdict entries at positions 1..`up_to` in order, read in batches."""
        return self._database.in_log_order(VoteVerdict, up_to, batch)

    def record_run(self, position: int, seconds: float, report: Mapping[str, Any]) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                insert(_runs).values(
                    position=position, seconds=seconds, report=dict(report), finished_at=utc_now()
                )
            )

    def latest_run(self) -> dict[str, Any] | None:
        """The newest pass: its report, with `position`, `seconds` and `finished_at`."""
        query = select(_runs).order_by(desc(_runs.c.id)).limit(1)
        with self._database.engine.connect() as reader:
            row = reader.execute(query).one_or_none()
        if row is None:
            return None
        return {
            **row.report,
            "position": row.position,
            "seconds": row.seconds,
            "finished_at": as_utc(row.finished_at).isoformat(),
        }


def _append(
    connection: Connection, verdicts: Sequence[Verdict], screening: str, decided_at: datetime
) -> None:
    """Claim len(verdicts) positions at once on the head row and chain the verdicts there."""
    claimed = connection.execute(
        update(_head)
        .where(_head.c.id == 1)
        .values(position=_head.c.position + len(verdicts))
        .returning(_head.c.position, _head.c.entry_hash)
    ).one()
    position = claimed.position - len(verdicts)
    previous = claimed.entry_hash
    rows = []
    for verdict in verdicts:
        position += 1
        entry = verdict_entry(
            position=position,
            prev_hash=previous,
            vote_position=verdict.vote_position,
            battle_id=verdict.battle_public_id,
            counted=verdict.counted,
            reason=verdict.reason,
            screening=screening,
            decided_at=decided_at,
        )
        digest = entry_hash(entry)
        rows.append(
            {
                "position": position,
                "prev_hash": previous,
                "entry_hash": digest,
                "vote_position": verdict.vote_position,
                "battle_public_id": verdict.battle_public_id,
                "counted": verdict.counted,
                "reason": verdict.reason,
                "screening_version": screening,
                "created_at": decided_at,
            }
        )
        previous = digest
    connection.execute(insert(_verdicts), rows)
    connection.execute(update(_head).where(_head.c.id == 1).values(entry_hash=previous))
    connection.execute(
        _FOLLOW_VERDICT,
        [
            {
                "at_position": verdict.vote_position,
                "now_counted": verdict.counted,
                "now_reason": None if verdict.counted else verdict.explanation or verdict.reason,
            }
            for verdict in verdicts
        ],
    )


def _voted_at(moment: ColumnElement[datetime], dialect: str) -> ColumnElement[Any]:
    """A UTC timestamp column as `_seconds` reads it: SQLite's own text (turning each row's
    text into a datetime in Python took a third of a first screening pass over the log),
    elsewhere seconds since the epoch computed by the database."""
    if dialect == "sqlite":
        return type_coerce(moment, String)
    return cast(func.extract("epoch", moment), Float)


def _seconds(values: list[Any], dialect: str) -> list[float]:
    if dialect != "sqlite":
        return values
    # ISO text to microseconds in one vectorised parse, exact to the microsecond.
    seconds: list[float] = (
        np.array(values, dtype="datetime64[us]").astype(np.int64) / 1e6
    ).tolist()
    return seconds

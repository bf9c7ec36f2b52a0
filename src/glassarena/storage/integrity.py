"""Reads and writes behind the integrity layer: who made each model version, how much it
battled and was voted on (in a time window), and its retirements."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    true,
    union_all,
    update,
)

from glassarena.storage.battle_view import version_label
from glassarena.storage.database import Database
from glassarena.storage.schema import (
    BattleRow,
    ModelVersion,
    Retirement,
    Vote,
    VoteLogHead,
    as_utc,
    utc_now,
)
from glassarena.vocabulary import BattleMode

# Declarative classes type their __table__ as a FromClause; these are Tables.
_battles: Table = BattleRow.__table__  # type: ignore[assignment]
_votes: Table = Vote.__table__  # type: ignore[assignment]
_versions: Table = ModelVersion.__table__  # type: ignore[assignment]
_retirements: Table = Retirement.__table__  # type: ignore[assignment]
_head: Table = VoteLogHead.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class VersionActivity:
    """One model version with its battles and counted votes (in a window, or all time)."""

    version_id: int
    name: str
    version: int
    organization: str
    family: str | None
    open_weights: bool | None
    created_at: datetime
    battles: int
    counted_votes: int
    first_battle_at: datetime | None
    last_vote_at: datetime | None

    @property
    def label(self) -> str:
        return version_label(self.name, self.version)


@dataclass(frozen=True, slots=True)
class RetirementRecord:
    version_id: int
    label: str
    organization: str
    rule: str
    detail: str
    votes: int
    retired_at: datetime
    reinstated_at: datetime | None


@dataclass(frozen=True, slots=True)
class RetirementDecision:
    version_id: int
    rule: str
    detail: str


def _without_detail(reason: str) -> str:
    return re.sub(r"\s*\([^()]*\)$", "", reason.strip())


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True, slots=True)
class ActivityWindow:
    """Which battles a `version_activity` reading counts: those since `since` (None: ever);
    with `sampled_only`, only the ones the sampling policy chose (anonymous ones)."""

    since: datetime | None = None
    sampled_only: bool = False


def _activity(windows: Sequence[ActivityWindow]) -> Subquery:
    """Per model version that battled, per window: battles, counted votes, first battle, last
    vote, as columns `battles_<i>`, `counted_votes_<i>`, `first_battle_at_<i>`,
    `last_vote_at_<i>`. One pass over the battles serves every window: on a big arena each pass
    costs seconds, and the integrity report asks for four (the retirement rules, at every
    start, for one).

    A battle counts for both of its models; a vote counts for both when it counts. The pass
    groups by the pair of models (each battle read once, joined once to its vote), and the
    pairs' sums (a few hundred rows) are then split into their two sides: reading every
    battle twice, once per side, took twice the time.
    """
    # Each measure per pair, with how the pairs' values merge into a model's.
    measures: list[tuple[ColumnElement[Any], Callable[..., ColumnElement[Any]]]] = []
    for index, window in enumerate(windows):
        conditions: list[ColumnElement[bool]] = []
        if window.sampled_only:
            conditions.append(_battles.c.mode == BattleMode.ANONYMOUS)
        if window.since is not None:
            conditions.append(_battles.c.created_at >= window.since)
        chosen = and_(true(), *conditions)
        measures += [
            (_counted(chosen).label(f"battles_{index}"), func.sum),
            (
                _counted(and_(chosen, _votes.c.counted.is_(True))).label(f"counted_votes_{index}"),
                func.sum,
            ),
            (
                func.min(case((chosen, _battles.c.created_at))).label(f"first_battle_at_{index}"),
                func.min,
            ),
            (
                func.max(case((chosen, _votes.c.created_at))).label(f"last_vote_at_{index}"),
                func.max,
            ),
        ]
    pairs = (
        select(_battles.c.model_a_id, _battles.c.model_b_id, *(pair for pair, _ in measures))
        .select_from(_battles)
        .outerjoin(_votes, _votes.c.battle_id == _battles.c.id)
        .group_by(_battles.c.model_a_id, _battles.c.model_b_id)
        .cte("pairs")  # read by both sides: computed once
    )
    sides = union_all(
        *(
            select(
                side.label("version_id"), *(pairs.c[measure.name] for measure, _ in measures)
            ).where(side.is_not(None))
            for side in (pairs.c.model_a_id, pairs.c.model_b_id)
        )
    ).subquery()
    columns: list[ColumnElement[Any]] = [
        sides.c.version_id,
        *(merge(sides.c[measure.name]).label(measure.name) for measure, merge in measures),
    ]
    return select(*columns).group_by(sides.c.version_id).subquery()


class IntegrityStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def uncounted_votes(self) -> dict[str, int]:
        """How many stored votes do not count, by their reason (the detail of a reason, in
        parentheses, such as which answer named which model, is left out of the grouping)."""
        query = (
            select(_votes.c.not_counted_reason, func.count())
            .where(_votes.c.counted.is_(False))
            .group_by(_votes.c.not_counted_reason)
        )
        by_reason: dict[str, int] = defaultdict(int)
        with self._database.engine.connect() as connection:
            for reason, count in connection.execute(query):
                by_reason[_without_detail(reason or "no reason recorded")] += count
        return dict(sorted(by_reason.items(), key=lambda item: (-item[1], item[0])))

    def version_activity(
        self, since: datetime | None = None, *, sampled_only: bool = False
    ) -> list[VersionActivity]:
        """Every model version with its battles and counted votes since `since` (None: ever);
        with `sampled_only`, only the battles the sampling policy chose (anonymous ones).
        """
        return self.version_activities([ActivityWindow(since, sampled_only)])[0]

    def version_activities(self, windows: Sequence[ActivityWindow]) -> list[list[VersionActivity]]:
        """`version_activity` for each of `windows`, read in one query."""
        activity = _activity(windows)
        query = select(
            _versions.c.id,
            _versions.c.name,
            _versions.c.version,
            _versions.c.organization,
            _versions.c.family,
            _versions.c.open_weights,
            _versions.c.created_at,
            *(
                column
                for index in range(len(windows))
                for column in (
                    func.coalesce(activity.c[f"battles_{index}"], 0).cast(Integer),
                    func.coalesce(activity.c[f"counted_votes_{index}"], 0).cast(Integer),
                    activity.c[f"first_battle_at_{index}"],
                    activity.c[f"last_vote_at_{index}"],
                )
            ),
        ).outerjoin(activity, activity.c.version_id == _versions.c.id)
        query = query.order_by(_versions.c.name, _versions.c.version)
        readings: list[list[VersionActivity]] = [[] for _ in windows]
        with self._database.engine.connect() as reader:
            for row in reader.execute(query):
                for index, reading in enumerate(readings):
                    battles, counted_votes, first_battle_at, last_vote_at = row[
                        7 + 4 * index : 11 + 4 * index
                    ]
                    reading.append(
                        VersionActivity(
                            version_id=row[0],
                            name=row[1],
                            version=row[2],
                            organization=row[3],
                            family=row[4],
                            open_weights=row[5],
                            created_at=as_utc(row[6]),
                            battles=int(battles),
                            counted_votes=int(counted_votes),
                            first_battle_at=_maybe_utc(first_battle_at),
                            last_vote_at=_maybe_utc(last_vote_at),
                        )
                    )
        return readings

    def version_ids(self) -> set[int]:
        """Every model version ever registered."""
        with self._database.engine.connect() as reader:
            return set(reader.execute(select(_versions.c.id)).scalars())

    def describe_versions(
        self, origins: Sequence[tuple[int, str, str | None, bool | None]]
    ) -> None:
        """Set (version id, organization, family, open_weights) as the config says now.

        Metadata, not settings: correcting who made a model does not make a new version.
        """
        if not origins:
            return
        statement = (
            update(_versions)
            .where(_versions.c.id == bindparam("version_id"))
            .values(
                organization=bindparam("new_organization"),
                family=bindparam("new_family"),
                open_weights=bindparam("new_open_weights"),
            )
        )
        with self._database.transaction() as connection:
            connection.execute(
                statement,
                [
                    {
                        "version_id": version_id,
                        "new_organization": organization,
                        "new_family": family,
                        "new_open_weights": open_weights,
                    }
                    for version_id, organization, family, open_weights in origins
                ],
            )

    def retirements(self) -> list[RetirementRecord]:
        """Every retirement ever decided, oldest first (reinstated ones say when)."""
        query = (
            select(
                _retirements.c.model_version_id,
                _versions.c.name,
                _versions.c.version,
                _versions.c.organization,
                _retirements.c.rule,
                _retirements.c.detail,
                _retirements.c.votes,
                _retirements.c.retired_at,
                _retirements.c.reinstated_at,
            )
            .join(_versions, _versions.c.id == _retirements.c.model_version_id)
            .order_by(_retirements.c.retired_at, _retirements.c.id)
        )
        with self._database.engine.connect() as reader:
            return [
                RetirementRecord(
                    version_id=row.model_version_id,
                    label=version_label(row.name, row.version),
                    organization=row.organization,
                    rule=row.rule,
                    detail=row.detail,
                    votes=row.votes,
                    retired_at=as_utc(row.retired_at),
                    reinstated_at=_maybe_utc(row.reinstated_at),
                )
                for row in reader.execute(query)
            ]

    def apply_retirements(
        self, retire: Sequence[RetirementDecision], reinstate: Sequence[int]
    ) -> None:
        """Record retirements and reinstatements, each at most once however many workers
        decide the same at startup: the transaction first takes the vote log's head lock
        (held by every vote, briefly), then re-reads which versions are retired."""
        now = utc_now()
        with self._database.transaction() as connection:
            connection.execute(update(_head).values(position=_head.c.position))
            active = set(
                connection.execute(
                    select(_retirements.c.model_version_id).where(
                        _retirements.c.reinstated_at.is_(None)
                    )
                ).scalars()
            )
            votes: dict[int, int] = {}
            if retire:  # a pass over every battle, inside the write lock: only when needed
                activity = _activity([ActivityWindow()])
                votes = {
                    row[0]: row[1]
                    for row in connection.execute(
                        select(activity.c.version_id, activity.c.counted_votes_0).where(
                            activity.c.version_id.in_([decision.version_id for decision in retire])
                        )
                    )
                }
            for decision in retire:
                if decision.version_id in active:
                    continue
                connection.execute(
                    insert(_retirements).values(
                        model_version_id=decision.version_id,
                        rule=decision.rule,
                        detail=decision.detail,
                        votes=int(votes.get(decision.version_id, 0)),
                        retired_at=now,
                    )
                )
                active.add(decision.version_id)
            back = [version_id for version_id in reinstate if version_id in active]
            if back:
                connection.execute(
                    update(_retirements)
                    .where(
                        _retirements.c.model_version_id.in_(back),
                        _retirements.c.reinstated_at.is_(None),
                    )
                    .values(reinstated_at=now)
                )


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None

"""WebDev apps and their execution checks, stored per battle, turn and side.

`AppCheckStore` writes one `app_checks` row per answer (a second write for the same answer is
ignored: the first check stands) and reads them back for the post-vote view, the export and
the leaderboard's "apps that run" column.

It also keeps the queue of checks still to run (`app_check_queue`), shared by every node on
the database: `enqueue` adds a finished answer, `claim` gives one to a node under a lease
(PostgreSQL skips rows another node has locked; on both engines the lease is taken by a
conditional UPDATE, so two nodes never hold one row), `renew` extends it while the check
runs, and `complete` stores the check and removes the row in one transaction. A row whose
lease expired (its node died) is claimed again by any node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Integer, cast, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from glassarena.storage.battle_view import version_label
from glassarena.storage.database import Database
from glassarena.storage.errors import storage_failures
from glassarena.storage.schema import (
    Answer,
    AppCheck,
    AppCheckJob,
    BattleRow,
    ModelVersion,
    Turn,
    utc_now,
)
from glassarena.vocabulary import WEBDEV_STACK_BOARDS, AnswerStatus, BattleKind, WebdevStack


class AnswerNotStored(LookupError):
    def __init__(self, battle_id: str, turn: int, side: str) -> None:
        super().__init__(f"battle {battle_id} turn {turn} side {side} has no stored answer")


@dataclass(frozen=True)
class StoredAppCheck:
    """One answer's app: found or why not, its code size, and what its check saw."""

    app_found: bool
    truncated: bool
    note: str | None
    lines_of_code: int
    code_blocks: int
    checked: bool
    loaded: bool
    rendered: bool
    runs: bool
    load_ms: float | None
    uncaught_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failure: str | None = None
    has_screenshot: bool = False
    stack: str | None = None  # the WebdevStack the app is written in; None: no app found

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _RECORD_FIELDS}


_RECORD_FIELDS = (
    "app_found",
    "truncated",
    "note",
    "lines_of_code",
    "code_blocks",
    "checked",
    "loaded",
    "rendered",
    "runs",
    "load_ms",
    "uncaught_errors",
    "console_errors",
    "failure",
    "stack",
)
_COLUMNS = [getattr(AppCheck, name) for name in _RECORD_FIELDS]
_HAS_SCREENSHOT = AppCheck.screenshot_png.is_not(None).label("has_screenshot")


@dataclass(frozen=True)
class SideHistory:
    """What one side of a WebDev battle was asked (None: before stacks existed, HTML) and
    answered in the turns before the one being checked."""

    stack: WebdevStack | None
    earlier_answers: list[str]


@dataclass(frozen=True)
class ClaimedCheck:
    """A queued check this node holds the lease of; `attempts` counts this one."""

    job_id: int
    battle_id: str
    turn: int
    side: str
    text: str
    attempts: int


@dataclass(frozen=True)
class ModelRunCount:
    """Of `answers` WebDev answers by `model` with a stored check, `runs` ran."""

    model: str
    answers: int
    runs: int


def _answer_id(battle_id: str, turn: int, side: str) -> Any:
    return (
        select(Answer.id)
        .join(Turn, Answer.turn_id == Turn.id)
        .join(BattleRow, Turn.battle_id == BattleRow.id)
        .where(BattleRow.public_id == battle_id, Turn.number == turn, Answer.side == side)
        .scalar_subquery()
    )


class AppCheckStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    # -- the queue shared by every node -----------------------------------------------------

    @storage_failures
    def enqueue(self, battle_id: str, turn: int, side: str) -> bool:
        """Queue the answer's check; False when it is queued or stored already."""
        answer_id = _answer_id(battle_id, turn, side)
        try:
            with self._database.transaction() as connection:
                if connection.execute(select(answer_id)).scalar() is None:
                    raise AnswerNotStored(battle_id, turn, side)
                checked = select(exists().where(AppCheck.answer_id == answer_id))
                if connection.execute(checked).scalar():
                    return False
                connection.execute(
                    insert(AppCheckJob).values(answer_id=answer_id, queued_at=utc_now(), attempts=0)
                )
        except IntegrityError:
            return False
        return True

    @storage_failures
    def enqueue_unchecked(
        self, category: str = BattleKind.WEBDEV.category, limit: int = 1000
    ) -> int:
        """Queue finished answers that have neither a stored check nor a queued one (their
        node stopped before queueing them); how many."""
        unqueued = (
            select(Answer.id)
            .join(Turn, Answer.turn_id == Turn.id)
            .join(BattleRow, Turn.battle_id == BattleRow.id)
            .outerjoin(AppCheck, AppCheck.answer_id == Answer.id)
            .outerjoin(AppCheckJob, AppCheckJob.answer_id == Answer.id)
            .where(
                BattleRow.category == category,
                Answer.status == AnswerStatus.DONE,
                AppCheck.id.is_(None),
                AppCheckJob.id.is_(None),
            )
            .order_by(Answer.id)
            .limit(limit)
        )
        queued = 0
        with self._database.engine.connect() as connection:
            answer_ids = connection.execute(unqueued).scalars().all()
        for answer_id in answer_ids:
            # One row per transaction: another node queueing the same answers at the same
            # time costs a skipped row, not the whole batch.
            try:
                with self._database.transaction() as connection:
                    connection.execute(
                        insert(AppCheckJob).values(
                            answer_id=answer_id, queued_at=utc_now(), attempts=0
                        )
                    )
                queued += 1
            except IntegrityError:
                continue
        return queued

    @storage_failures
    def claim(self, owner: str, lease_seconds: float) -> ClaimedCheck | None:
        """The oldest queued check nobody holds, leased to `owner`; None when there is none."""
        for _ in range(5):
            now = utc_now()
            free = or_(AppCheckJob.lease_until.is_(None), AppCheckJob.lease_until < now)
            with self._database.transaction() as connection:
                job_id = connection.execute(
                    select(AppCheckJob.id)
                    .where(free)
                    .order_by(AppCheckJob.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).scalar()
                if job_id is None:
                    return None
                taken = connection.execute(
                    update(AppCheckJob)
                    .where(AppCheckJob.id == job_id, free)
                    .values(
                        lease_owner=owner,
                        lease_until=now + timedelta(seconds=lease_seconds),
                        attempts=AppCheckJob.attempts + 1,
                    )
                )
                if taken.rowcount == 1:
                    return _claimed(connection, job_id)
            # Another node (SQLite has no row locks to skip) took it first: try the next.
        return None

    @storage_failures
    def renew(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease; False when it is no longer theirs (it expired and another
        node took the check)."""
        with self._database.transaction() as connection:
            renewed = connection.execute(
                update(AppCheckJob)
                .where(AppCheckJob.id == job_id, AppCheckJob.lease_owner == owner)
                .values(lease_until=utc_now() + timedelta(seconds=lease_seconds))
            )
            return bool(renewed.rowcount == 1)

    @storage_failures
    def complete(
        self,
        claimed: ClaimedCheck,
        check: StoredAppCheck,
        screenshot_png: bytes | None,
    ) -> bool:
        """Store the check and take it off the queue, in one transaction; False when the
        answer had a stored check already (the first stands)."""
        answer_id = _answer_id(claimed.battle_id, claimed.turn, claimed.side)
        values = {name: getattr(check, name) for name in _RECORD_FIELDS}
        unqueue = delete(AppCheckJob).where(AppCheckJob.id == claimed.job_id)
        try:
            with self._database.transaction() as connection:
                connection.execute(unqueue)
                connection.execute(
                    insert(AppCheck).values(
                        answer_id=answer_id, screenshot_png=screenshot_png, **values
                    )
                )
        except IntegrityError:
            # Stored meanwhile by a node that held an expired lease of ours: the first stands.
            with self._database.transaction() as connection:
                connection.execute(unqueue)
            return False
        return True

    @storage_failures
    def queued(self) -> int:
        """Checks queued and not stored yet (held or not)."""
        with self._database.engine.connect() as connection:
            return int(connection.execute(select(func.count(AppCheckJob.id))).scalar_one())

    # -- stored checks ------------------------------------------------------------------------

    @storage_failures
    def save(
        self,
        battle_id: str,
        turn: int,
        side: str,
        check: StoredAppCheck,
        screenshot_png: bytes | None,
    ) -> bool:
        """Store the check; False when this answer already has one (it is kept)."""
        answer_id = (
            select(Answer.id)
            .join(Turn, Answer.turn_id == Turn.id)
            .join(BattleRow, Turn.battle_id == BattleRow.id)
            .where(BattleRow.public_id == battle_id, Turn.number == turn, Answer.side == side)
            .scalar_subquery()
        )
        values = {name: getattr(check, name) for name in _RECORD_FIELDS}
        with self._database.engine.connect() as connection:
            if connection.execute(select(answer_id)).scalar() is None:
                raise AnswerNotStored(battle_id, turn, side)
        try:
            with self._database.transaction() as connection:
                connection.execute(
                    insert(AppCheck).values(
                        answer_id=answer_id, screenshot_png=screenshot_png, **values
                    )
                )
        except IntegrityError:
            return False
        return True

    @storage_failures
    def for_battle(self, battle_id: str) -> dict[tuple[int, str], StoredAppCheck]:
        """The battle's stored checks by (turn, side), without screenshots."""
        query = (
            select(Turn.number, Answer.side, *_COLUMNS, _HAS_SCREENSHOT)
            .join(Answer, AppCheck.answer_id == Answer.id)
            .join(Turn, Answer.turn_id == Turn.id)
            .join(BattleRow, Turn.battle_id == BattleRow.id)
            .where(BattleRow.public_id == battle_id)
        )
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {(row[0], row[1]): _record(row[2:]) for row in rows}

    @storage_failures
    def all_checks(self) -> dict[tuple[str, int, str], StoredAppCheck]:
        """Every stored check by (battle id, turn, side), without screenshots, for the export."""
        query = (
            select(BattleRow.public_id, Turn.number, Answer.side, *_COLUMNS, _HAS_SCREENSHOT)
            .join(Answer, AppCheck.answer_id == Answer.id)
            .join(Turn, Answer.turn_id == Turn.id)
            .join(BattleRow, Turn.battle_id == BattleRow.id)
        )
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {(row[0], row[1], row[2]): _record(row[3:]) for row in rows}

    @storage_failures
    def screenshot(self, battle_id: str, turn: int, side: str) -> bytes | None:
        query = (
            select(AppCheck.screenshot_png)
            .join(Answer, AppCheck.answer_id == Answer.id)
            .join(Turn, Answer.turn_id == Turn.id)
            .join(BattleRow, Turn.battle_id == BattleRow.id)
            .where(BattleRow.public_id == battle_id, Turn.number == turn, Answer.side == side)
        )
        with self._database.engine.connect() as connection:
            return connection.execute(query).scalar()

    @storage_failures
    def side_history(self, battle_id: str, turn: int, side: str) -> SideHistory:
        """The stack `battle_id` asked for and `side`'s answers before `turn`, oldest first:
        what a turn's app is an edit of."""
        with self._database.engine.connect() as connection:
            stack = connection.execute(
                select(BattleRow.webdev_stack).where(BattleRow.public_id == battle_id)
            ).scalar()
            earlier = connection.execute(
                select(Answer.text)
                .join(Turn, Answer.turn_id == Turn.id)
                .join(BattleRow, Turn.battle_id == BattleRow.id)
                .where(
                    BattleRow.public_id == battle_id,
                    Answer.side == side,
                    Turn.number < turn,
                )
                .order_by(Turn.number)
            ).scalars()
            answers = [text or "" for text in earlier]
        return SideHistory(WebdevStack(stack) if stack is not None else None, answers)

    @storage_failures
    def run_counts(self, category: str = BattleKind.WEBDEV.category) -> list[ModelRunCount]:
        """Per model version, answers with a stored check and how many ran, in `category`.

        An answer without an app counts as not run; an app the checker never got to (no
        Chromium, queue full) is left out, since nothing is known about it. A stack's board
        (`WEBDEV_STACK_BOARDS`) counts the WebDev battles asked in that stack.
        """
        counted = AppCheck.checked | ~AppCheck.app_found
        stack = WEBDEV_STACK_BOARDS.get(category)
        in_category = (
            (BattleRow.category == BattleKind.WEBDEV.category)
            & (BattleRow.webdev_stack == stack.value)
            if stack is not None
            else BattleRow.category == category
        )
        runs = func.sum(cast(AppCheck.runs, Integer))
        side_model = (
            select(
                ModelVersion.name,
                ModelVersion.version,
                func.count(AppCheck.id),
                func.coalesce(runs, 0),
            )
            .select_from(AppCheck)
            .join(Answer, AppCheck.answer_id == Answer.id)
            .join(Turn, Answer.turn_id == Turn.id)
            .join(BattleRow, Turn.battle_id == BattleRow.id)
            .where(in_category, counted)
        )
        on_a = side_model.join(ModelVersion, BattleRow.model_a_id == ModelVersion.id).where(
            Answer.side == "a"
        )
        on_b = side_model.join(ModelVersion, BattleRow.model_b_id == ModelVersion.id).where(
            Answer.side == "b"
        )
        totals: dict[str, list[int]] = {}
        with self._database.engine.connect() as connection:
            for query in (on_a, on_b):
                grouped = query.group_by(ModelVersion.name, ModelVersion.version)
                for name, version, answers, ran in connection.execute(grouped):
                    total = totals.setdefault(version_label(name, version), [0, 0])
                    total[0] += answers
                    total[1] += int(ran)
        return [ModelRunCount(model, answers, ran) for model, (answers, ran) in totals.items()]


def _claimed(connection: Connection, job_id: int) -> ClaimedCheck:
    row = connection.execute(
        select(
            AppCheckJob.id,
            BattleRow.public_id,
            Turn.number,
            Answer.side,
            Answer.text,
            AppCheckJob.attempts,
        )
        .join(Answer, AppCheckJob.answer_id == Answer.id)
        .join(Turn, Answer.turn_id == Turn.id)
        .join(BattleRow, Turn.battle_id == BattleRow.id)
        .where(AppCheckJob.id == job_id)
    ).one()
    return ClaimedCheck(*row)


def _record(values: Any) -> StoredAppCheck:
    return StoredAppCheck(**dict(zip((*_RECORD_FIELDS, "has_screenshot"), values, strict=True)))

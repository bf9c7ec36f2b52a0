"""Reads and writes of the arena's records; every write commits before it returns.

The service only acknowledges something to a user after the call that stores it returned, so
nothing acknowledged can be lost (SQLite in WAL mode and PostgreSQL both make a commit durable
against the process being killed).

Reads hand out the immutable read model of `storage/battle_view.py`, never ORM objects. Any
failure of the database itself is raised as `StorageFailure` (a StorageError): callers never
see SQLAlchemy's exceptions.

The hot paths (creating a battle, finishing an answer, reading a battle, voting) are a few
SQLAlchemy Core statements in one short transaction; model versions never change, so their
identities are cached after the first read.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Row,
    ScalarSelect,
    Select,
    Table,
    bindparam,
    func,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from glassarena.storage.battle_view import (
    AnswerView,
    BattleView,
    ModelIdentity,
    TurnView,
    VoteView,
    version_label,
)
from glassarena.storage.board_snapshots import StoredBoard, read_boards, write_boards
from glassarena.storage.database import Database
from glassarena.storage.errors import storage_failures
from glassarena.storage.schema import (
    Answer,
    ArenaInstance,
    BattleRow,
    ModelVersion,
    Turn,
    Vote,
    VoteLogEntry,
    VoteLogHead,
    as_utc,
    utc_now,
)
from glassarena.storage.verdict_log import screened_out
from glassarena.storage.vote_chain import chain_entry, entry_hash
from glassarena.storage.vote_columns import (
    StoredSegment,
    VoteColumns,
    read_segments,
    read_vote_columns,
    write_segment,
)
from glassarena.vocabulary import (
    SIDES,
    AnswerStatus,
    BattleKind,
    BattleMode,
    BattleStatus,
    WebdevStack,
    Winner,
)

# The open transaction a vote is being stored in; the vote log appends to it.
VoteTransaction = Connection


class DuplicateVoteError(Exception):
    """The battle already has a vote (the unique constraint said so)."""


class BattleStateConflict(Exception):
    """The battle was not in the state a change needs; `status` is the one it was in."""

    def __init__(self, public_id: str, status: BattleStatus | None) -> None:
        super().__init__(f"battle {public_id} is {status or 'missing'}")
        self.status = status


@dataclass(frozen=True, slots=True)
class AnswerResult:
    text: str
    status: AnswerStatus  # done | failed
    failure_kind: str | None = None
    failure_reason: str | None = None
    first_token_seconds: float | None = None
    total_seconds: float | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    style: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CountedVote:
    """One counted vote with everything the leaderboard needs, from one SQL query."""

    model_a: str
    model_b: str
    winner: str
    category: str
    style_a: Mapping[str, Any] | None
    style_b: Mapping[str, Any] | None
    voted_at: datetime
    prompt_categories: Mapping[str, Any] | None = None  # an LMArena category_tag
    webdev_stack: str | None = None  # a WebdevStack; None outside WebDev and before 0010


@dataclass(frozen=True, slots=True)
class LogHead:
    """The vote log's newest entry: how many entries it has and the last one's hash."""

    position: int
    entry_hash: str


@dataclass(frozen=True, slots=True)
class LoggedVote:
    """A vote as the vote log records it, naming the exact model versions."""

    vote_id: int
    battle_public_id: str
    category: str
    model_a: ModelIdentity
    model_b: ModelIdentity | None
    winner: Winner
    counted: bool
    voter_id: str
    ip_hash: str
    created_at: datetime
    # The log's head when the vote was stored (read, and locked, by the vote's own INSERT):
    # the entry this vote's is chained onto.
    log_head: LogHead
    not_counted_reason: str | None = None
    style_a: Mapping[str, Any] | None = None
    style_b: Mapping[str, Any] | None = None
    prompt_categories: Mapping[str, Any] | None = None
    webdev_stack: str | None = None


def _table(mapped: type[Any]) -> Table:
    return mapped.__table__  # type: ignore[no-any-return]


# The hot paths' statements are built once: building one per call (coercing every value)
# cost more than executing it.
_battles = _table(BattleRow)
_turns = _table(Turn)
_answers = _table(Answer)
_votes = _table(Vote)
_model_versions = _table(ModelVersion)
INSERT_BATTLE = insert(_battles).returning(_battles.c.id)
INSERT_TURN = insert(_turns).returning(_turns.c.id)
INSERT_ANSWER = insert(_answers)
FINISH_ANSWER = update(_answers).where(
    _answers.c.turn_id
    == (
        select(_turns.c.id)
        .join(_battles, _turns.c.battle_id == _battles.c.id)
        .where(
            _battles.c.public_id == bindparam("battle_public_id"),
            _turns.c.number == bindparam("turn_number"),
        )
        .scalar_subquery()
    ),
    _answers.c.side == bindparam("answer_side"),
)
CLOSE_FOR_VOTE = (
    update(_battles)
    .where(
        _battles.c.public_id == bindparam("battle_public_id"),
        _battles.c.status == BattleStatus.COMPLETE,
    )
    .values(status=BattleStatus.VOTED, updated_at=bindparam("voted_at"))
    .returning(
        _battles.c.id,
        _battles.c.category,
        _battles.c.model_a_id,
        _battles.c.model_b_id,
        _battles.c.style_a,
        _battles.c.style_b,
        _battles.c.prompt_categories,
        _battles.c.webdev_stack,
    )
)
BATTLE_STATUS = select(_battles.c.status).where(_battles.c.public_id == bindparam("public_id"))
_vote_log = _table(VoteLogEntry)
_vote_log_head = _table(VoteLogHead)


def _log_head(column: ColumnElement[Any]) -> ColumnElement[Any]:
    # FOR UPDATE (PostgreSQL; SQLite holds the database's write lock since the vote's first
    # UPDATE): a second writer waits here until the first commits, then reads the head that
    # one left, so two votes can never be chained onto the same entry.
    return select(column).where(_vote_log_head.c.id == 1).with_for_update().scalar_subquery()


# The vote's own INSERT reads the vote log's head: the entry it is chained onto.
INSERT_VOTE = insert(_votes).returning(
    _votes.c.id,
    _log_head(_vote_log_head.c.position).label("log_position"),
    _log_head(_vote_log_head.c.entry_hash).label("log_hash"),
)


def _battle_json(column: ColumnElement[Any]) -> ScalarSelect[Any]:
    return select(column).where(_battles.c.public_id == bindparam("voted_battle")).scalar_subquery()


# Its triggers (migration 0008) refuse an entry that does not extend the head, and move the
# head onto the entry: one statement appends. The battle's JSON columns (a kilobyte a vote) are
# copied in SQL, as stored: encoding them again in Python was a third of the append's time.
INSERT_VOTE_LOG_ENTRY = insert(_vote_log).values(
    style_a=_battle_json(_battles.c.style_a),
    style_b=_battle_json(_battles.c.style_b),
    prompt_categories=_battle_json(_battles.c.prompt_categories),
)
LOG_HEAD = select(_vote_log_head.c.position, _vote_log_head.c.entry_hash).where(
    _vote_log_head.c.id == 1
)
MODEL_IDENTITY = select(
    _model_versions.c.id,
    _model_versions.c.name,
    _model_versions.c.version,
    _model_versions.c.provider_kind,
    _model_versions.c.organization,
).where(_model_versions.c.id == bindparam("version_id"))


def _battle_rows(texts: bool, turns: bool = True) -> Select[Any]:
    """A battle with its turns, answers and vote: one row per answer (one row with NULL turn
    and answer columns for a battle without turns), to be ordered by battle, turn and side.

    Without texts, the prompts, answers and style metadata are selected as NULL: the vote
    path needs none of them, and decoding them was most of its read's time. Without turns,
    the turns and answers are not joined (one row, read as a battle without turns): a vote
    needs them only to reveal the answers' timings.
    """

    def text(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        return column.label(name) if texts else null().label(name)

    def of_turn(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        return column.label(name) if turns else null().label(name)

    def turn_text(column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        return column.label(name) if texts and turns else null().label(name)

    rows = select(
        _battles.c.id,
        _battles.c.public_id,
        _battles.c.voter_id,
        _battles.c.mode,
        _battles.c.kind,
        _battles.c.category,
        _battles.c.status,
        _battles.c.failure_reason,
        _battles.c.model_a_id,
        _battles.c.model_b_id,
        text(_battles.c.style_a, "style_a"),
        text(_battles.c.style_b, "style_b"),
        text(_battles.c.prompt_categories, "prompt_categories"),
        _battles.c.webdev_stack,
        _battles.c.identity_verdict,
        _battles.c.recorded_prompt_id,
        _battles.c.updated_at,
        of_turn(_turns.c.number, "turn_number"),
        turn_text(_turns.c.prompt, "prompt"),
        of_turn(_answers.c.side, "side"),
        of_turn(_answers.c.status, "answer_status"),
        turn_text(_answers.c.text, "text"),
        of_turn(_answers.c.failure_kind, "failure_kind"),
        of_turn(_answers.c.failure_reason, "answer_failure_reason"),
        of_turn(_answers.c.first_token_seconds, "first_token_seconds"),
        of_turn(_answers.c.total_seconds, "total_seconds"),
        of_turn(_answers.c.completion_tokens, "completion_tokens"),
        of_turn(_answers.c.finish_reason, "finish_reason"),
        turn_text(_answers.c.style, "style"),
        _votes.c.winner,
        _votes.c.counted,
        _votes.c.voter_id.label("vote_voter_id"),
        _votes.c.created_at.label("voted_at"),
        _votes.c.not_counted_reason,
    )
    battle: FromClause = _battles
    if turns:
        battle = battle.outerjoin(_turns, _turns.c.battle_id == _battles.c.id).outerjoin(
            _answers, _answers.c.turn_id == _turns.c.id
        )
    return rows.select_from(battle.outerjoin(_votes, _votes.c.battle_id == _battles.c.id))


def _one_battle(texts: bool, turns: bool) -> Select[Any]:
    query = _battle_rows(texts, turns).where(_battles.c.public_id == bindparam("public_id"))
    return query.order_by(_turns.c.number, _answers.c.side) if turns else query


_BATTLE_ROWS = _battle_rows(texts=True)
# One battle by its public id, by (with its texts, with its turns).
BATTLE_VIEW = {
    (texts, turns): _one_battle(texts, turns) for texts in (True, False) for turns in (True, False)
}


class ArenaRepository:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._identities: dict[int, ModelIdentity] = {}

    @property
    def database(self) -> Database:
        return self._database

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._database.sessions() as session:
            yield session

    @contextmanager
    def _writing_session(self) -> Iterator[Session]:
        with self._database.write_lock, self._database.sessions() as session:
            yield session

    @storage_failures
    def instance_id(self) -> str:
        """The random id this database was created with."""
        with self._session() as session:
            return session.scalars(select(ArenaInstance.id)).one()

    # -- model versions -------------------------------------------------------------------

    @storage_failures
    def ensure_version(
        self, name: str, provider_kind: str, settings: Mapping[str, Any], fingerprint: str
    ) -> ModelIdentity:
        """The version for these exact settings, created (as the next number) if new.

        Existing rows are never changed: votes stay attached to the settings they were cast on.
        Two workers registering the same new version at once both end up with the same row.
        """
        for _attempt in range(3):
            with self._writing_session() as session:
                existing = session.scalar(
                    select(ModelVersion).where(
                        ModelVersion.name == name,
                        ModelVersion.settings_fingerprint == fingerprint,
                    )
                )
                if existing is not None:
                    return _identity(existing)
                latest = session.scalar(
                    select(func.max(ModelVersion.version)).where(ModelVersion.name == name)
                )
                version = ModelVersion(
                    name=name,
                    version=(latest or 0) + 1,
                    provider_kind=provider_kind,
                    settings=dict(settings),
                    settings_fingerprint=fingerprint,
                )
                session.add(version)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue
                return _identity(version)
        raise RuntimeError(f"could not register a version of model {name!r}: constant conflicts")

    def _model_identity(self, version_id: int, connection: Connection) -> ModelIdentity:
        """The name, number and provider of a model version (read once, then cached)."""
        identity = self._identities.get(version_id)
        if identity is None:
            row = connection.execute(MODEL_IDENTITY, {"version_id": version_id}).one()
            identity = ModelIdentity(*row)
            self._identities[version_id] = identity
        return identity

    @storage_failures
    def versions(self, name: str) -> list[ModelIdentity]:
        with self._session() as session:
            return [
                _identity(version)
                for version in session.scalars(
                    select(ModelVersion)
                    .where(ModelVersion.name == name)
                    .order_by(ModelVersion.version)
                )
            ]

    # -- battles and turns ----------------------------------------------------------------

    @storage_failures
    def create_battle(
        self,
        *,
        public_id: str,
        mode: BattleMode,
        kind: BattleKind,
        category: str,
        model_a_id: int,
        model_b_id: int | None,
        voter_id: str,
        ip_hash: str,
        prompt: str,
        recorded_prompt_id: str | None = None,
        prompt_categories: Mapping[str, Any] | None = None,
        webdev_stack: WebdevStack | None = None,
    ) -> None:
        sides = SIDES[: 1 + (model_b_id is not None)]
        now = utc_now()
        with self._database.transaction() as connection:
            battle_id = connection.execute(
                INSERT_BATTLE,
                {
                    "public_id": public_id,
                    "mode": mode,
                    "kind": kind,
                    "category": category,
                    "model_a_id": model_a_id,
                    "model_b_id": model_b_id,
                    "status": BattleStatus.GENERATING,
                    "voter_id": voter_id,
                    "ip_hash": ip_hash,
                    "recorded_prompt_id": recorded_prompt_id,
                    "prompt_categories": (
                        dict(prompt_categories) if prompt_categories is not None else None
                    ),
                    "webdev_stack": webdev_stack,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            turn_id = connection.execute(
                INSERT_TURN,
                {"battle_id": battle_id, "number": 1, "prompt": prompt, "created_at": now},
            ).scalar_one()
            connection.execute(
                INSERT_ANSWER,
                [
                    {
                        "turn_id": turn_id,
                        "side": side,
                        "text": "",
                        "status": AnswerStatus.GENERATING,
                    }
                    for side in sides
                ],
            )

    @storage_failures
    def add_turn(
        self,
        public_id: str,
        number: int,
        prompt: str,
        retag: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """Open turn `number` of a complete battle; BattleStateConflict if it is not complete
        (voted, failed, or another request opened the turn first).

        `retag` gives the battle's new prompt categories from its stored ones (a follow-up
        makes it multi-turn), in the same transaction as the turn.
        """
        with self._writing_session() as session:
            _transition(session, public_id, BattleStatus.COMPLETE, BattleStatus.GENERATING)
            battle = _battle_row(session, public_id)
            sides = SIDES[: 1 + (battle.model_b_id is not None)]
            battle.turns.append(_new_turn(number, prompt, sides))
            if retag is not None and battle.prompt_categories is not None:
                battle.prompt_categories = retag(battle.prompt_categories)
            battle.identity_verdict = None  # it judged fewer turns; the new one is judged anew
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise BattleStateConflict(public_id, BattleStatus.GENERATING) from None

    @storage_failures
    def replace_prompt_categories(
        self,
        public_id: str,
        tag: Mapping[str, Any],
        retag: Callable[[Mapping[str, Any]], dict[str, Any]],
    ) -> bool:
        """Put a later classifier's `tag` on a battle not yet voted on; False if it was.

        A vote's log entry keeps the tag the battle had when it was voted on, so a voted
        battle's tag never changes. `retag` is applied when the battle already has a
        follow-up (as `add_turn` applies it). The row is locked first, so a vote or a
        follow-up racing with this sees either the old tag or the new one, never a mix.
        """
        with self._writing_session() as session:
            battle = session.scalars(
                select(BattleRow).where(BattleRow.public_id == public_id).with_for_update()
            ).one_or_none()
            if battle is None or battle.status == BattleStatus.VOTED:
                session.rollback()
                return False
            battle.prompt_categories = retag(tag) if len(battle.turns) > 1 else dict(tag)
            session.commit()
            return True

    @storage_failures
    def finish_answer(self, public_id: str, number: int, side: str, result: AnswerResult) -> None:
        with self._database.transaction() as connection:
            stored = connection.execute(
                FINISH_ANSWER,
                {
                    "battle_public_id": public_id,
                    "turn_number": number,
                    "answer_side": side,
                    "text": result.text,
                    "status": result.status,
                    "failure_kind": result.failure_kind,
                    "failure_reason": result.failure_reason,
                    "first_token_seconds": result.first_token_seconds,
                    "total_seconds": result.total_seconds,
                    "completion_tokens": result.completion_tokens,
                    "finish_reason": result.finish_reason,
                    "style": dict(result.style) if result.style is not None else None,
                },
            )
            if stored.rowcount != 1:
                raise LookupError(f"battle {public_id} has no turn {number} side {side} answer")

    @storage_failures
    def finish_turn(
        self,
        public_id: str,
        *,
        failure_reason: str | None,
        style_a: Mapping[str, Any] | None,
        style_b: Mapping[str, Any] | None,
        identity_verdict: Mapping[str, Any] | None = None,
    ) -> None:
        """Close the turn being generated (a battle already failed as abandoned stays so),
        storing the identity-leak guard's verdict over all its turns where one was judged."""
        with self._writing_session() as session:
            session.execute(
                update(BattleRow)
                .where(
                    BattleRow.public_id == public_id, BattleRow.status == BattleStatus.GENERATING
                )
                .values(
                    status=BattleStatus.FAILED if failure_reason else BattleStatus.COMPLETE,
                    failure_reason=failure_reason,
                    style_a=dict(style_a) if style_a is not None else None,
                    style_b=dict(style_b) if style_b is not None else None,
                    identity_verdict=dict(identity_verdict)
                    if identity_verdict is not None
                    else None,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()

    @storage_failures
    def fail_abandoned(self, public_id: str, reason: str) -> None:
        """Mark a battle whose generating process went away as failed, answers included."""
        with self._writing_session() as session:
            try:
                _transition(session, public_id, BattleStatus.GENERATING, BattleStatus.FAILED)
            except BattleStateConflict:
                return  # finished meanwhile, or already failed
            battle = _battle_row(session, public_id)
            battle.failure_reason = reason
            for turn in battle.turns:
                for answer in turn.answers:
                    if answer.status == AnswerStatus.GENERATING:
                        answer.status = AnswerStatus.FAILED
                        answer.failure_kind = "dropped"
                        answer.failure_reason = reason
            session.commit()

    @storage_failures
    def battle(
        self, public_id: str, *, texts: bool = True, turns: bool = True
    ) -> BattleView | None:
        """The battle with its models, turns, answers and vote, in one query.

        `texts=False` leaves out the prompts, answers and style metadata (they read as None):
        what deciding on a vote and revealing the models needs, at a third less cost.
        `turns=False` also leaves out the turns and answers (the view has none): what a vote
        needs when the reveal shows no timings.
        """
        with self._database.engine.connect() as connection:
            query = BATTLE_VIEW[texts, turns]
            rows = connection.execute(query, {"public_id": public_id}).all()
            return self._view(rows, connection) if rows else None

    # -- votes ----------------------------------------------------------------------------

    @storage_failures
    def record_vote(
        self,
        public_id: str,
        *,
        winner: Winner,
        voter_id: str,
        ip_hash: str,
        counted: bool,
        not_counted_reason: str | None,
        log: Callable[[VoteTransaction, LoggedVote], None],
    ) -> LoggedVote:
        """Store the vote, close the battle and append to the vote log in one transaction.

        The battle moves from complete to voted with a conditional UPDATE, so of two racing
        votes one fails here (BattleStateConflict); the votes table's unique battle_id is the
        second guard (DuplicateVoteError).
        """
        voted_at = utc_now()
        try:
            with self._database.transaction() as connection:
                closed = connection.execute(
                    CLOSE_FOR_VOTE, {"battle_public_id": public_id, "voted_at": voted_at}
                ).one_or_none()
                if closed is None:
                    status = connection.execute(BATTLE_STATUS, {"public_id": public_id}).scalar()
                    raise BattleStateConflict(public_id, _status(status))
                stored = connection.execute(
                    INSERT_VOTE,
                    {
                        "battle_id": closed.id,
                        "winner": winner,
                        "voter_id": voter_id,
                        "ip_hash": ip_hash,
                        "counted": counted,
                        "not_counted_reason": not_counted_reason,
                        "created_at": voted_at,
                    },
                ).one()
                model_b = closed.model_b_id
                logged = LoggedVote(
                    vote_id=stored.id,
                    battle_public_id=public_id,
                    category=closed.category,
                    model_a=self._model_identity(closed.model_a_id, connection),
                    model_b=self._model_identity(model_b, connection)
                    if model_b is not None
                    else None,
                    winner=winner,
                    counted=counted,
                    voter_id=voter_id,
                    ip_hash=ip_hash,
                    created_at=voted_at,
                    not_counted_reason=not_counted_reason,
                    style_a=closed.style_a,
                    style_b=closed.style_b,
                    prompt_categories=closed.prompt_categories,
                    webdev_stack=closed.webdev_stack,
                    log_head=LogHead(stored.log_position, stored.log_hash),
                )
                log(connection, logged)
        except IntegrityError as error:
            raise DuplicateVoteError(public_id) from error
        return logged

    @storage_failures
    def counted_vote_count(self) -> int:
        """How many votes count: the leaderboards' watermark.

        Not the newest vote id: PostgreSQL may commit id 9 after id 10, and a leaderboard
        computed in between would then never learn of vote 9. Counted votes are never
        deleted, so the count only grows, and it grows with every commit.
        """
        with self._session() as session:
            return session.scalar(select(func.count(Vote.id)).where(Vote.counted.is_(True))) or 0

    @storage_failures
    def counted_votes(self, categories: Sequence[str] | None = None) -> list[CountedVote]:
        """Every counted vote with its pair, outcome and style, in one query."""
        model_a = aliased(ModelVersion)
        model_b = aliased(ModelVersion)
        query = (
            select(
                model_a.name,
                model_a.version,
                model_b.name,
                model_b.version,
                Vote.winner,
                BattleRow.category,
                BattleRow.style_a,
                BattleRow.style_b,
                Vote.created_at,
            )
            .join(BattleRow, Vote.battle_id == BattleRow.id)
            .join(model_a, BattleRow.model_a_id == model_a.id)
            .join(model_b, BattleRow.model_b_id == model_b.id)
            .where(Vote.counted.is_(True))
            .order_by(Vote.id)
        )
        if categories is not None:
            query = query.where(BattleRow.category.in_(list(categories)))
        with self._session() as session:
            return [
                CountedVote(
                    model_a=version_label(name_a, version_a),
                    model_b=version_label(name_b, version_b),
                    winner=winner,
                    category=category,
                    style_a=style_a,
                    style_b=style_b,
                    voted_at=voted_at,
                )
                for (
                    name_a,
                    version_a,
                    name_b,
                    version_b,
                    winner,
                    category,
                    style_a,
                    style_b,
                    voted_at,
                ) in session.execute(query)
            ]

    # -- the vote log ---------------------------------------------------------------------

    def log_head(self) -> LogHead:
        """The vote log's head; its position grows with every committed vote, counted or not."""
        with self._database.engine.connect() as reader:
            row = reader.execute(LOG_HEAD).one()
        return LogHead(row.position, row.entry_hash)

    def counted_votes_in_log(self, up_to: int) -> list[CountedVote]:
        """The counted votes of log positions 1..`up_to`, in log order, as the board reads them:
        those counted when accepted, less those a screening verdict up to `up_to` uncounts.

        Only what the published log carries, so that anyone replaying the log gets the same
        table and the same leaderboard.
        """
        query = (
            select(
                _vote_log.c.position,
                _vote_log.c.model_a,
                _vote_log.c.model_a_version,
                _vote_log.c.model_b,
                _vote_log.c.model_b_version,
                _vote_log.c.winner,
                _vote_log.c.category,
                _vote_log.c.style_a,
                _vote_log.c.style_b,
                _vote_log.c.created_at,
                _vote_log.c.prompt_categories,
                _vote_log.c.webdev_stack,
            )
            .where(
                _vote_log.c.position <= up_to,
                _vote_log.c.counted.is_(True),
                _vote_log.c.model_b.is_not(None),
            )
            .order_by(_vote_log.c.position)
        )
        with self._database.engine.connect() as reader:
            uncounted = screened_out(reader, up_to)
            return [
                CountedVote(
                    model_a=version_label(row.model_a, row.model_a_version),
                    model_b=version_label(row.model_b, row.model_b_version),
                    winner=row.winner,
                    category=row.category,
                    style_a=row.style_a,
                    style_b=row.style_b,
                    voted_at=row.created_at,
                    prompt_categories=row.prompt_categories,
                    webdev_stack=row.webdev_stack,
                )
                for row in reader.execute(query)
                if row.position not in uncounted
            ]

    def vote_columns(self, after: int, up_to: int, batch: int = 20_000) -> Iterator[VoteColumns]:
        """The counted votes of log positions after+1..`up_to`, in log order, as columns
        (what the board statistics fold in; `counted_votes_in_log` as arrays)."""
        return read_vote_columns(self._database, after, up_to, batch)

    def board_segments(self, layout: str) -> Iterator[StoredSegment]:
        """The stored board statistics segments usable with this log (see vote_columns)."""
        return read_segments(self._database, layout)

    def save_board_segment(
        self, first_position: int, last_position: int, layout: str, payload: bytes
    ) -> None:
        write_segment(self._database, first_position, last_position, layout, payload)

    def stored_boards(self, options: str) -> list[StoredBoard]:
        """The last published leaderboards stored for a restart (see board_snapshots)."""
        return read_boards(self._database, options)

    def save_boards(self, options: str, boards: Sequence[StoredBoard]) -> None:
        write_boards(self._database, options, boards)

    def vote_log_entries(self, up_to: int, batch: int = 1000) -> Iterator[VoteLogEntry]:
        """Log entries 1..`up_to` in order, read in batches so a long log streams."""
        return self._database.in_log_order(VoteLogEntry, up_to, batch)

    def battle_prompts(self, public_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each battle's prompts by turn (for a deployment that opted in to publish them)."""
        query = (
            select(BattleRow.public_id, Turn.prompt)
            .join(Turn, Turn.battle_id == BattleRow.id)
            .where(BattleRow.public_id.in_(list(public_ids)))
            .order_by(BattleRow.public_id, Turn.number)
        )
        prompts: dict[str, list[str]] = {}
        with self._session() as session:
            for public_id, prompt in session.execute(query):
                prompts.setdefault(public_id, []).append(prompt)
        return prompts

    @storage_failures
    def voted_battles(self, include_uncounted: bool = False) -> list[BattleView]:
        """Voted two-sided battles with conversations, oldest vote first, for export."""
        query = _BATTLE_ROWS.where(_votes.c.id.is_not(None), _battles.c.model_b_id.is_not(None))
        if not include_uncounted:
            query = query.where(_votes.c.counted.is_(True))
        query = query.order_by(_votes.c.id, _turns.c.number, _answers.c.side)
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).all()
            return [
                self._view(list(battle_rows), connection)
                for _, battle_rows in itertools.groupby(rows, key=itemgetter(0))
            ]

    def _view(self, rows: Sequence[Row[Any]], connection: Connection) -> BattleView:
        """The view of one battle from its rows of `_battle_rows` (read by position: a
        Row's attributes cost a lookup each, and this is the vote path's read)."""
        (
            _id,
            public_id,
            voter_id,
            mode,
            kind,
            category,
            status,
            failure_reason,
            model_a_id,
            model_b_id,
            style_a,
            style_b,
            prompt_categories,
            webdev_stack,
            identity_verdict,
            recorded_prompt_id,
            updated_at,
        ) = rows[0][:_TURN_COLUMN]
        winner, counted, vote_voter_id, voted_at, not_counted_reason = rows[0][_VOTE_COLUMN:]
        turns = []
        for number, turn_rows in itertools.groupby(rows, key=itemgetter(_TURN_COLUMN)):
            if number is None:  # a battle without turns: one row of NULLs
                continue
            answers = []
            prompt = None
            for row in turn_rows:
                prompt = row[_TURN_COLUMN + 1]
                side, answer_status, *details = row[_ANSWER_COLUMN:_VOTE_COLUMN]
                answers.append(AnswerView(side, _ANSWER_STATUSES[answer_status], *details))
            turns.append(TurnView(number, prompt, tuple(answers)))
        return BattleView(
            public_id=public_id,
            voter_id=voter_id,
            mode=_MODES[mode],
            kind=_KINDS[kind],
            category=category,
            status=_STATUSES[status],
            failure_reason=failure_reason,
            model_a=self._model_identity(model_a_id, connection),
            model_b=self._model_identity(model_b_id, connection)
            if model_b_id is not None
            else None,
            style_a=style_a,
            style_b=style_b,
            updated_at=as_utc(updated_at),
            turns=tuple(turns),
            vote=VoteView(
                _WINNERS[winner], counted, vote_voter_id, as_utc(voted_at), not_counted_reason
            )
            if winner is not None
            else None,
            prompt_categories=prompt_categories,
            webdev_stack=_STACKS[webdev_stack] if webdev_stack is not None else None,
            identity_verdict=identity_verdict,
            recorded_prompt_id=recorded_prompt_id,
        )


# Where `_battle_rows` puts the turn's, the answer's and the vote's first column.
_TURN_COLUMN = 17
_ANSWER_COLUMN = 19
_VOTE_COLUMN = 29
# Stored words to their members by a dict lookup (calling an Enum costs several times more).
_MODES = {mode.value: mode for mode in BattleMode}
_KINDS = {kind.value: kind for kind in BattleKind}
_STATUSES = {status.value: status for status in BattleStatus}
_ANSWER_STATUSES = {status.value: status for status in AnswerStatus}
_WINNERS = {winner.value: winner for winner in Winner}
_STACKS = {stack.value: stack for stack in WebdevStack}


def _identity(version: ModelVersion) -> ModelIdentity:
    return ModelIdentity(
        version.id, version.name, version.version, version.provider_kind, version.organization
    )


def _status(value: str | None) -> BattleStatus | None:
    return _STATUSES[value] if value is not None else None


def append_to_vote_log(connection: Connection, vote: LoggedVote) -> LogHead:
    """Chain `vote` onto the log inside the vote's transaction; returns the new head.

    The entry's style and prompt-category columns are copied from the battle's row (the
    vote's own styles and categories are the ones it read from that row, and are hashed).
    """
    position = vote.log_head.position + 1
    prev_hash = vote.log_head.entry_hash
    model_b = vote.model_b
    entry = chain_entry(
        position=position,
        prev_hash=prev_hash,
        battle_id=vote.battle_public_id,
        category=vote.category,
        model_a=_logged_model(vote.model_a),
        model_b=_logged_model(model_b) if model_b is not None else None,
        winner=vote.winner,
        counted=vote.counted,
        not_counted_reason=vote.not_counted_reason,
        voted_at=vote.created_at,
        style_a=vote.style_a,
        style_b=vote.style_b,
        prompt_categories=vote.prompt_categories,
        webdev_stack=vote.webdev_stack,
    )
    digest = entry_hash(entry)
    connection.execute(
        INSERT_VOTE_LOG_ENTRY,
        {
            "vote_id": vote.vote_id,
            "battle_public_id": vote.battle_public_id,
            "voted_battle": vote.battle_public_id,
            "category": vote.category,
            "model_a": vote.model_a.name,
            "model_a_version": vote.model_a.version,
            "organization_a": vote.model_a.organization,
            "model_b": model_b.name if model_b else None,
            "model_b_version": model_b.version if model_b else None,
            "organization_b": model_b.organization if model_b else None,
            "winner": vote.winner,
            "counted": vote.counted,
            "not_counted_reason": vote.not_counted_reason,
            "voter_id": vote.voter_id,
            "ip_hash": vote.ip_hash,
            "created_at": vote.created_at,
            "webdev_stack": vote.webdev_stack,
            "position": position,
            "prev_hash": prev_hash,
            "entry_hash": digest,
        },
    )
    return LogHead(position, digest)


def _logged_model(identity: ModelIdentity) -> dict[str, Any]:
    return {
        "name": identity.name,
        "version": identity.version,
        "organization": identity.organization,
    }


def _new_turn(number: int, prompt: str, sides: Sequence[str]) -> Turn:
    return Turn(
        number=number,
        prompt=prompt,
        answers=[Answer(side=side, text="", status=AnswerStatus.GENERATING) for side in sides],
    )


def _transition(
    session: Session, public_id: str, before: BattleStatus, after: BattleStatus
) -> None:
    """Move the battle from `before` to `after` atomically, or raise BattleStateConflict.

    A conditional UPDATE, so that two requests (or two workers) racing on one battle cannot
    both succeed: one vote per battle, no follow-up once voted.
    """
    result = session.execute(
        update(BattleRow)
        .where(BattleRow.public_id == public_id, BattleRow.status == before)
        .values(status=after, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        current = session.scalar(select(BattleRow.status).where(BattleRow.public_id == public_id))
        raise BattleStateConflict(public_id, _status(current))


def _battle_row(session: Session, public_id: str) -> BattleRow:
    return session.scalars(select(BattleRow).where(BattleRow.public_id == public_id)).one()

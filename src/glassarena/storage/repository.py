"""Reads and writes of the arena's records; every write commits before it returns.

The service only acknowledges something to a user after the call that stores it returned, so
nothing acknowledged can be lost (SQLite in WAL mode and PostgreSQL both make a commit durable
against the process being killed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from glassarena.storage.database import Database
from glassarena.storage.schema import (
    Answer,
    ArenaInstance,
    Battle,
    ModelVersion,
    Turn,
    Vote,
    utc_now,
    version_label,
)


class DuplicateVoteError(Exception):
    """The battle already has a vote (the unique constraint said so)."""


class BattleStateConflict(Exception):
    """The battle was not in the state a change needs; `status` is the one it was in."""

    def __init__(self, public_id: str, status: str | None) -> None:
        super().__init__(f"battle {public_id} is {status or 'missing'}")
        self.status = status


@dataclass(frozen=True, slots=True)
class AnswerResult:
    text: str
    status: str  # done | failed
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


class ArenaRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._database.sessions() as session:
            yield session

    def instance_id(self) -> str:
        """The random id this database was created with."""
        with self._session() as session:
            return session.scalars(select(ArenaInstance.id)).one()

    # -- model versions -------------------------------------------------------------------

    def ensure_version(
        self, name: str, provider_kind: str, settings: Mapping[str, Any], fingerprint: str
    ) -> ModelVersion:
        """The version row for these exact settings, created (as the next number) if new.

        Existing rows are never changed: votes stay attached to the settings they were cast on.
        Two workers registering the same new version at once both end up with the same row.
        """
        for _attempt in range(3):
            with self._session() as session:
                existing = session.scalar(
                    select(ModelVersion).where(
                        ModelVersion.name == name,
                        ModelVersion.settings_fingerprint == fingerprint,
                    )
                )
                if existing is not None:
                    return existing
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
                return version
        raise RuntimeError(f"could not register a version of model {name!r}: constant conflicts")

    def versions(self, name: str) -> list[ModelVersion]:
        with self._session() as session:
            return list(
                session.scalars(
                    select(ModelVersion)
                    .where(ModelVersion.name == name)
                    .order_by(ModelVersion.version)
                )
            )

    # -- battles and turns ----------------------------------------------------------------

    def create_battle(
        self,
        *,
        public_id: str,
        mode: str,
        kind: str,
        category: str,
        model_a_id: int,
        model_b_id: int | None,
        voter_id: str,
        ip_hash: str,
        prompt: str,
        recorded_prompt_id: str | None = None,
    ) -> None:
        sides = ("a", "b") if model_b_id is not None else ("a",)
        with self._session() as session:
            battle = Battle(
                public_id=public_id,
                mode=mode,
                kind=kind,
                category=category,
                model_a_id=model_a_id,
                model_b_id=model_b_id,
                status="generating",
                voter_id=voter_id,
                ip_hash=ip_hash,
                recorded_prompt_id=recorded_prompt_id,
            )
            battle.turns.append(_new_turn(1, prompt, sides))
            session.add(battle)
            session.commit()

    def add_turn(self, public_id: str, number: int, prompt: str) -> None:
        """Open turn `number` of a complete battle; BattleStateConflict if it is not complete
        (voted, failed, or another request opened the turn first)."""
        with self._session() as session:
            _transition(session, public_id, "complete", "generating")
            battle = _battle_row(session, public_id)
            sides = ("a", "b") if battle.model_b_id is not None else ("a",)
            battle.turns.append(_new_turn(number, prompt, sides))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise BattleStateConflict(public_id, "generating") from None

    def finish_answer(self, public_id: str, number: int, side: str, result: AnswerResult) -> None:
        with self._session() as session:
            answer = session.scalars(
                select(Answer)
                .join(Turn)
                .join(Battle)
                .where(Battle.public_id == public_id, Turn.number == number, Answer.side == side)
            ).one()
            answer.text = result.text
            answer.status = result.status
            answer.failure_kind = result.failure_kind
            answer.failure_reason = result.failure_reason
            answer.first_token_seconds = result.first_token_seconds
            answer.total_seconds = result.total_seconds
            answer.completion_tokens = result.completion_tokens
            answer.finish_reason = result.finish_reason
            answer.style = dict(result.style) if result.style is not None else None
            session.commit()

    def finish_turn(
        self,
        public_id: str,
        *,
        failure_reason: str | None,
        style_a: Mapping[str, Any] | None,
        style_b: Mapping[str, Any] | None,
    ) -> None:
        """Close the turn being generated (a battle already failed as abandoned stays so)."""
        with self._session() as session:
            session.execute(
                update(Battle)
                .where(Battle.public_id == public_id, Battle.status == "generating")
                .values(
                    status="failed" if failure_reason else "complete",
                    failure_reason=failure_reason,
                    style_a=dict(style_a) if style_a is not None else None,
                    style_b=dict(style_b) if style_b is not None else None,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()

    def fail_abandoned(self, public_id: str, reason: str) -> None:
        """Mark a battle whose generating process went away as failed, answers included."""
        with self._session() as session:
            try:
                _transition(session, public_id, "generating", "failed")
            except BattleStateConflict:
                return  # finished meanwhile, or already failed
            battle = _battle_row(session, public_id)
            battle.failure_reason = reason
            for turn in battle.turns:
                for answer in turn.answers:
                    if answer.status == "generating":
                        answer.status = "failed"
                        answer.failure_kind = "dropped"
                        answer.failure_reason = reason
            session.commit()

    def load_battle(self, public_id: str) -> Battle | None:
        """The battle with its versions, turns, answers and vote, detached from any session."""
        with self._session() as session:
            return session.scalar(
                select(Battle)
                .where(Battle.public_id == public_id)
                .options(
                    selectinload(Battle.turns).selectinload(Turn.answers),
                    selectinload(Battle.vote),
                )
            )

    # -- votes ----------------------------------------------------------------------------

    def record_vote(
        self,
        public_id: str,
        *,
        winner: str,
        voter_id: str,
        ip_hash: str,
        counted: bool,
        not_counted_reason: str | None,
        log: Callable[[Session, Battle, Vote], None],
    ) -> Vote:
        """Store the vote, close the battle and append to the vote log in one transaction."""
        with self._session() as session:
            _transition(session, public_id, "complete", "voted")
            battle = _battle_row(session, public_id)
            vote = Vote(
                battle_id=battle.id,
                winner=winner,
                voter_id=voter_id,
                ip_hash=ip_hash,
                counted=counted,
                not_counted_reason=not_counted_reason,
                created_at=utc_now(),
            )
            session.add(vote)
            try:
                log(session, battle, vote)
                session.commit()
            except IntegrityError as error:
                session.rollback()
                raise DuplicateVoteError(public_id) from error
            return vote

    def counted_vote_count(self) -> int:
        """How many votes count: the leaderboards' watermark.

        Not the newest vote id: PostgreSQL may commit id 9 after id 10, and a leaderboard
        computed in between would then never learn of vote 9. Counted votes are never
        deleted, so the count only grows, and it grows with every commit.
        """
        with self._session() as session:
            return session.scalar(select(func.count(Vote.id)).where(Vote.counted.is_(True))) or 0

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
                Battle.category,
                Battle.style_a,
                Battle.style_b,
                Vote.created_at,
            )
            .join(Battle, Vote.battle_id == Battle.id)
            .join(model_a, Battle.model_a_id == model_a.id)
            .join(model_b, Battle.model_b_id == model_b.id)
            .where(Vote.counted.is_(True))
            .order_by(Vote.id)
        )
        if categories is not None:
            query = query.where(Battle.category.in_(list(categories)))
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

    def voted_battles(self, include_uncounted: bool = False) -> Iterator[Battle]:
        """Voted battles with conversations, oldest first, for export."""
        query = (
            select(Battle)
            .join(Vote, Vote.battle_id == Battle.id)
            .where(Battle.model_b_id.is_not(None))
            .options(
                selectinload(Battle.turns).selectinload(Turn.answers),
                selectinload(Battle.vote),
            )
            .order_by(Vote.id)
        )
        if not include_uncounted:
            query = query.where(Vote.counted.is_(True))
        with self._session() as session:
            yield from session.scalars(query)


def _new_turn(number: int, prompt: str, sides: Sequence[str]) -> Turn:
    return Turn(
        number=number,
        prompt=prompt,
        answers=[Answer(side=side, text="", status="generating") for side in sides],
    )


def _transition(session: Session, public_id: str, before: str, after: str) -> None:
    """Move the battle from `before` to `after` atomically, or raise BattleStateConflict.

    A conditional UPDATE, so that two requests (or two workers) racing on one battle cannot
    both succeed: one vote per battle, no follow-up once voted.
    """
    result = session.execute(
        update(Battle)
        .where(Battle.public_id == public_id, Battle.status == before)
        .values(status=after, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        current = session.scalar(select(Battle.status).where(Battle.public_id == public_id))
        raise BattleStateConflict(public_id, current)


def _battle_row(session: Session, public_id: str) -> Battle:
    return session.scalars(select(Battle).where(Battle.public_id == public_id)).one()

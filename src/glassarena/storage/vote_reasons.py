"""Vote reasons: stored beside a battle's vote, read back for the board and the export.

A battle's reasons are written once (the unique `vote_id` refuses a second set) and never
change. They are kept apart from `votes` and `vote_log`: the counted vote, its log entry and
its hash do not depend on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from glassarena.storage.battle_view import version_label
from glassarena.storage.database import Database
from glassarena.storage.errors import storage_failures
from glassarena.storage.schema import BattleRow, ModelVersion, Vote, VoteReasons, utc_now
from glassarena.vocabulary import VoteReason, Winner


class ReasonsAlreadyStored(Exception):
    """The battle's vote already has its reasons (the unique vote_id said so)."""


@dataclass(frozen=True, slots=True)
class StoredReasons:
    reasons: tuple[VoteReason, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class WinnerReasons:
    """The reasons given with one counted vote, and the model (board label) it preferred."""

    model: str
    reasons: tuple[VoteReason, ...]
    has_note: bool


_WORDS = {reason.value: reason for reason in VoteReason}


class VoteReasonStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    @storage_failures
    def save(self, public_id: str, reasons: Sequence[VoteReason], note: str | None) -> None:
        """Store the reasons of the battle's vote (which must exist); ReasonsAlreadyStored
        when it has them already."""
        vote_id = (
            select(Vote.id)
            .join(BattleRow, Vote.battle_id == BattleRow.id)
            .where(BattleRow.public_id == public_id)
            .scalar_subquery()
        )
        try:
            with self._database.transaction() as connection:
                connection.execute(
                    insert(VoteReasons).values(
                        vote_id=vote_id,
                        reasons=[reason.value for reason in reasons],
                        note=note,
                        created_at=utc_now(),
                    )
                )
        except IntegrityError as error:
            raise ReasonsAlreadyStored(public_id) from error

    @storage_failures
    def latest(self) -> int:
        """The newest reasons' row id (0 without any): grows with every stored set, so a
        summary computed at one value is current while it stays the same."""
        with self._database.engine.connect() as connection:
            return connection.execute(select(func.max(VoteReasons.id))).scalar() or 0

    @storage_failures
    def of_battles(self) -> dict[str, StoredReasons]:
        """Every battle's reasons by its public id (for the export)."""
        query = (
            select(BattleRow.public_id, VoteReasons.reasons, VoteReasons.note)
            .join(Vote, VoteReasons.vote_id == Vote.id)
            .join(BattleRow, Vote.battle_id == BattleRow.id)
        )
        with self._database.engine.connect() as connection:
            return {
                public_id: StoredReasons(_reasons(words), note)
                for public_id, words, note in connection.execute(query)
            }

    @storage_failures
    def of_battle(self, public_id: str) -> StoredReasons | None:
        """One battle's reasons (for its shared page); None when none were given."""
        query = (
            select(VoteReasons.reasons, VoteReasons.note)
            .join(Vote, VoteReasons.vote_id == Vote.id)
            .join(BattleRow, Vote.battle_id == BattleRow.id)
            .where(BattleRow.public_id == public_id)
        )
        with self._database.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else StoredReasons(_reasons(row[0]), row[1])

    @storage_failures
    def of_counted_wins(self, category: str) -> list[WinnerReasons]:
        """The reasons given with the category's counted decisive votes, by preferred model."""
        query = counted_wins_query(category)
        with self._database.engine.connect() as connection:
            return [
                WinnerReasons(
                    version_label(name_a, version_a)
                    if winner == Winner.MODEL_A
                    else version_label(name_b, version_b),
                    _reasons(words),
                    bool(has_note),
                )
                for winner, name_a, version_a, name_b, version_b, words, has_note in (
                    connection.execute(query)
                )
            ]


def counted_wins_query(category: str) -> Select[str, str, int, str, int, list[str], bool]:
    model_a = aliased(ModelVersion)
    model_b = aliased(ModelVersion)
    return (
        select(
            Vote.winner,
            model_a.name,
            model_a.version,
            model_b.name,
            model_b.version,
            VoteReasons.reasons,
            VoteReasons.note.is_not(None),
        )
        .join(Vote, VoteReasons.vote_id == Vote.id)
        .join(BattleRow, Vote.battle_id == BattleRow.id)
        .join(model_a, BattleRow.model_a_id == model_a.id)
        .join(model_b, BattleRow.model_b_id == model_b.id)
        .where(
            # Driven from the stored reasons, which few votes have: without this SQLite starts
            # from the index on `counted` and visits every vote (minutes at 10,000,000).
            Vote.id.in_(select(VoteReasons.vote_id)),
            Vote.counted.is_(True),
            BattleRow.category == category,
            Vote.winner.in_([Winner.MODEL_A, Winner.MODEL_B]),
        )
    )


def _reasons(words: Sequence[str]) -> tuple[VoteReason, ...]:
    # A word no longer in the vocabulary (a chip retired after it was stored) is skipped.
    return tuple(_WORDS[word] for word in words if word in _WORDS)

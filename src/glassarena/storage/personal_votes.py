"""One voter's votes, as the personal board reads them: the voter's own counted votes, and
the prompt categories of their text battles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from glassarena.storage.battle_view import version_label
from glassarena.storage.database import Database
from glassarena.storage.errors import storage_failures
from glassarena.storage.schema import BattleRow, ModelVersion, Vote
from glassarena.vocabulary import BattleKind, Winner


@dataclass(frozen=True, slots=True)
class OwnVote:
    model_a: str  # board labels
    model_b: str
    winner: Winner


class PersonalVotes:
    def __init__(self, database: Database) -> None:
        self._database = database

    @storage_failures
    def of_voter(self, voter_id: str, category: str) -> list[OwnVote]:
        """The voter's counted votes in the category, oldest first. A battle without its vote
        is not among them: nothing of an unvoted battle reaches the personal board."""
        model_a = aliased(ModelVersion)
        model_b = aliased(ModelVersion)
        query = (
            select(model_a.name, model_a.version, model_b.name, model_b.version, Vote.winner)
            .join(BattleRow, Vote.battle_id == BattleRow.id)
            .join(model_a, BattleRow.model_a_id == model_a.id)
            .join(model_b, BattleRow.model_b_id == model_b.id)
            .where(
                Vote.voter_id == voter_id,
                Vote.counted.is_(True),
                BattleRow.category == category,
            )
            .order_by(Vote.id)
        )
        with self._database.engine.connect() as connection:
            return [
                OwnVote(
                    version_label(name_a, version_a), version_label(name_b, version_b), Winner(w)
                )
                for name_a, version_a, name_b, version_b, w in connection.execute(query)
            ]

    @storage_failures
    def prompt_tags(self, voter_id: str) -> list[dict[str, Any] | None]:
        """The prompt categories (`category_tag`) of each of the voter's counted text votes."""
        query = (
            select(BattleRow.prompt_categories)
            .join(Vote, Vote.battle_id == BattleRow.id)
            .where(
                Vote.voter_id == voter_id,
                Vote.counted.is_(True),
                BattleRow.category == BattleKind.TEXT.category,
            )
        )
        with self._database.engine.connect() as connection:
            return [tag for (tag,) in connection.execute(query)]

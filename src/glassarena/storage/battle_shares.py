"""Share tokens: the random name of a voted battle's public read-only page.

A battle's public id is known to its voter's browser from the first event, before the vote;
the page is therefore reached by a token of its own, made only once the battle is voted and
its voter asks for a link (arena/service.py checks both), and never derived from the id.
"""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from glassarena.storage.database import Database
from glassarena.storage.errors import storage_failures
from glassarena.storage.schema import BattleRow, BattleShare, utc_now

TOKEN_BYTES = 18


class BattleShares:
    def __init__(self, database: Database) -> None:
        self._database = database

    @storage_failures
    def token_for(self, public_id: str) -> str:
        """The battle's share token, made on the first request (the caller checked that the
        battle exists and is voted); asking again gives the same token."""
        battle_id = select(BattleRow.id).where(BattleRow.public_id == public_id).scalar_subquery()
        existing = select(BattleShare.token).where(BattleShare.battle_id == battle_id)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        try:
            with self._database.transaction() as connection:
                if (found := connection.execute(existing).scalar()) is not None:
                    return str(found)
                connection.execute(
                    insert(BattleShare).values(
                        battle_id=battle_id, token=token, created_at=utc_now()
                    )
                )
        except IntegrityError:
            # Two requests raced: the other one's token is the battle's.
            with self._database.engine.connect() as connection:
                return str(connection.execute(existing).scalar_one())
        return token

    @storage_failures
    def battle_of(self, token: str) -> str | None:
        """The public id of the battle shared under `token`, if any."""
        query = (
            select(BattleRow.public_id)
            .join(BattleShare, BattleShare.battle_id == BattleRow.id)
            .where(BattleShare.token == token)
        )
        with self._database.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else str(found)

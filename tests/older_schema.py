"""A database left at an older revision, as an arena that ran an older release has it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from glassarena.storage.database import create_database_engine
from glassarena.storage.migrate import MIGRATIONS


@contextmanager
def migrated_only_to(
    database_url: str, revision: str, *, down: bool = False
) -> Iterator[sa.Connection]:
    """A connection, in one transaction, to the database migrated up to `revision` (with
    `down`, down to it) and no further, for the rows that revision's schema takes; the engine
    is closed after."""
    engine = create_database_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
            yield connection
    finally:
        engine.dispose()

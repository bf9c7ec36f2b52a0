"""Bring a database to the newest schema with Alembic, programmatically (no alembic.ini).

Several worker processes may start at once; the migration holds a database-wide lock so that
exactly one of them creates the tables and the others find the schema already at head.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
# Arbitrary but fixed: identifies glassarena's migration lock among PostgreSQL advisory locks.
_POSTGRES_MIGRATION_LOCK = 7_140_221_903


def _lock_for_migration(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # The sqlite3 module would otherwise run DDL outside any transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
        )


def upgrade_to_head(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with (
        engine.connect() as connection,
        _sqlite_foreign_keys_off(connection),
        connection.begin(),
    ):
        _lock_for_migration(connection)
        config.attributes["connection"] = connection
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, "head")
        # The check reads every row (minutes at millions of votes): only after a migration.
        if MigrationContext.configure(connection).get_current_revision() != before:
            _check_foreign_keys(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, migrations run with foreign keys off, as SQLite's own procedure for
    changing a table requires: Alembic's batch mode rebuilds a table by dropping it, and with
    foreign keys on that drop would delete (ON DELETE CASCADE) every row that refers to it.
    The pragma only takes effect outside a transaction, so it is set before BEGIN."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse (roll back) a migration that left a row pointing at nothing (SQLite)."""
    if connection.dialect.name != "sqlite":
        return
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        raise RuntimeError(f"migration left rows without their parent: {dangling[:5]}")

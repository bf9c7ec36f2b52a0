"""Bring a database to the newest schema with Alembic, programmatically (no alembic.ini).

Several worker processes may start at once; the migration holds a database-wide lock so that
exactly one of them creates the tables and the others find the schema already at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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
    with engine.begin() as connection:
        _lock_for_migration(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

"""Migration 0010 adds the WebDev stack to battles, vote log entries and app checks, keeps
every row of an arena running on revision 0007, and leaves its old entries as they were."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from glassarena.storage.database import create_database_engine, open_database
from glassarena.storage.migrate import MIGRATIONS
from glassarena.storage.repository import ArenaRepository
from older_schema import migrated_only_to

_NOW = "2026-11-29 12:00:00"
_ROWS = [
    "INSERT INTO model_versions (id, name, version, provider_kind, settings,"
    " settings_fingerprint, created_at) VALUES"
    f" (1, 'alpha', 1, 'openai', '{{}}', 'a', '{_NOW}'),"
    f" (2, 'beta', 1, 'openai', '{{}}', 'b', '{_NOW}')",
    "INSERT INTO battles (id, public_id, mode, kind, category, model_a_id, model_b_id,"
    " status, voter_id, ip_hash, created_at, updated_at) VALUES"
    f" (1, 'old-webdev', 'anonymous', 'webdev', 'webdev', 1, 2, 'complete', 'v', 'h',"
    f" '{_NOW}', '{_NOW}')",
    f"INSERT INTO turns (id, battle_id, number, prompt, created_at) VALUES (1, 1, 1, 'p',"
    f" '{_NOW}')",
    "INSERT INTO answers (id, turn_id, side, text, status) VALUES"
    " (1, 1, 'a', 'A', 'done'), (2, 1, 'b', 'B', 'done')",
    "INSERT INTO app_checks (answer_id, app_found, truncated, lines_of_code, code_blocks,"
    " checked, loaded, rendered, runs, uncaught_errors, console_errors, checked_at) VALUES"
    f" (1, true, false, 10, 1, true, true, true, true, '[]', '[]', '{_NOW}')",
]


def test_an_arena_at_0007_keeps_its_rows_and_old_battles_have_no_stack(
    database_url: str,
) -> None:
    with migrated_only_to(database_url, "0007") as connection:
        for statement in _ROWS:
            connection.execute(sa.text(statement))
    database = open_database(database_url)  # migrates to head
    try:
        battle = ArenaRepository(database).battle("old-webdev")
        assert battle is not None and battle.webdev_stack is None
        assert [answer.text for answer in battle.turns[0].answers] == ["A", "B"]
        with database.engine.connect() as connection:
            stacks = connection.execute(sa.text("SELECT stack FROM app_checks")).scalars()
            assert list(stacks) == [None]
            columns = {column["name"] for column in sa.inspect(connection).get_columns("vote_log")}
        assert "webdev_stack" in columns
    finally:
        database.dispose()


def test_the_migration_goes_down_to_0007_keeping_the_rows(database_url: str) -> None:
    database = open_database(database_url)
    database.dispose()
    engine = create_database_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            for statement in _ROWS:
                connection.execute(sa.text(statement))
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")
            inspector = sa.inspect(connection)
            for table, column in (
                ("battles", "webdev_stack"),
                ("vote_log", "webdev_stack"),
                ("app_checks", "stack"),
            ):
                assert column not in {found["name"] for found in inspector.get_columns(table)}
            answers = connection.execute(sa.text("SELECT count(*) FROM answers")).scalar()
            assert answers == 2
    finally:
        engine.dispose()

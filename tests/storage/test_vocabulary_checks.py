"""The stored vocabulary is enforced by the database (migration 0004), and that migration
keeps every row of an arena that was running on the previous schema."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from glassarena.storage.database import Database, open_database
from glassarena.storage.vote_chain import GENESIS_HASH
from glassarena.vocabulary import AnswerStatus, BattleKind, BattleMode, BattleStatus, Winner
from older_schema import migrated_only_to

_TABLES = ("model_versions", "battles", "turns", "answers", "votes", "vote_log", "app_checks")
_NOW = "2026-11-29 12:00:00"
_CHAIN_COLUMNS = ", position, prev_hash, entry_hash"
_CHAIN_VALUES = f", 1, '{GENESIS_HASH}', '{'f' * 64}'"


def _rows_of_a_voted_battle(
    connection: sa.Connection, voted: bool = True, chained: bool = False
) -> None:
    """One voted WebDev battle with its answers, app check and vote log entry, in plain SQL
    (as the schema of revision 0003 takes it); without the vote when not `voted`. `chained`:
    the entry is the first of the log's hash chain, as the newest schema's trigger requires."""
    statements = [
        "INSERT INTO model_versions (id, name, version, provider_kind, settings,"
        " settings_fingerprint, created_at) VALUES"
        f" (1, 'alpha', 1, 'openai', '{{}}', 'a', '{_NOW}'),"
        f" (2, 'beta', 1, 'openai', '{{}}', 'b', '{_NOW}')",
        "INSERT INTO battles (id, public_id, mode, kind, category, model_a_id, model_b_id,"
        " status, voter_id, ip_hash, created_at, updated_at) VALUES"
        f" (1, 'kept', 'anonymous', 'webdev', 'webdev', 1, 2, 'voted', 'v', 'h', '{_NOW}',"
        f" '{_NOW}')",
        f"INSERT INTO turns (id, battle_id, number, prompt, created_at) VALUES (1, 1, 1, 'p',"
        f" '{_NOW}')",
        "INSERT INTO answers (id, turn_id, side, text, status) VALUES"
        " (1, 1, 'a', 'A', 'done'), (2, 1, 'b', 'B', 'done')",
        "INSERT INTO app_checks (answer_id, app_found, truncated, lines_of_code, code_blocks,"
        " checked, loaded, rendered, runs, uncaught_errors, console_errors, checked_at) VALUES"
        f" (1, true, false, 10, 1, true, true, true, true, '[]', '[]', '{_NOW}')",
    ]
    if voted:
        statements += [
            "INSERT INTO votes (id, battle_id, winner, voter_id, ip_hash, counted, created_at)"
            f" VALUES (1, 1, 'model_a', 'v', 'h', true, '{_NOW}')",
            "INSERT INTO vote_log (vote_id, battle_public_id, category, model_a,"
            " model_a_version, model_b, model_b_version, winner, counted, voter_id, ip_hash,"
            f" created_at{_CHAIN_COLUMNS if chained else ''}) VALUES (1, 'kept', 'webdev',"
            f" 'alpha', 1, 'beta', 1, 'model_a', true, 'v', 'h',"
            f" '{_NOW}'{_CHAIN_VALUES if chained else ''})",
        ]
    for statement in statements:
        connection.execute(sa.text(statement))


def test_migrating_to_the_checks_keeps_every_row(database_url: str) -> None:
    # Alembic's batch mode rebuilds each table on SQLite by dropping it. With foreign keys on
    # (as every glassarena connection has them) this upgrade failed: "FOREIGN KEY constraint
    # failed" on dropping `battles`, which votes refer to. Without votes, the same drop deletes
    # every turn and answer instead (ON DELETE CASCADE, see the next test). The migration
    # therefore runs with foreign keys off.
    with migrated_only_to(database_url, "0003") as connection:
        _rows_of_a_voted_battle(connection)

    database = open_database(database_url)  # migrates to head
    try:
        with database.engine.connect() as connection:
            counts = {
                table: connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
                for table in _TABLES
            }
            if connection.dialect.name == "sqlite":  # back on for the pooled connection
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert counts == {
            "model_versions": 2,
            "battles": 1,
            "turns": 1,
            "answers": 2,
            "votes": 1,
            "vote_log": 1,
            "app_checks": 1,
        }
        # The vote log kept its append-only triggers.
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as writer:
            writer.execute(sa.text("DELETE FROM vote_log"))
    finally:
        database.dispose()


_BAD_WORDS = [
    ("battles", "mode", "anonymus"),
    ("battles", "kind", "video"),
    ("battles", "status", "done"),
    ("answers", "side", "c"),
    ("answers", "status", "complete"),
    ("votes", "winner", "both_bad"),  # an accepted input spelling, never a stored one
]


@pytest.mark.parametrize(("table", "column", "word"), _BAD_WORDS)
def test_a_word_outside_the_vocabulary_is_refused(
    database: Database, table: str, column: str, word: str
) -> None:
    with database.engine.begin() as connection:
        _rows_of_a_voted_battle(connection, chained=True)
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {table} SET {column} = :word"), {"word": word})


@pytest.mark.parametrize(
    ("table", "column", "vocabulary"),
    [
        ("battles", "mode", BattleMode),
        ("battles", "kind", BattleKind),
        ("battles", "status", BattleStatus),
        ("answers", "status", AnswerStatus),
        ("votes", "winner", Winner),
    ],
)
def test_every_word_of_the_vocabulary_is_accepted(
    database: Database, table: str, column: str, vocabulary: type
) -> None:
    """The migration's words (written out) and the enums (imported) agree."""
    with database.engine.begin() as connection:
        _rows_of_a_voted_battle(connection, chained=True)
    for word in vocabulary:
        with database.engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE {table} SET {column} = :word"), {"word": word})


def test_migrating_an_arena_without_votes_keeps_its_answers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # With foreign keys on, this upgrade "succeeded" and left the battle without its turn and
    # answers: dropping the old `battles` table cascaded to them.
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    with migrated_only_to(url, "0003") as connection:
        _rows_of_a_voted_battle(connection, voted=False)
    database = open_database(url)
    try:
        with database.engine.connect() as connection:
            answers = connection.execute(sa.text("SELECT COUNT(*) FROM answers")).scalar()
        assert answers == 2
    finally:
        database.dispose()

"""Opening the database: clear errors, SQLite durability settings, concurrent starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from glassarena.storage.database import open_database, redact_url
from glassarena.storage.errors import DatabaseUnavailableError
from glassarena.storage.repository import ArenaRepository


def test_unreachable_postgres_names_the_url_without_its_password() -> None:
    url = "postgresql://arena:hunter2@127.0.0.1:1/arena"
    with pytest.raises(DatabaseUnavailableError) as raised:
        open_database(url)
    message = str(raised.value)
    assert "postgresql://arena:***@127.0.0.1:1/arena" in message
    assert "hunter2" not in message
    assert "refused" in message.lower()


def test_sqlite_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'arena.db'}"
    with pytest.raises(DatabaseUnavailableError, match="cannot open the database at sqlite"):
        open_database(url)


def test_an_unparseable_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailableError, match="unparseable"):
        open_database("not a url at all")


def test_redaction_keeps_everything_but_the_password() -> None:
    redacted = redact_url("postgresql+psycopg://user:s3cret@db.example:5432/arena?sslmode=require")
    assert redacted == "postgresql+psycopg://user:***@db.example:5432/arena?sslmode=require"


def test_sqlite_runs_in_wal_mode_with_normal_sync(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'arena.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    database.dispose()


_WRITE_THEN_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from glassarena.storage.database import open_database
    from glassarena.storage.repository import ArenaRepository

    repository = ArenaRepository(open_database(sys.argv[1]))
    version = repository.ensure_version("survivor", "openai", {"t": 1}, "fp")
    repository.create_battle(
        public_id="acknowledged", mode="anonymous", kind="text", category="text",
        model_a_id=version.version_id, model_b_id=None, voter_id="v", ip_hash="h", prompt="hi",
    )
    print("acknowledged", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_an_acknowledged_write_survives_kill_9(database_url: str) -> None:
    process = subprocess.run(
        [sys.executable, "-c", _WRITE_THEN_DIE, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert process.stdout.strip() == "acknowledged"
    database = open_database(database_url)
    battle = ArenaRepository(database).battle("acknowledged")
    database.dispose()
    assert battle is not None and battle.model_a.name == "survivor"


_MIGRATE = "import sys; from glassarena.storage.database import open_database; " + (
    "open_database(sys.argv[1]).dispose()"
)


def test_workers_starting_together_migrate_once(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, database_url],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    database = open_database(database_url)
    with database.engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar()
    database.dispose()
    assert count == 1


@pytest.mark.postgres
def test_a_killed_clients_query_stops_on_the_server(postgres_url: str) -> None:
    """A process that dies in the middle of a long query (a stopped node's background
    reading, a killed screening process) must not leave PostgreSQL running the query to its
    end: at ten million votes such a query read the disk for tens of seconds and slowed the
    next start of the arena from 5 s to 30 s."""
    script = textwrap.dedent(
        f"""
        import sqlalchemy as sa
        from glassarena.storage.database import open_database
        database = open_database({postgres_url!r})
        with database.engine.connect() as connection:
            print(connection.execute(sa.text("select pg_backend_pid()")).scalar(), flush=True)
            connection.execute(sa.text("select pg_sleep(60)"))
        """
    )
    client = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert client.stdout is not None
    backend = int(client.stdout.readline())
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    running = sa.text("select count(*) from pg_stat_activity where pid = :pid")
    try:
        with admin.connect() as connection:
            deadline = time.monotonic() + 10
            while "pg_sleep" not in str(
                connection.execute(
                    sa.text("select query from pg_stat_activity where pid = :pid"), {"pid": backend}
                ).scalar()
            ):
                assert time.monotonic() < deadline, "the query never started"
                time.sleep(0.05)
            client.send_signal(signal.SIGKILL)
            client.wait(timeout=10)
            deadline = time.monotonic() + 5
            while connection.execute(running, {"pid": backend}).scalar():
                assert time.monotonic() < deadline, "the dead client's query is still running"
                time.sleep(0.1)
    finally:
        admin.dispose()

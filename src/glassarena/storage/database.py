"""Open the arena database: SQLite by default, PostgreSQL through the same code.

SQLite runs in WAL mode with `synchronous=NORMAL`: a committed transaction survives the
process being killed (only a power loss can drop the last commits), and readers never block
the writer. A busy timeout lets several worker processes share one file.

A SQLite database holds prompts, voter ids and IP hashes, so its file is created readable by
its owner only (0600); SQLite gives the -wal and -shm files it creates beside it the same mode.

SQLite has one writer at a time. Within a process, write transactions queue on a lock
instead: threads that collide on SQLite's own lock wait in its busy handler, which sleeps in
steps of up to 100 ms and was most of the vote path's time under concurrent load.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from glassarena.storage.errors import DatabaseUnavailableError
from glassarena.storage.migrate import upgrade_to_head

DEFAULT_DATABASE_URL = "sqlite:///glassarena.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def redact_url(url: str | URL) -> str:
    """The URL as it may be shown in logs and errors: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparseable database URL>"


def _normalise(url: URL) -> URL:
    """Plain `postgresql://` URLs use psycopg 3, the driver glassarena ships with."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _create_private_file(url: URL) -> None:
    """Create a SQLite database file 0600 before SQLite would create it 0644 (umask 022).
    An existing file is left as its owner set it; a missing directory is SQLite's to report."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        descriptor = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists, or cannot be created: SQLite says which when it connects
        return
    os.close(descriptor)


def create_database_engine(url: str | URL) -> Engine:
    parsed = _normalise(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        _create_private_file(parsed)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _configure_postgresql)
    return engine


def _configure_postgresql(dbapi_connection: Any, _record: Any) -> None:
    """Have PostgreSQL (14 and later) check every second, during a long query, that the
    client is still there. A process that dies mid-query (a stopped node's background
    reading, a killed screening process) otherwise leaves the query running to its end: at
    ten million votes, tens of seconds of disk reads taken from the arena's next start."""
    # psycopg 3 says the version in `info`; psycopg2, for a URL that names it, on the connection.
    info = getattr(dbapi_connection, "info", dbapi_connection)
    if getattr(info, "server_version", 0) < 140000:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("SET client_connection_check_interval = 1000")
    cursor.close()
    dbapi_connection.commit()


class Database:
    """An engine and its session factory, with the schema migrated to head."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        # Held around every write transaction: one writer at a time on SQLite, free elsewhere.
        self.write_lock: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core connection in a write transaction, committed when the block ends."""
        with self.write_lock, self.engine.begin() as connection:
            yield connection

    def in_log_order(self, entry: type[Any], up_to: int, batch: int = 1000) -> Iterator[Any]:
        """Rows of a table of log entries (`vote_log`, `vote_verdicts`: a `position` column)
        at positions 1..`up_to` in order, read in batches so that a long log streams."""
        after = 0
        while after < up_to:
            with self.sessions() as session:
                rows = list(
                    session.scalars(
                        select(entry)
                        .where(entry.position > after, entry.position <= up_to)
                        .order_by(entry.position)
                        .limit(batch)
                    )
                )
            if not rows:
                return
            yield from rows
            after = rows[-1].position

    @property
    def redacted_url(self) -> str:
        return redact_url(self.engine.url)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str | URL = DEFAULT_DATABASE_URL) -> Database:
    """Connect, migrate to the newest schema, and fail clearly if the database is unreachable."""
    try:
        engine = create_database_engine(url)
    except (SQLAlchemyError, ValueError) as error:
        raise DatabaseUnavailableError(redact_url(url), error) from error
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        upgrade_to_head(engine)
    except (SQLAlchemyError, OSError) as error:
        engine.dispose()
        cause = getattr(error, "orig", None) or error
        raise DatabaseUnavailableError(redact_url(url), cause) from error
    return Database(engine)

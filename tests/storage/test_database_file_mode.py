"""A SQLite database holds prompts, voter ids and IP hashes: only its owner may read it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from glassarena.storage.database import open_database


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common umask 022, under which SQLite created every file 0644 (world-readable)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_its_wal_files_are_created_private(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "arena.db"
    database = open_database(f"sqlite:///{path}")
    try:
        with database.transaction() as connection:
            connection.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            connection.execute(sa.text("INSERT INTO probe VALUES (1)"))
        files = [path, tmp_path / "arena.db-wal", tmp_path / "arena.db-shm"]
        assert all(file.exists() for file in files)
        assert {file.name: oct(_mode(file)) for file in files} == {
            file.name: "0o600" for file in files
        }
    finally:
        database.dispose()


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "shared.db"
    open_database(f"sqlite:///{path}").dispose()
    path.chmod(0o640)  # e.g. readable by a backup group, on purpose
    open_database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o640

"""Every storage test runs on SQLite (a temporary file) and on the real PostgreSQL server."""

from __future__ import annotations

import pytest

from glassarena.storage.database import Database
from glassarena.storage.repository import ArenaRepository


@pytest.fixture
def repository(database: Database) -> ArenaRepository:
    return ArenaRepository(database)

"""Fixtures for the service tests: a scripted arena on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service

from glassarena.arena.service import ArenaService
from glassarena.arena.voter import Voter
from glassarena.storage.database import Database


@pytest.fixture
def providers() -> dict[str, ScriptedProvider]:
    return {name: ScriptedProvider(f"S{index}") for index, name in enumerate(MODEL_NAMES)}


@pytest.fixture
def service(database: Database, providers: dict[str, ScriptedProvider]) -> ArenaService:
    return make_service(database, providers)


@pytest.fixture
def voter(service: ArenaService) -> Voter:
    return service.voter("voter-1", "203.0.113.7")

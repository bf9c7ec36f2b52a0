"""The server's shutdown stops the arena once."""

from __future__ import annotations

from pathlib import Path

import pytest
from arena_server import write_config
from starlette.testclient import TestClient

from glassarena.arena.service import ArenaService
from glassarena.web.app import create_app
from glassarena.web.settings import Settings


def test_shutdown_stops_generating_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: the lifespan called ArenaService.aclose() and then arena.close(), which called it
    # again (2 calls).
    calls: list[ArenaService] = []
    original = ArenaService.aclose

    async def counted(self: ArenaService) -> None:
        calls.append(self)
        await original(self)

    monkeypatch.setattr(ArenaService, "aclose", counted)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'arena.db'}",
        redis_url=None,
        config_path=write_config(tmp_path, contestants=[]),
        secret_key="test-secret-key-" + "x" * 32,
        leaderboard_interval_seconds=0.5,
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/").status_code == 200
        assert calls == []
    assert len(calls) == 1

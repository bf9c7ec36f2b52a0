"""The database going away while the arena serves, and coming back: clear errors, an
operator log line, then recovery without a restart.

The arena reaches the real PostgreSQL through a TCP relay the test cuts and restores (the
shared database server itself is never stopped).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from arena_server import (
    GENEROUS_TIMEOUTS,
    openai_contestant,
    running_arena,
    sse_events,
    write_config,
)
from tcp_proxy import TcpRelay

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = [pytest.mark.postgres]


def _battle(client: httpx.Client) -> httpx.Response:
    return client.post("/api/battles", json={"prompt": "hello"})


def test_a_database_that_goes_away_is_a_clear_503_and_the_arena_recovers(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    relay = TcpRelay("127.0.0.1", 5432)
    relayed = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    assert relayed != postgres_url
    with ModelServerDouble({"m": ScriptedModel(answer="Fine, thanks.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "m", GENEROUS_TIMEOUTS)
                for name in ("one", "two")
            ],
        )
        with (
            running_arena(tmp_path, config, database_url=relayed) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            client.get("/")
            battle_id = sse_events(_battle(client).text)[0]["battle_id"]

            relay.cut()
            with caplog.at_level(logging.ERROR, logger="glassarena"):
                refused = _battle(client)
                vote = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})
            for response in (refused, vote):
                assert response.status_code == 503, response.text
                assert "try again in a moment" in response.json()["error"]["message"]
            assert any("storage failed" in record.getMessage() for record in caplog.records)

            relay.start()
            deadline = time.monotonic() + 60
            while (
                response := client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})
            ).status_code == 503:
                assert time.monotonic() < deadline, "the arena did not recover"
                time.sleep(0.5)
            assert response.status_code == 200 and response.json()["counted"] is True
            assert _battle(client).status_code == 200
    relay.cut()

"""Redis going away while the arena serves, and coming back: clear errors, then recovery.

The test runs its own redis-server (never the machine's shared one), kills it while a real
`glassarena serve` uses it, and starts it again, empty, on the same port.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from arena_server import openai_contestant, sse_events, write_config
from redis_process import RedisProcess
from serve_process import ServeProcess

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = [pytest.mark.slow]


def _battle_and_vote(client: httpx.Client) -> httpx.Response:
    """One battle to its end, then its vote: the vote's response."""
    started = client.post("/api/battles", json={"prompt": "hello"})
    if started.status_code != 200:
        return started
    battle_id = sse_events(started.text)[0]["battle_id"]
    return client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})


def test_redis_going_away_is_a_clear_503_and_the_arena_recovers(
    tmp_path: Path, redis_server: RedisProcess
) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Fine, thanks.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "m") for name in ("one", "two")
            ],
        )
        log = tmp_path / "serve.log"
        server = ServeProcess(
            config,
            "--redis-url",
            redis_server.url,
            data_dir=tmp_path / "data",
            log=log,
            database=tmp_path / "arena.db",
            environment={"GLASSARENA_LEADERBOARD_INTERVAL_SECONDS": "0.5"},
        )
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                client.get("/")
                assert _battle_and_vote(client).status_code == 200
                board = _wait_for_board(client, votes=1)

                redis_server.stop()
                refused = client.post("/api/battles", json={"prompt": "hello"})
                assert refused.status_code == 503
                assert "try again in a moment" in refused.json()["error"]["message"]
                # The board stays up, as last computed.
                during = client.get("/leaderboard.json?category=text")
                assert during.status_code == 200 and during.json() == board
                page = client.get("/leaderboard", headers={"Accept": "text/html"})
                assert page.status_code == 200
                _wait_for_line(log, "Redis rate limiter failed")

                redis_server.start()  # back, and empty
                recovered = _retry_until_ok(lambda: _battle_and_vote(client))
                assert recovered.json()["counted"] is True
                _wait_for_board(client, votes=2)
        finally:
            server.stop()


def _wait_for_board(client: httpx.Client, votes: int, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get("/leaderboard.json?category=text")
        if response.status_code == 200 and response.json().get("votes") == votes:
            return response.json()
        time.sleep(0.2)
    raise AssertionError(f"the board never showed {votes} votes: {response.text[:300]}")


def _retry_until_ok(attempt, timeout_s: float = 30.0) -> httpx.Response:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        response = attempt()
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return response
        time.sleep(0.2)


def _wait_for_line(log: Path, text: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"no {text!r} in the server log"
        time.sleep(0.1)

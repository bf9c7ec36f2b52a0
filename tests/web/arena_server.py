"""Start a whole arena for a test: a config file, a fresh SQLite database, a live server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from live_server import LiveServer

from glassarena.web.app import create_app
from glassarena.web.settings import Settings

GENEROUS_RATE_LIMITS = {
    "battles_per_minute_per_voter": 1000,
    "battles_per_minute_per_ip": 1000,
    "new_voters_per_hour_per_ip": 100_000,
    "new_voters_per_day_per_ip": 100_000,
    "votes_per_minute_per_voter": 1000,
    "votes_per_minute_per_ip": 1000,
    "votes_per_day_per_voter": 100_000,
    "votes_per_day_per_ip": 100_000,
}


def within_one_minute_window(seconds: float) -> None:
    """Rate limits count in fixed windows aligned to the epoch minute: when fewer than
    `seconds` are left in the current one, wait for the next, so that a test's requests in
    the next `seconds` all fall in one window (else a limit of one per minute lets a second
    request through, just after the boundary)."""
    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.5)


FAST_TIMEOUTS = {"connect": 2.0, "first_token": 2.0, "idle": 1.0, "total": 10.0}
# For tests about something else than timeouts, whose battles must not fail on a busy machine.
GENEROUS_TIMEOUTS = {"connect": 10.0, "first_token": 60.0, "idle": 60.0, "total": 300.0}


def openai_contestant(
    name: str,
    base_url: str,
    upstream_model: str,
    timeouts: dict[str, float] = FAST_TIMEOUTS,
    **generation: Any,
) -> dict[str, Any]:
    """A contestant served by the OpenAI-protocol test double."""
    entry: dict[str, Any] = {
        "name": name,
        "organization": "Test Lab",
        "provider": {
            "kind": "openai",
            "model": upstream_model,
            "base_url": base_url,
            "timeouts": timeouts,
        },
    }
    if generation:
        entry["generation"] = generation
    return entry


# Paced as in the arena, on 5-ms ticks instead of 50: the tests' answers reach the page in the
# same chunks, without the tenths of a second each answer would spend waiting for its ticks.
# tests/arena/test_pacing.py checks the cadence itself.
TEST_STREAM = {"tick_ms": 5}


def write_config(directory: Path, **sections: Any) -> Path:
    sections.setdefault("rate_limits", GENEROUS_RATE_LIMITS)
    sections.setdefault("stream", TEST_STREAM)
    path = directory / "arena.yaml"
    path.write_text(yaml.safe_dump(sections, sort_keys=False))
    return path


@contextmanager
def running_arena(
    directory: Path,
    config: Path,
    redis_url: str | None = None,
    leaderboard_interval_seconds: float = 0.5,
    database_url: str | None = None,
    **more_settings: Any,
) -> Iterator[LiveServer]:
    settings = Settings(
        database_url=database_url or f"sqlite:///{directory / 'arena.db'}",
        redis_url=redis_url,
        config_path=config,
        secret_key="test-secret-key-" + "x" * 32,
        leaderboard_interval_seconds=leaderboard_interval_seconds,
        **more_settings,
    )
    with LiveServer(create_app(settings)) as server:
        yield server


def sse_events(body: str) -> list[Mapping[str, Any]]:
    """The events of a text/event-stream body."""
    events = []
    for block in body.split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events

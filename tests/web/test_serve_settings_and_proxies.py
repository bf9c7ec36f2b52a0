"""`glassarena serve` as a user runs it: settings from the environment reach the server, a
spoofed X-Forwarded-For buys no extra quota, and the access log holds no raw address."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from arena_server import GENEROUS_RATE_LIMITS, write_config
from live_server import free_port
from serve_process import ServeProcess

GLASSARENA = [sys.executable, "-m", "glassarena"]
BATTLES_PER_MINUTE_PER_IP = 3
ATTEMPTS = 6
RECORDED = {
    "name": "llmfao",
    "format": "llmfao",
    "path": "builtin:llmfao",
    "contestants": ["Claude v1", "Code Llama (13B)", "Alpaca (7B)"],
}


@dataclass
class RunningServe:
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text()

    def log_once(self, text: str, timeout: float = 10.0) -> str:
        """The log once `text` is in it: a request's line is written after its response."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log_text()):
            assert time.monotonic() < deadline, f"{text!r} never logged: {log}"
            time.sleep(0.05)
        return log


@contextmanager
def serve(directory: Path, *arguments: str, **variables: str) -> Iterator[RunningServe]:
    config = write_config(
        directory,
        rate_limits={
            **GENEROUS_RATE_LIMITS,
            "battles_per_minute_per_ip": BATTLES_PER_MINUTE_PER_IP,
        },
        recorded_sets=[RECORDED],
    )
    server = ServeProcess(
        config,
        *arguments,
        data_dir=directory / "data",
        log=directory / "serve.log",
        environment=variables,
    )
    try:
        yield RunningServe(server.url, server.log)
    finally:
        server.stop()


def spoofed_battle_starts(url: str) -> list[int]:
    """The attack: battles from one machine, each with a fresh cookie and a made-up
    X-Forwarded-For, as a tunnel or a proxy passing the header through would deliver them."""
    statuses = []
    for attempt in range(ATTEMPTS):
        with (
            httpx.Client(base_url=url, timeout=30) as client,
            client.stream(
                "POST",
                "/api/battles",
                json={"kind": "recorded"},
                headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            ) as response,
        ):
            statuses.append(response.status_code)
    return statuses


@pytest.fixture(scope="module")
def default_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServe]:
    with serve(
        tmp_path_factory.mktemp("default"), GLASSARENA_LEADERBOARD_INTERVAL_SECONDS="2.5"
    ) as running:
        yield running


def test_the_leaderboard_interval_from_the_environment_is_used(
    default_serve: RunningServe,
) -> None:
    """`serve` used to rebuild its settings without the interval and write the default (10 s)
    back into the environment, over the user's value."""
    assert "glassarena: leaderboards recomputed every 2.5 s" in default_serve.log_once(
        "leaderboards recomputed every"
    )


def test_a_spoofed_forwarded_for_buys_no_quota_by_default(default_serve: RunningServe) -> None:
    statuses = spoofed_battle_starts(default_serve.url)
    assert statuses == [200] * BATTLES_PER_MINUTE_PER_IP + [429] * (
        ATTEMPTS - BATTLES_PER_MINUTE_PER_IP
    )


def test_the_access_log_names_clients_by_hash_only(default_serve: RunningServe) -> None:
    httpx.get(default_serve.url + "/leaderboard?category=text", timeout=10)
    log = default_serve.log_once('"GET /leaderboard HTTP/1.1" 200')
    lines = [line for line in log.splitlines() if '"GET /leaderboard HTTP/1.1" 200' in line]
    assert lines, log
    assert re.search(r'client=[0-9a-f]{16} "GET /leaderboard HTTP/1\.1" 200 \d', lines[-1])
    assert "category=" not in log  # no query strings either
    # uvicorn's access log wrote `127.0.0.1:54321 - "GET / HTTP/1.1" 200`.
    assert not re.search(r"\d+\.\d+\.\d+\.\d+:\d+ - \"", log)
    assert "203.0.113." not in log


@pytest.mark.slow
def test_listing_a_proxy_believes_its_header(tmp_path: Path) -> None:
    """With loopback listed as a proxy (what uvicorn's default did for everyone), each made-up
    header is a new client with a new quota: the attack the default now prevents."""
    with serve(tmp_path, "--forwarded-allow-ips", "127.0.0.1") as running:
        assert spoofed_battle_starts(running.url) == [200] * ATTEMPTS


def test_a_bad_proxy_list_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*GLASSARENA, "serve", "--port", str(free_port()), "--forwarded-allow-ips", "*"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GLASSARENA_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "--forwarded-allow-ips" in result.stderr and "'*' would believe" in result.stderr

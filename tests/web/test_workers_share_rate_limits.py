"""`glassarena serve --workers 2 --redis-url ...`: both worker processes enforce one limit.

The test keeps connections open until it holds at least one to each worker (the kernel
tells which process owns each accepted socket), then spends the battle quota alternately
through both. Separate in-process counters would allow twice the limit; Redis allows it once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from arena_server import (
    GENEROUS_RATE_LIMITS,
    openai_contestant,
    within_one_minute_window,
    write_config,
)
from serve_process import ServeProcess

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = [pytest.mark.redis, pytest.mark.slow]

BATTLES_PER_MINUTE = 4


def _server_socket_owners(port: int) -> dict[int, int]:
    """inode -> pid of every established TCP socket on `port`, on this machine's side."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as file:
            next(file)
            for line in file:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(int(fields[9]))
    owners = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for descriptor in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
                if target.startswith("socket:["):
                    inode = int(target[8:-1])
                    if inode in inodes:
                        owners[inode] = int(pid)
        except OSError:
            continue
    return owners


@pytest.fixture
def two_workers(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, int]]:
    with ModelServerDouble({"m": ScriptedModel(answer="Fine.")}) as double:
        config = write_config(
            tmp_path,
            rate_limits={
                **GENEROUS_RATE_LIMITS,
                "battles_per_minute_per_voter": BATTLES_PER_MINUTE,
            },
            contestants=[
                openai_contestant(name, double.openai_base_url, "m") for name in ("one", "two")
            ],
        )
        server = ServeProcess(
            config,
            "--workers",
            "2",
            "--redis-url",
            redis_url,
            data_dir=tmp_path / "data",
            log=tmp_path / "serve.log",
            database=tmp_path / "arena.db",
        )
        try:
            yield server.url, server.port
        finally:
            server.stop()


def test_two_workers_enforce_one_rate_limit(two_workers: tuple[str, int]) -> None:
    url, port = two_workers
    cookie = httpx.get(url + "/").cookies
    with ExitStack() as stack:
        by_worker: dict[int, httpx.Client] = {}
        for _ in range(60):
            client = stack.enter_context(httpx.Client(base_url=url, cookies=cookie, timeout=30))
            client.get("/static/css/app.css")  # opens (and keeps) this client's connection
            owners = _server_socket_owners(port)
            for pid in set(owners.values()) - set(by_worker):
                by_worker[pid] = client
            if len(by_worker) >= 2:
                break
        assert len(by_worker) >= 2, "could not reach both workers"
        clients = list(by_worker.values())[:2]

        within_one_minute_window(15)
        statuses = []
        for attempt in range(3 * BATTLES_PER_MINUTE):
            response = clients[attempt % 2].post("/api/battles", json={"prompt": "hi"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert "Too many battles" in response.json()["error"]["message"]
                assert int(response.headers["retry-after"]) >= 1
    assert statuses.count(200) == BATTLES_PER_MINUTE, statuses
    assert statuses.count(429) == 2 * BATTLES_PER_MINUTE, statuses

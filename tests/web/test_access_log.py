"""The access log names a client by the same keyed hash the arena stores and limits by: IPv6
clients grouped by the configured prefix (rate_limits.ipv6_prefix), not the default one."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from arena_server import GENEROUS_RATE_LIMITS, write_config
from live_server import LiveServer

from glassarena.arena.voter import IpHasher
from glassarena.web.app import create_app
from glassarena.web.settings import Settings

SECRET = "test-secret-key-" + "x" * 32
# One /48 network, two different /56 networks inside it.
CLIENTS = ("2001:db8:5:100::1", "2001:db8:5:200::2")


def test_ipv6_clients_are_grouped_by_the_configured_prefix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, rate_limits={**GENEROUS_RATE_LIMITS, "ipv6_prefix": 48})
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'arena.db'}",
        config_path=config,
        secret_key=SECRET,
        access_log=True,
        # Behind a proxy on loopback, which names the IPv6 clients in X-Forwarded-For.
        forwarded_allow_ips="127.0.0.1",
    )
    with (
        caplog.at_level(logging.INFO, logger="glassarena.access"),
        LiveServer(create_app(settings)) as server,
    ):
        for client in CLIENTS:
            response = httpx.get(
                server.url + "/leaderboard", headers={"X-Forwarded-For": client}, timeout=30
            )
            assert response.status_code == 200
    logged = [
        match.group(1)
        for record in caplog.records
        if record.name == "glassarena.access"
        and (match := re.search(r'client=([0-9a-f]+) "GET /leaderboard ', record.getMessage()))
    ]
    grouped = IpHasher(SECRET, ipv6_prefix=48).hash(CLIENTS[0])[:16]
    assert logged == [grouped, grouped]
    # With the default grouping (/56) the two would have been two clients.
    assert IpHasher(SECRET).hash(CLIENTS[1])[:16] != grouped

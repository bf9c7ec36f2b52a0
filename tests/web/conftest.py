"""A real arena server on a free port, and a real headless Chromium to drive it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_process import RedisProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/openai_test_server.py

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def redis_server(tmp_path: Path, redis_server_binary: str) -> Iterator[RedisProcess]:
    """A Redis of the test's own, which the test may stop and start (never the shared one)."""
    server = RedisProcess(tmp_path / "redis.log")
    yield server
    server.stop()

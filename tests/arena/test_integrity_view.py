"""The integrity view never keeps a page waiting for its first reading: on a big arena that
reading is a pass over every battle and vote, seconds to minutes after a restart."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from test_retirement import MODELS, SECRET, _config, _vote

from glassarena.arena.bootstrap import build_arena
from glassarena.arena.config import load_config
from glassarena.arena.integrity import IntegrityView
from glassarena.storage.database import Database
from glassarena.storage.integrity import ActivityWindow, IntegrityStore, VersionActivity


class SlowStore(IntegrityStore):
    """Its readings of the battles wait until `release` is set."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.release = threading.Event()

    def version_activities(self, windows: Sequence[ActivityWindow]) -> list[list[VersionActivity]]:
        assert self.release.wait(30)
        return super().version_activities(windows)


async def test_a_page_gets_a_pending_state_until_the_first_reading_is_done(
    tmp_path: Path, database_url: str
) -> None:
    config = load_config(_config(tmp_path, MODELS))
    arena = build_arena(config, database_url, secret_key=SECRET)
    try:
        ids = [arena.service.roster.get(name).version_id for name in MODELS]
        _vote(arena.service.repository, ids, 20)
        slow = SlowStore(arena.database)
        view = IntegrityView(
            slow,
            arena.service.repository,
            lambda: arena.service.roster,
            arena.sampling,
            config.integrity,
            first_wait_seconds=0.05,
        )

        pending = view.state()
        assert not pending.ready and pending.report["pending"] is True
        # What costs nothing to know is there: the configured models and who made them.
        assert set(pending.standing) == set(MODELS)
        assert pending.standing["Alpaca (7B)"].organization == "Stanford"
        assert {standing.status for standing in pending.standing.values()} == {"active"}

        slow.release.set()
        deadline = time.monotonic() + 30
        while not (ready := view.state()).ready:
            assert time.monotonic() < deadline, "the first reading never finished"
            await asyncio.sleep(0.01)
        assert "pending" not in ready.report
        assert sum(standing.counted_votes for standing in ready.standing.values()) == 2 * 20
        assert ready.report["shares"]["all"]["counted_vote_appearances"] == 2 * 20
    finally:
        await arena.close()


class CountingStore(IntegrityStore):
    """Each reading takes `seconds` and is counted."""

    def __init__(self, database: Database, seconds: float) -> None:
        super().__init__(database)
        self.seconds = seconds
        self.readings = 0

    def version_activities(self, windows: Sequence[ActivityWindow]) -> list[list[VersionActivity]]:
        self.readings += 1
        time.sleep(self.seconds)
        return super().version_activities(windows)


async def test_readings_that_take_long_are_spaced_out(tmp_path: Path, database_url: str) -> None:
    """Pages asking every few milliseconds do not keep a core busy re-reading: the next
    reading waits `READ_SPACING` times as long as the last one took."""
    config = load_config(_config(tmp_path, MODELS))
    arena = build_arena(config, database_url, secret_key=SECRET)
    try:
        store = CountingStore(arena.database, seconds=0.2)
        view = IntegrityView(
            store,
            arena.service.repository,
            lambda: arena.service.roster,
            arena.sampling,
            config.integrity,
            keep_seconds=0.0,
        )
        deadline = time.monotonic() + 30
        while not view.state().ready:
            assert time.monotonic() < deadline, "the first reading never finished"
            await asyncio.sleep(0.01)
        # Pages for one second: without spacing, keep_seconds=0 would re-read all along.
        until = time.monotonic() + 1.0
        while time.monotonic() < until:
            view.state()
            await asyncio.sleep(0.01)
        assert store.readings == 1
    finally:
        await arena.close()

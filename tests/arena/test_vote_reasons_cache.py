"""The board's reason summary is read again exactly when new reasons were stored."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

from scripted_arena import make_service

from glassarena.arena.service import BattleRequest
from glassarena.storage.database import Database, open_database
from glassarena.storage.vote_reasons import VoteReasonStore, WinnerReasons, counted_wins_query
from glassarena.vocabulary import VoteReason, Winner
from glassarena.web.vote_reasons_view import ReasonSummaryCache


async def test_the_summary_follows_new_reasons_and_is_kept_otherwise(
    database: Database, providers
) -> None:
    service = make_service(database, providers)
    voter = service.voter("v", "192.0.2.9")
    cache = ReasonSummaryCache()
    assert cache.summaries(service.vote_reasons, "text") == {}
    for _ in range(2):
        live = await service.start(voter, BattleRequest(prompt="Hi?"))
        async for _event in live.events():
            pass
        service.vote(voter, live.battle_id, Winner.MODEL_A)
        service.give_reasons(voter, live.battle_id, ["clearer"], None)
        summaries = cache.summaries(service.vote_reasons, "text")
        assert cache.summaries(service.vote_reasons, "text") is summaries  # kept
    assert sum(summary.votes for summary in summaries.values()) == 2


def test_requests_arriving_during_a_read_wait_for_it_instead_of_reading_again() -> None:
    """At 10,000,000 votes every leaderboard request that came in while the summary was read
    started the same minutes-long query again; now one read serves them all."""
    started, release = threading.Event(), threading.Event()
    reads = []

    class SlowStore:
        def latest(self) -> int:
            return 7

        def of_counted_wins(self, category: str) -> list[WinnerReasons]:
            reads.append(category)
            started.set()
            assert release.wait(30)
            return [WinnerReasons("model-x", (VoteReason.CLEARER,), False)]

    cache = ReasonSummaryCache()
    store = cast(VoteReasonStore, SlowStore())
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(cache.summaries, store, "text")
        assert started.wait(30)
        waiting = [pool.submit(cache.summaries, store, "text") for _ in range(3)]
        release.set()
        results = [first.result(30), *(future.result(30) for future in waiting)]
    assert reads == ["text"]
    assert all(result is results[0] for result in results)
    assert results[0]["model-x"].votes == 1


def test_the_summary_query_starts_from_the_stored_reasons_on_sqlite(tmp_path: Path) -> None:
    """Not from the index on `counted` (every vote) nor from the battles (every battle)."""
    database = open_database(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        statement = counted_wins_query("text").compile(
            database.engine, compile_kwargs={"literal_binds": True}
        )
        with database.engine.connect() as connection:
            plan = [
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
            ]
    finally:
        database.dispose()
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert "FOR IN-OPERATOR" in plan[1] and "vote_reasons" in plan[1], plan
    assert plan[0].startswith("SEARCH votes") and "rowid=?" in plan[0], plan

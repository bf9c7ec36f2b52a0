"""The board's reason summary is read again exactly when new reasons were stored."""

from __future__ import annotations

from scripted_arena import make_service

from glassarena.arena.service import BattleRequest
from glassarena.storage.database import Database
from glassarena.vocabulary import Winner
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

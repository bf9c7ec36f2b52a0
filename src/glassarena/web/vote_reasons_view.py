"""The leaderboard's "why people voted" block: per model, the reasons given with the counted
votes that preferred it, in the page and the JSON of each category's board.

A summary is computed once per category and kept until a new set of reasons is stored (the
newest row id, one index lookup per view, says so), so a board view does not re-read every
reason. The ratings never see them.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from fastapi import Request

from glassarena.arena.service import ArenaService
from glassarena.arena.vote_reasons import ReasonSummary, summarise
from glassarena.storage.vote_reasons import VoteReasonStore


class ReasonSummaryCache:
    """The last summary per category, with the newest reasons row it included."""

    def __init__(self) -> None:
        self._summaries: dict[str, tuple[int, dict[str, ReasonSummary]]] = {}
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Lock] = {}  # one read per category at a time

    def summaries(self, store: VoteReasonStore, category: str) -> dict[str, ReasonSummary]:
        latest = store.latest()
        with self._lock:
            kept = self._summaries.get(category)
            reading = self._reading.setdefault(category, threading.Lock())
        if kept is not None and kept[0] == latest:
            return kept[1]
        # Requests that arrive while the category is read wait for that read and take its
        # result, rather than each running the same query.
        with reading:
            with self._lock:
                kept = self._summaries.get(category)
            if kept is not None and kept[0] >= latest:
                return kept[1]
            # Read after `latest`: a set stored in between is included now and read again later.
            summaries = summarise(store.of_counted_wins(category))
            with self._lock:
                self._summaries[category] = (latest, summaries)
        return summaries


async def reason_summaries_for(request: Request, category: str) -> dict[str, ReasonSummary]:
    """Per model label, the summary of the reasons given with its counted wins."""
    state = request.app.state
    service: ArenaService = state.service
    # One cache per app: its arena's database, and no other, is what it summarises.
    cache: ReasonSummaryCache | None = getattr(state, "reason_summary_cache", None)
    if cache is None:
        cache = state.reason_summary_cache = ReasonSummaryCache()
    return await asyncio.to_thread(cache.summaries, service.vote_reasons, category)


def reason_summaries_json(summaries: dict[str, ReasonSummary]) -> list[dict[str, Any]]:
    return [summary.to_json() for summary in summaries.values()]

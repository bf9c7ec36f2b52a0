"""The leaderboard's "why people voted" block: per model, the reasons given with the counted
votes that preferred it, in the page and the JSON of each category's board.

Read from the stored reasons when the board is served (one aggregate query in a thread); the
ratings never see them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request

from glassarena.arena.service import ArenaService
from glassarena.arena.vote_reasons import ReasonSummary, summarise


async def reason_summaries_for(request: Request, category: str) -> dict[str, ReasonSummary]:
    """Per model label, the summary of the reasons given with its counted wins."""
    service: ArenaService = request.app.state.service
    given = await asyncio.to_thread(service.vote_reasons.of_counted_wins, category)
    return summarise(given)


def reason_summaries_json(summaries: dict[str, ReasonSummary]) -> list[dict[str, Any]]:
    return [summary.to_json() for summary in summaries.values()]

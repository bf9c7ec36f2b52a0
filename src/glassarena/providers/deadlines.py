"""Time limits on a streamed answer: until the first item, between items, and overall.

A transport's own timeouts only see single socket reads, so a server that trickles
keep-alives, or stalls after headers, would never trip them. These limits watch the items
that matter instead and turn an overrun into ProviderError("timeout").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from glassarena.providers.base import ProviderError, Timeouts

T = TypeVar("T")


class Deadlines:
    """The clock of one answer, started when the request is sent."""

    def __init__(self, timeouts: Timeouts, what: str) -> None:
        self._timeouts = timeouts
        self._what = what
        self._started = time.monotonic()
        self._received_any = False

    async def wait(self, step: Awaitable[T]) -> T:
        """Await one step of the answer within whichever limit ends first."""
        elapsed = time.monotonic() - self._started
        total_left = self._timeouts.total - elapsed
        if self._received_any:
            phase, limit = "between chunks", self._timeouts.idle
        else:
            phase, limit = "before the first token", self._timeouts.first_token - elapsed
        if total_left <= limit:
            phase, limit = "in total", total_left
        try:
            return await asyncio.wait_for(step, timeout=max(limit, 0.0))
        except TimeoutError:
            raise ProviderError(
                "timeout", f"{self._what}: no answer {phase} within the configured limit"
            ) from None

    def mark_received(self) -> None:
        """Note that answer content arrived, switching from first-token to idle limits."""
        self._received_any = True

    async def iterate(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """Yield items from an async iterator, each within the current limit."""
        while True:
            try:
                item = await self.wait(anext(items))
            except StopAsyncIteration:
                return
            yield item

"""The events of one turn while it is being generated, for any number of listeners.

Events are kept from the start of the turn, so a listener that arrives late (or reconnects)
replays everything it missed and then follows live. Generation never waits for a listener.
Each event has a position in the turn (the `battle` event is 0); a turn taken over from a
dead node starts from the events that node had published, and goes on numbering after them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

Event = dict[str, Any]


class LiveBattle:
    def __init__(
        self, battle_id: str, turn: int, prompt: str, history: Sequence[Event] = ()
    ) -> None:
        self.battle_id = battle_id
        self.turn = turn
        self.prompt = prompt
        self._events: list[Event] = list(history) or [
            {"type": "battle", "battle_id": battle_id, "turn": turn, "prompt": prompt}
        ]
        # Events before this position came from elsewhere (a taken-over turn's history).
        self._own_from = len(history)
        self._closed = False
        self._changed = asyncio.Event()
        self._ended = asyncio.Event()
        # Set when another node took this turn over: stopping it then fails nothing.
        self.superseded = False

    @property
    def closed(self) -> bool:
        return self._closed

    def emit(self, event: Event) -> None:
        if self._closed:
            raise RuntimeError(f"turn {self.turn} of battle {self.battle_id} is already complete")
        self._events.append(event)
        self._wake()

    def close(self, event: Event) -> None:
        """Emit the final event; listeners stop after it."""
        self.emit(event)
        self._closed = True
        self._ended.set()
        self._wake()

    async def wait_closed(self, timeout_s: float) -> bool:
        """Wait until the turn is complete, `timeout_s` at most; whether it is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), timeout_s)
        return self._closed

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def events(self) -> AsyncIterator[Event]:
        """Every event of the turn from its beginning, ending with the `complete` event."""
        async for _position, event in self.numbered():
            yield event

    async def numbered(self, after: int = -1) -> AsyncIterator[tuple[int, Event]]:
        """The turn's events after position `after` with their positions, then live."""
        position = after + 1
        while True:
            changed = self._changed
            while position < len(self._events):
                yield position, self._events[position]
                position += 1
            if self._closed:
                return
            await changed.wait()

    def resumes_after(self, position: int) -> int:
        """Where a listener that saw up to `position` of the turn's history resumes: there,
        if this battle holds that history; else (the history was lost) from the start."""
        return position if position < self._own_from else -1

    async def batches(self) -> AsyncIterator[tuple[int, list[Event]]]:
        """This node's events in batches as they come: (position of the first, events)."""
        position = self._own_from
        while True:
            changed = self._changed
            if position < len(self._events):
                batch = self._events[position:]
                yield position, batch
                position += len(batch)
                continue
            if self._closed:
                return
            await changed.wait()

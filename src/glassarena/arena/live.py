"""The events of one turn while it is being generated, for any number of listeners.

Events are kept from the start of the turn, so a listener that arrives late (or reconnects)
replays everything it missed and then follows live. Generation never waits for a listener.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

Event = dict[str, Any]


class LiveBattle:
    def __init__(self, battle_id: str, turn: int, prompt: str) -> None:
        self.battle_id = battle_id
        self.turn = turn
        self.prompt = prompt
        self._events: list[Event] = [
            {"type": "battle", "battle_id": battle_id, "turn": turn, "prompt": prompt}
        ]
        self._closed = False
        self._changed = asyncio.Event()

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
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def events(self) -> AsyncIterator[Event]:
        """Every event of the turn from its beginning, ending with the `complete` event."""
        position = 0
        while True:
            changed = self._changed
            while position < len(self._events):
                yield self._events[position]
                position += 1
            if self._closed:
                return
            await changed.wait()

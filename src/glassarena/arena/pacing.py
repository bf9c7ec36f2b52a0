"""Deliver both sides of a turn in word-aligned chunks on one shared clock.

A provider's stream is a fingerprint: one event per token exposes the token count, the
tokenizer's word splits and the model's speed. The pacer buffers each side's text and
releases it so that what a listener sees depends on the text alone:

- Chunk boundaries are a pure function of the text (`next_cut`): the first chunk is the
  first word, every later chunk is the shortest run of whole words of at least
  `chunk_chars` characters (a word longer than four chunks is cut there). How the provider
  split its tokens never shows.
- Chunks leave on one cadence shared by both sides. The first tick fires as soon as every
  side has its first word (or has finished), so both sides start together; later ticks are
  `tick_seconds` apart on a fixed grid.
- Sides move in lockstep: a tick releases chunks only if every side still generating has
  one ready, so the faster model waits for the slower and both sides' events carry the same
  times, even after one has finished (until the other finishes too).
- When a side's generation ends (`end()`), its remaining text is flushed at the cadence;
  `delivered()` returns once all of it is out, so `done` always follows the last chunk.

What still shows: the answer's length (it is in the final text anyway) and, when the
slower model is slower than the cadence, its pace in ticks (shared by both sides, so it does
not say which side is slower).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from glassarena.arena.live import Event

# A word longer than this many chunks (a long URL, minified code) is cut, so a side cannot
# stall the cadence by never sending whitespace.
LONGEST_CHUNK_IN_CHUNKS = 4


@dataclass(frozen=True, slots=True)
class StreamPacing:
    """How text reaches listeners; `paced=False` sends each provider delta as it comes."""

    paced: bool = True
    tick_seconds: float = 0.05
    chunk_chars: int = 24

    def __post_init__(self) -> None:
        if self.tick_seconds <= 0 or self.chunk_chars < 1:
            raise ValueError("tick_seconds must be positive and chunk_chars at least 1")


def next_cut(text: str, start: int, min_chars: int, max_chars: int, final: bool) -> int | None:
    """Where the chunk beginning at `start` ends, or None if `text` does not tell yet.

    A chunk ends where a run of whitespace begins after a word, at least `min_chars` after
    `start`; failing that, `max_chars` after `start`. Whether such a boundary exists at `i`
    depends only on the characters at `i - 1` and `i`, so text arriving later never moves a
    cut: the chunks are the same however the text was split on its way in. With `final`
    the text is complete and its end closes the last chunk.
    """
    end = len(text)
    if start >= end:
        return None
    last = min(start + max_chars, end - 1)
    for index in range(max(start + min_chars, start + 1), last + 1):
        if text[index].isspace() and not text[index - 1].isspace():
            return index
    if end > start + max_chars:
        return start + max_chars
    return end if final else None


def word_chunks(text: str, chunk_chars: int) -> Iterator[str]:
    """The chunks a paced stream delivers for the complete `text`, in order."""
    start = 0
    while (cut := _cut(text, start, chunk_chars, first=start == 0, final=True)) is not None:
        yield text[start:cut]
        start = cut


def _cut(text: str, start: int, chunk_chars: int, *, first: bool, final: bool) -> int | None:
    min_chars = 1 if first else chunk_chars  # the first word alone: the answer shows early
    return next_cut(text, start, min_chars, LONGEST_CHUNK_IN_CHUNKS * chunk_chars, final)


class TurnStream(Protocol):
    """Where one turn's generated text goes on its way to the listeners."""

    def write(self, side: str, text: str) -> None:
        """Text the provider produced for `side`."""
        ...

    def end(self, side: str) -> None:
        """The side's generation is over: whatever it wrote may now be delivered in full."""
        ...

    async def delivered(self, side: str) -> None:
        """Returns once every character the side wrote has been delivered."""
        ...


Emit = Callable[[Event], None]


class UnpacedStream:
    """Every provider delta becomes an event at once (the behaviour before pacing)."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit

    def write(self, side: str, text: str) -> None:
        self._emit({"type": "delta", "side": side, "text": text})

    def end(self, side: str) -> None:
        return None

    async def delivered(self, side: str) -> None:
        return None


@dataclass
class _Side:
    pending: str = ""  # written, not yet delivered
    started: bool = False  # a first chunk has been delivered
    generating: bool = True
    delivered: asyncio.Event = field(default_factory=asyncio.Event)

    def ready_cut(self, chunk_chars: int) -> int | None:
        final = not self.generating
        return _cut(self.pending, 0, chunk_chars, first=not self.started, final=final)

    @property
    def drained(self) -> bool:
        return not self.generating and not self.pending


class PacedStream:
    """Buffers the sides of one turn and releases them on a shared cadence (see module)."""

    def __init__(self, sides: Sequence[str], emit: Emit, pacing: StreamPacing) -> None:
        self._emit = emit
        self._pacing = pacing
        self._sides = {side: _Side() for side in sides}
        self._changed = asyncio.Event()

    def write(self, side: str, text: str) -> None:
        state = self._sides[side]
        if not state.generating:
            raise RuntimeError(f"side {side} wrote after its generation ended")
        state.pending += text
        self._changed.set()

    def end(self, side: str) -> None:
        state = self._sides[side]
        state.generating = False
        if state.drained:  # nothing was ever written: there is nothing to pace
            state.delivered.set()
        self._changed.set()

    async def delivered(self, side: str) -> None:
        await self._sides[side].delivered.wait()

    async def run(self) -> None:
        """The clock: runs until every side has been delivered (or it is cancelled)."""
        loop = asyncio.get_running_loop()
        tick = self._pacing.tick_seconds
        origin: float | None = None
        while True:
            await self._until(lambda: bool(self._releasable()) or self._all_drained())
            if self._all_drained():
                return
            if origin is None:
                origin = loop.time()  # the first chunks leave at once, together
            else:
                # The next point of the grid: release times say nothing finer than the tick.
                ticks = math.floor((loop.time() - origin) / tick) + 1
                await asyncio.sleep(origin + ticks * tick - loop.time())
            self._release(self._releasable())

    def stop(self) -> None:
        """The turn is over (or abandoned): nobody waits for a delivery that will not come."""
        for state in self._sides.values():
            state.delivered.set()

    def _all_drained(self) -> bool:
        return all(state.drained for state in self._sides.values())

    def _releasable(self) -> dict[str, int]:
        """Side -> end of the chunk it releases now: nothing until every side still
        generating has a chunk ready (lockstep), then every side that has one."""
        chunk_chars = self._pacing.chunk_chars
        cuts = {side: state.ready_cut(chunk_chars) for side, state in self._sides.items()}
        if any(cuts[side] is None for side, state in self._sides.items() if state.generating):
            return {}
        return {side: cut for side, cut in cuts.items() if cut is not None}

    def _release(self, cuts: dict[str, int]) -> None:
        for side, cut in cuts.items():
            state = self._sides[side]
            chunk, state.pending = state.pending[:cut], state.pending[cut:]
            state.started = True
            self._emit({"type": "delta", "side": side, "text": chunk})
            if state.drained:
                state.delivered.set()

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._changed.clear()
            await self._changed.wait()


@asynccontextmanager
async def turn_stream(
    sides: Sequence[str], emit: Emit, pacing: StreamPacing
) -> AsyncIterator[TurnStream]:
    """The stream for one turn; a paced one runs its clock while the context is open."""
    if not pacing.paced:
        yield UnpacedStream(emit)
        return
    stream = PacedStream(sides, emit, pacing)
    clock = asyncio.create_task(stream.run(), name="glassarena pacing")
    try:
        yield stream
    finally:
        clock.cancel()
        await asyncio.gather(clock, return_exceptions=True)
        stream.stop()

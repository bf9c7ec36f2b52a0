"""A turn being generated on one node, followed and, if that node dies, taken over by another.

With several nodes behind a load balancer, a client that reconnects to a battle's stream may
reach any node. The node generating a turn therefore publishes its events, as they come, to
a Redis stream keyed by the battle (entry ids `<turn>-<position>`, the same positions the
node's own `LiveBattle` gives them, so an SSE `Last-Event-ID` means the same on every node),
and holds a lease on the battle's generation that it renews every third of `lease_s`.

Another node follows the turn from that stream. When nothing arrives and the lease has been
gone twice, `lease_s / 2` apart (a live node renews it well within that, even after a Redis
restart emptied it), the generating node is taken for dead, and the following node takes the
lease (one `SET NX`: one node wins) and restarts the turn: answers that node had stored keep
their text, unfinished ones are generated again from the start. The stream says so with a
second `battle` event for the same turn, `restarted: true` and a notice, on which clients
start the turn over. A node that finds its lease taken by another (it was cut off from Redis
for longer than the lease) stops generating that turn.

Redis going away degrades, it does not break: publishing stops for that turn (followers fall
back to waiting for the database) and nobody takes over while the lease cannot be read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from glassarena.arena.live import Event, LiveBattle

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

LEASE_S = 15.0
# A turn's stream outlives the turn long enough for any reconnect; the database has the rest.
KEEP_S = 3_600
READ_BLOCK_S = 2.0

# KEYS: the lease. ARGV: this node's token, lease in ms. Renews the lease if it is this
# node's or nobody's (Redis restarted empty); 0 when another node holds it.
_RENEW_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def node_name() -> str:
    """Names this process in leases and log lines: host, process and a random suffix."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


def event_id(turn: int, position: int) -> str:
    return f"{turn}-{position}"


def parse_event_id(value: str | None) -> tuple[int, int] | None:
    """(turn, position) from an id this module gave; None for anything else."""
    if not value:
        return None
    turn, _, position = value.strip().partition("-")
    if not (turn.isdigit() and position.isdigit()):
        return None
    return int(turn), int(position)


class SharedTurns:
    """Turns published to, followed through and leased in Redis, for every node alike."""

    def __init__(self, client: Redis, prefix: str, node: str, lease_s: float = LEASE_S) -> None:
        self._client = client
        self._prefix = prefix
        self.node = node
        self.lease_s = lease_s
        self._renew = client.register_script(_RENEW_SCRIPT)
        self._release = client.register_script(_RELEASE_SCRIPT)

    def _stream(self, battle_id: str) -> str:
        return f"{self._prefix}turn:{battle_id}"

    def _lease(self, battle_id: str) -> str:
        return f"{self._prefix}generating:{battle_id}"

    @property
    def _lease_ms(self) -> int:
        return max(int(self.lease_s * 1000), 1)

    async def publish(self, live: LiveBattle) -> None:
        """Copy the turn's events to its stream as they come, until the turn ends."""
        key = self._stream(live.battle_id)
        async for first, events in live.batches():
            if live.superseded:
                return  # the node that took the turn over publishes it now
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for offset, event in enumerate(events):
                        entry = event_id(live.turn, first + offset)
                        pipe.xadd(key, {"e": json.dumps(event)}, id=entry)
                    pipe.expire(key, KEEP_S)
                    await pipe.execute()
            except RedisError as error:
                # A gap would corrupt the answers of whoever follows: stop here, and let
                # followers wait for the database instead.
                logger.error(
                    "battle %s: events no longer shared through Redis: %s", live.battle_id, error
                )
                return

    async def hold(self, live: LiveBattle, lost: Callable[[], None]) -> None:
        """Hold the battle's generation lease while its turn runs; `lost()` if another node
        took it. Ends with the turn (not only when cancelled: a cancellation that arrives
        inside a Redis call may be swallowed by the client)."""
        battle_id = live.battle_id
        key = self._lease(battle_id)
        try:
            # This node opened the turn (the database said so): the lease is its own, whatever
            # an earlier turn's holder left behind.
            try:
                await self._client.set(key, self.node, px=self._lease_ms)
            except RedisError as error:
                logger.warning("battle %s: generation lease not taken: %s", battle_id, error)
            while not await live.wait_closed(self.lease_s / 3):
                try:
                    mine = await self._renew(keys=[key], args=[self.node, self._lease_ms])
                except RedisError as error:
                    logger.warning("battle %s: generation lease not renewed: %s", battle_id, error)
                else:
                    if not mine:
                        logger.warning("battle %s: taken over by another node", battle_id)
                        lost()
                        return
        finally:
            # If it cannot be given up, it expires by itself.
            with contextlib.suppress(RedisError, asyncio.CancelledError):
                await asyncio.shield(self.release(battle_id))

    async def release(self, battle_id: str) -> None:
        """Give the lease up, if it is still this node's."""
        await self._release(keys=[self._lease(battle_id)], args=[self.node])

    async def holder(self, battle_id: str) -> str | None:
        raw = await self._client.get(self._lease(battle_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def take(self, battle_id: str) -> bool:
        """Take the lease of a battle nobody holds; True for exactly one node."""
        return bool(
            await self._client.set(self._lease(battle_id), self.node, nx=True, px=self._lease_ms)
        )

    async def history(self, battle_id: str, turn: int) -> list[Event]:
        """The turn's events published so far, in order (from position 0, if it is there)."""
        entries: Any = await self._client.xrange(
            self._stream(battle_id), min=event_id(turn, 0), max=f"{turn}-{_LAST_POSITION}"
        )
        events: list[Event] = []
        for entry_turn, position, event in _entries(entries):
            if entry_turn != turn or position != len(events):
                return []  # the beginning is missing (the stream was lost): not usable
            events.append(event)
        return events

    async def follow(
        self, battle_id: str, turn: int, after: int
    ) -> AsyncIterator[tuple[int, Event]]:
        """The turn's events after position `after`, as published, waiting `READ_BLOCK_S`
        at most for new ones (then ends, so the caller can look at the battle)."""
        key = self._stream(battle_id)
        # Exclusive: after the given position, or after everything of the turns before.
        last = event_id(turn, after) if after >= 0 else f"{turn - 1}-{_LAST_POSITION}"
        answer: Any = await self._client.xread(
            {key: last}, block=int(READ_BLOCK_S * 1000), count=500
        )
        # RESP2 answers [[key, entries]], RESP3 {key: entries}.
        streams = answer.items() if isinstance(answer, dict) else answer or ()
        for _key, entries in streams:
            for entry_turn, position, event in _entries(entries):
                if entry_turn != turn:
                    return
                yield position, event


_LAST_POSITION = 2**64 - 1  # the largest sequence number a Redis stream id can have


def _entries(entries: Any) -> Iterator[tuple[int, int, Event]]:
    """(turn, position, event) of each stream entry Redis returned."""
    for raw_id, fields in entries:
        text = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        turn, _, position = text.partition("-")
        yield int(turn), int(position), json.loads(fields[b"e"])

"""Live previews for WebDev battles: turn finished answers into sandboxed apps and check them.

`WebdevPreviews.with_previews` wraps a battle's blinded event stream. When a side is done it
extracts the app from that side's answer, stores the document under a fresh random token and
adds one event for the page:

    {"type": "app", "side": "a", "frame": {<iframe attributes>} | None,
     "truncated": bool, "note": str | None}

The preview starts at once; the execution check runs afterwards on the bounded pool, and its
result is kept per (battle, turn, side) for the page to show after the vote.

Documents and results live in a `PreviewStore`: Redis when the arena has one, so that any
worker can serve any preview, else this process's memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, Protocol

from glassarena.webdev.checker import AppChecker, CheckerBusy, CheckResult
from glassarena.webdev.extract import extract_app
from glassarena.webdev.sandbox import (
    MemoryAppStore,
    SandboxPolicy,
    iframe_attributes,
    new_app_token,
)

logger = logging.getLogger(__name__)

Event = Mapping[str, Any]
SIDES = ("a", "b")
# A preview outlives its battle page by a comfortable margin; a page that comes back later
# rebuilds its previews from the stored answers under fresh tokens.
PREVIEW_TTL_SECONDS = 7 * 24 * 3600
_PENDING = "pending"


class PreviewStore(Protocol):
    async def put_app(self, html: str) -> str: ...
    async def get_app(self, token: str) -> str | None: ...
    async def claim_check(self, key: str) -> bool: ...
    async def put_check(self, key: str, record: dict[str, Any]) -> None: ...
    async def get_check(self, key: str) -> dict[str, Any] | None: ...
    async def aclose(self) -> None: ...


class InProcessPreviewStore:
    """Previews and check results in this process's memory (a single-worker arena)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._apps = MemoryAppStore(capacity)
        self._checks: dict[str, dict[str, Any] | str] = {}

    async def put_app(self, html: str) -> str:
        return self._apps.put_app(html)

    async def get_app(self, token: str) -> str | None:
        return await self._apps.get_app(token)

    async def claim_check(self, key: str) -> bool:
        if key in self._checks:
            return False
        self._checks[key] = _PENDING
        return True

    async def put_check(self, key: str, record: dict[str, Any]) -> None:
        self._checks[key] = record

    async def get_check(self, key: str) -> dict[str, Any] | None:
        record = self._checks.get(key)
        return record if isinstance(record, dict) else None

    async def aclose(self) -> None:
        self._checks.clear()


class RedisPreviewStore:
    """Previews and check results in Redis, shared by every worker, expiring after a week."""

    def __init__(self, redis_url: str, prefix: str = "glassarena:webdev") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(redis_url)
        self._prefix = prefix

    async def put_app(self, html: str) -> str:
        token = new_app_token()
        await self._redis.set(f"{self._prefix}:app:{token}", html, ex=PREVIEW_TTL_SECONDS)
        return token

    async def get_app(self, token: str) -> str | None:
        stored = await self._redis.get(f"{self._prefix}:app:{token}")
        return stored.decode() if stored is not None else None

    async def claim_check(self, key: str) -> bool:
        claimed = await self._redis.set(
            f"{self._prefix}:check:{key}", _PENDING, nx=True, ex=PREVIEW_TTL_SECONDS
        )
        return bool(claimed)

    async def put_check(self, key: str, record: dict[str, Any]) -> None:
        await self._redis.set(
            f"{self._prefix}:check:{key}", json.dumps(record), ex=PREVIEW_TTL_SECONDS
        )

    async def get_check(self, key: str) -> dict[str, Any] | None:
        stored = await self._redis.get(f"{self._prefix}:check:{key}")
        if stored is None or stored.decode() == _PENDING:
            return None
        return json.loads(stored)

    async def aclose(self) -> None:
        await self._redis.aclose()


class WebdevPreviews:
    """Adds previews to WebDev battle streams and runs their execution checks."""

    def __init__(
        self,
        store: PreviewStore,
        policy: SandboxPolicy | None = None,
        checker: AppChecker | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or SandboxPolicy()
        self.checker = checker
        self._checks: set[asyncio.Task[None]] = set()

    async def with_previews(self, events: AsyncIterable[Event]) -> AsyncIterator[Event]:
        battle_id = ""
        turn = 0
        answers: dict[str, list[str]] = {}
        async for event in events:
            yield event
            kind = event.get("type")
            if kind == "battle":
                battle_id, turn, answers = event["battle_id"], event["turn"], {}
            elif kind == "delta":
                answers.setdefault(event["side"], []).append(event["text"])
            elif kind == "done":
                answer = "".join(answers.pop(event["side"], []))
                yield await self._preview(battle_id, turn, event["side"], answer)

    async def checks(self, battle_id: str, turn: int) -> dict[str, dict[str, Any] | None]:
        """The execution-check records of one turn, None for a side not checked yet."""
        return {side: await self.store.get_check(_key(battle_id, turn, side)) for side in SIDES}

    async def wait_for_checks(self) -> None:
        """Wait for the checks under way (tests and orderly shutdown)."""
        while self._checks:
            await asyncio.gather(*list(self._checks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._checks):
            task.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)
        if self.checker is not None:
            await self.checker.close()
        await self.store.aclose()

    async def _preview(self, battle_id: str, turn: int, side: str, answer: str) -> Event:
        app = extract_app(answer)
        key = _key(battle_id, turn, side)
        if app.html is None:
            if await self.store.claim_check(key):
                await self.store.put_check(key, CheckResult.failed(app.reason or "").to_json())
            return {
                "type": "app",
                "side": side,
                "frame": None,
                "truncated": False,
                "note": app.reason,
            }
        token = await self.store.put_app(app.html)
        if await self.store.claim_check(key):
            task = asyncio.create_task(self._check(key, app.html), name=f"webdev check {key}")
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)
        frame = iframe_attributes(self.policy, token, f"App {side.upper()}", SIDES.index(side))
        return {
            "type": "app",
            "side": side,
            "frame": frame,
            "truncated": app.truncated,
            "note": app.reason,
        }

    async def _check(self, key: str, html: str) -> None:
        if self.checker is None:
            result = CheckResult.failed("not checked: this server has no Chromium")
        else:
            try:
                result = await self.checker.check(html)
            except CheckerBusy as busy:
                result = CheckResult.failed(f"not checked: {busy}")
            except Exception:
                logger.exception("execution check %s failed", key)
                result = CheckResult.failed("not checked: the checker failed, see server log")
        await self.store.put_check(key, result.to_json())


def _key(battle_id: str, turn: int, side: str) -> str:
    return f"{battle_id}:{turn}:{side}"


def build_previews(
    redis_url: str | None, chromium_path: str | None, policy: SandboxPolicy | None = None
) -> WebdevPreviews:
    """Previews for an arena: Redis-backed when it has Redis; checked when Chromium exists.

    The checker launches Chromium on its first check, not before.
    """
    store: PreviewStore = RedisPreviewStore(redis_url) if redis_url else InProcessPreviewStore()
    active = policy or SandboxPolicy()
    checker = AppChecker(chromium_path, active) if chromium_path else None
    return WebdevPreviews(store, active, checker)

"""Live previews for WebDev battles: turn finished answers into sandboxed apps.

`WebdevPreviews.with_previews` wraps a battle's blinded event stream. When a side is done it
extracts the app from that side's answer (in a follow-up turn, as an edit of the app of its
earlier answers), builds the document the sandbox runs for the app's stack, stores it under a
fresh random token and adds one event for the page:

    {"type": "app", "side": "a", "frame": {<iframe attributes>} | None,
     "truncated": bool, "note": str | None[, "stack": <the WebdevStack it is written in>]}

When the turn starts, each side also gets a frame started before its app is written, so the
stack's runtimes load (and Pyodide boots) while the answer streams:

    {"type": "app-boot", "side": "a", "frame": {<iframe attributes>}}

and the side's app event then carries `"boot": <the app, for the page to post into that
frame>` when that frame can run it (`harness.boot_payload`); its `frame` is the app's own
document, which a reload (or a page that missed the start) loads from scratch.

A React or Vue app is compiled on the server first (`AppCompiler`, when the arena has
Chromium), so its page only runs it; the compiler starts with the first such battle, and each
compile starts while the answer streams, once a code block of it has closed, so it is usually
done when the answer is. The execution check is not run here: the server runs it for every
finished answer, whether or not a client follows the stream (`glassarena.webdev.checks`).

Documents live in a `PreviewStore`: Redis when the arena has one, so that any worker can
serve any preview, else this process's memory.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from redis.exceptions import RedisError

from glassarena.vocabulary import SIDES, WebdevStack
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.extract import ExtractedProject, extract_turns
from glassarena.webdev.harness import (
    BOOTED_STACKS,
    boot_document_is_compiled,
    boot_payload,
    build_boot_document,
    build_document,
    loads_compiled,
)
from glassarena.webdev.runtimes import COMPILED_RUNTIMES
from glassarena.webdev.sandbox import (
    MemoryAppStore,
    SandboxPolicy,
    iframe_attributes,
    new_app_token,
    pack_document,
)

logger = logging.getLogger(__name__)
Event = Mapping[str, Any]
# A preview outlives its battle page by a comfortable margin; a page that comes back later
# rebuilds its previews from the stored answers under fresh tokens.
PREVIEW_TTL_SECONDS = 7 * 24 * 3600


class PreviewStore(Protocol):
    async def put_app(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> str: ...
    async def get_app(self, token: str) -> str | None: ...
    async def aclose(self) -> None: ...


class InProcessPreviewStore:
    """Previews in this process's memory (a single-worker arena)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._apps = MemoryAppStore(capacity)

    async def put_app(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> str:
        return self._apps.put_app(html, stack, compiled)

    async def get_app(self, token: str) -> str | None:
        return await self._apps.get_app(token)

    async def aclose(self) -> None:
        return None


class RedisPreviewStore:
    """Previews in Redis, shared by every worker, expiring after a week."""

    def __init__(self, redis_url: str, prefix: str = "glassarena:webdev") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(redis_url)
        self._prefix = prefix

    async def put_app(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> str:
        token = new_app_token()
        stored = pack_document(html, stack, compiled)
        await self._redis.set(f"{self._prefix}:app:{token}", stored, ex=PREVIEW_TTL_SECONDS)
        return token

    async def get_app(self, token: str) -> str | None:
        stored = await self._redis.get(f"{self._prefix}:app:{token}")
        return stored.decode() if isinstance(stored, bytes) else stored

    async def aclose(self) -> None:
        await self._redis.aclose()


class WebdevPreviews:
    """Adds sandboxed app previews to WebDev battle streams."""

    def __init__(
        self,
        store: PreviewStore,
        policy: SandboxPolicy | None = None,
        compiler: AppCompiler | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or SandboxPolicy()
        self.compiler = compiler

    async def with_previews(
        self,
        events: AsyncIterable[Event],
        stack: WebdevStack | None = None,
        earlier: Mapping[str, Sequence[str]] | None = None,
        sides: Sequence[str] = SIDES,
    ) -> AsyncIterator[Event]:
        """`events` with a started frame per side after each `battle` event and an app event
        after each side's `done`. `stack` is the stack the battle asked for; `earlier` holds
        each side's answers of the turns before this one, oldest first, whose app this turn's
        answer edits; `sides` are the battle's sides."""
        answers: dict[str, list[str]] = {}
        closed: dict[str, int] = {}  # code fences seen so far in each side's answer
        async for event in events:
            yield event
            kind = event.get("type")
            if kind == "battle":
                answers, closed = {}, {}
                if self.compiler is not None and stack in COMPILED_RUNTIMES:
                    self.compiler.start_soon()
                if stack is not None and self._can_boot(stack):
                    for side in sides:
                        if started := await self._boot(side, stack):
                            yield started
            elif kind == "delta":
                side = event["side"]
                answers.setdefault(side, []).append(event["text"])
                if self.compiler is not None and "`" in event["text"]:
                    _compile_ahead(self.compiler, answers[side], stack, earlier, side, closed)
            elif kind == "done":
                side = event["side"]
                answer = "".join(answers.pop(side, []))
                history = [*(earlier or {}).get(side, ()), answer]
                yield await self._preview(side, extract_turns(history, stack)[-1])

    async def aclose(self) -> None:
        if self.compiler is not None:
            await self.compiler.close()
        await self.store.aclose()

    def _can_boot(self, stack: WebdevStack) -> bool:
        # A started React or Vue frame runs only apps compiled on the server.
        return stack in BOOTED_STACKS and (
            stack not in COMPILED_RUNTIMES or self.compiler is not None
        )

    async def _boot(self, side: str, stack: WebdevStack) -> Event | None:
        document = build_boot_document(stack, self.policy.runtimes_path)
        try:
            token = await self.store.put_app(document, stack, boot_document_is_compiled(stack))
        except RedisError as error:
            logger.error("WebDev frame not started (Redis unreachable): %s", error)
            return None
        frame = iframe_attributes(self.policy, token, f"App {side.upper()}", SIDES.index(side))
        return {"type": "app-boot", "side": side, "frame": frame}

    async def _preview(self, side: str, app: ExtractedProject) -> Event:
        if app.project is None:
            return {
                "type": "app",
                "side": side,
                "frame": None,
                "truncated": False,
                "note": app.reason,
            }
        project = app.project
        compiled = await self.compiler.compile(project) if self.compiler is not None else None
        document = build_document(project, self.policy.runtimes_path, compiled)
        try:
            token = await self.store.put_app(
                document, project.stack, loads_compiled(project.stack, compiled)
            )
        except RedisError as error:
            logger.error("WebDev preview not stored (Redis unreachable): %s", error)
            return {
                "type": "app",
                "side": side,
                "frame": None,
                "truncated": app.truncated,
                "note": "The preview could not be stored; the answer's code is shown instead.",
            }
        frame = iframe_attributes(self.policy, token, f"App {side.upper()}", SIDES.index(side))
        event = {
            "type": "app",
            "side": side,
            "frame": frame,
            "truncated": app.truncated,
            "note": app.reason,
            "stack": project.stack.value,
        }
        if (payload := boot_payload(project, compiled)) is not None:
            event["boot"] = payload
        return event


def _compile_ahead(
    compiler: AppCompiler,
    parts: list[str],
    stack: WebdevStack | None,
    earlier: Mapping[str, Sequence[str]] | None,
    side: str,
    closed: dict[str, int],
) -> None:
    """Once another code block of `side`'s answer so far (`parts`) has closed, start compiling
    the app it makes; the compile of the finished answer's app then usually finds it done."""
    text = "".join(parts)
    fences = text.count("```")
    if fences % 2 or fences <= closed.get(side, 0):
        return
    closed[side] = fences
    app = extract_turns([*(earlier or {}).get(side, ()), text], stack)[-1]
    if app.project is not None:
        compiler.compile_ahead(app.project)


def build_previews(
    redis_url: str | None,
    policy: SandboxPolicy | None = None,
    compiler: AppCompiler | None = None,
) -> WebdevPreviews:
    """Previews for an arena: Redis-backed when it has Redis, so any worker serves any app."""
    store: PreviewStore = RedisPreviewStore(redis_url) if redis_url else InProcessPreviewStore()
    return WebdevPreviews(store, policy, compiler)

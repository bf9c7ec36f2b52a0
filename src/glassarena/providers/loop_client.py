"""An HTTP client cached per event loop, shared by the remote providers.

A connection pool belongs to the event loop that opened it (tests and workers may run
several loops), so a provider keeps one client and replaces it when the loop changes.
Loading the CA bundle takes tens of milliseconds, so every client shares one TLS context,
and `warm_up` builds the first client off the event loop before the first battle.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import httpx

Client = TypeVar("Client")


@functools.cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


class LoopClient(Generic[Client]):
    def __init__(
        self, build: Callable[[], Client], close: Callable[[Client], Awaitable[None]]
    ) -> None:
        self._build = build
        self._close = close
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> Client:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = self._build()
            self._loop = loop
        return self._client

    async def warm_up(self) -> None:
        client = await asyncio.to_thread(self._build)
        if self._client is None:
            self._client = client
            self._loop = asyncio.get_running_loop()
        else:
            await self._close(client)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._close(self._client)
            self._client = None

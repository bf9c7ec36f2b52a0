"""One line per request, naming the client only by a keyed hash of its address.

The README promises that IP addresses are kept only as a keyed hash; a server's access log is
kept too, so uvicorn's (which prints raw addresses) is off in `glassarena serve` and this one
takes its place. The hash is the one the database stores, shortened: enough to follow one
client through the log, and as irreversible as the stored one (the arena's own hasher, so IPv6
clients are grouped by the configured prefix, as they are for the rate limits). The query
string is left out as well.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glassarena.arena.voter import IpHasher

logger = logging.getLogger("glassarena.access")
LOGGED_HASH_CHARS = 16


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, ip_hasher: Callable[[], IpHasher]) -> None:
        """`ip_hasher` gives the arena's hasher, which exists once the app has started."""
        self.app = app
        self.ip_hasher = ip_hasher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            client = scope.get("client")
            who = self.ip_hasher().hash(client[0])[:LOGGED_HASH_CHARS] if client else "-"
            logger.info(
                'client=%s "%s %s HTTP/%s" %d %.1f ms',
                who,
                scope["method"],
                _printable(scope["path"]),
                scope.get("http_version", "1.1"),
                status,
                (time.perf_counter() - started) * 1000,
            )


def _printable(text: str) -> str:
    """The path with control characters escaped: a %0A in a URL cannot forge a log line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)

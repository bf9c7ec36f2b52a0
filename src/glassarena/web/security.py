"""Security headers on every response.

The policy forbids inline script outright, so even if sanitising ever failed, model output
placed in the page could not run. Written as plain ASGI so streamed responses pass through
untouched.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """`exempt_prefix` names a path (the WebDev sandbox) whose responses carry their own,
    different policy: this one would block a generated app's inline scripts and framing.
    `frame_sources` (the WebDev preview origins) become the page's `frame-src`, which also
    limits where a preview frame may navigate itself."""

    def __init__(
        self, app: ASGIApp, exempt_prefix: str | None = None, frame_sources: str | None = None
    ) -> None:
        self.app = app
        self.exempt_prefix = exempt_prefix
        self.headers = SECURITY_HEADERS
        if frame_sources is not None:
            policy = f"{CONTENT_SECURITY_POLICY}; frame-src {frame_sources}"
            self.headers = (
                (b"content-security-policy", policy.encode()),
                *(header for header in SECURITY_HEADERS if header[0] != b"content-security-policy"),
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exempt = self.exempt_prefix is not None and scope.get("path", "").startswith(
            self.exempt_prefix
        )
        if scope["type"] != "http" or exempt:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

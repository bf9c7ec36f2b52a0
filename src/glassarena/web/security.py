"""Security headers on every response, and no state-changing request from another site.

The policy forbids inline script outright, so even if sanitising ever failed, model output
placed in the page could not run. Written as plain ASGI so streamed responses pass through
untouched.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glassarena.web.errors import error_response

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


STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# `none`: the person started the request themselves (typed it, a bookmark); no page did.
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
CROSS_SITE_MESSAGE = (
    "This request came from another site ({reason}); battles and votes are accepted only "
    "from the arena's own pages."
)


class CrossSiteRequestGuard:
    """Refuses, with 403, a state-changing request a browser sent on behalf of another site.

    Browsers mark every request with where it came from, in headers no page can set:
    `Sec-Fetch-Site` (sent to https and localhost origins) and `Origin` (sent with every
    POST, also over plain http). A page on another site — including a WebDev preview on
    another subdomain of the arena's domain, which is "same-site" but not "same-origin" —
    is refused. A request carrying neither header did not come from a modern browser (curl,
    scripts, tests) and is let through: a browser cannot be made to omit both.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING_METHODS:
            reason = cross_site_reason(dict(scope["headers"]))
            if reason is not None:
                response = error_response(
                    403, "cross_site_request", CROSS_SITE_MESSAGE.format(reason=reason)
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def cross_site_reason(headers: dict[bytes, bytes]) -> str | None:
    """Why a request with these headers came from another site, or None when it did not."""
    fetch_site = headers.get(b"sec-fetch-site")
    if fetch_site is not None:
        site = fetch_site.decode("latin-1").strip().lower()
        return None if site in ALLOWED_FETCH_SITES else f"Sec-Fetch-Site: {site}"
    origin = headers.get(b"origin")
    if origin is None:
        return None
    origin_text = origin.decode("latin-1").strip()
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if _origin_host(origin_text) != _without_default_port(host, _origin_scheme(origin_text)):
        return f"Origin: {origin_text}"
    return None


def _origin_scheme(origin: str) -> str:
    return origin.partition("://")[0].lower()


def _origin_host(origin: str) -> str | None:
    """`host[:port]` of an origin such as `https://arena.example`; None for `null` or junk."""
    scheme, separator, rest = origin.partition("://")
    if not separator or not rest or "/" in rest:
        return None
    return _without_default_port(rest.lower(), scheme.lower())


def _without_default_port(host: str, scheme: str) -> str:
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(":" + default) and not host.endswith("]"):
        return host.removesuffix(":" + default)
    return host

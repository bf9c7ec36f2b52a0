"""The sandbox a generated app runs in: its policy, its response headers, and its own URL.

An app is served from its own URL, `/sandbox/{token}`, never through `srcdoc`: a srcdoc
frame inherits the arena page's CSP (`script-src 'self'`), which would block the app's inline
scripts, and loosening the arena page's CSP would expose the arena. The response carries a
CSP whose `sandbox` directive gives the document an opaque origin even when opened directly,
so it can read no arena cookie or storage and call no arena API, while `connect-src 'none'`
and friends stop it from talking to anyone. The embedding `<iframe sandbox>` repeats the
sandbox for browsers that honour only one of the two.

The token is random (`secrets`), unguessable and unrelated to the model, the voter or the
battle, so neither the URL nor the document reveals who built the app.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

ENV_PREVIEW_ORIGINS = "GLASSARENA_PREVIEW_ORIGINS"
ENV_SANDBOX_CDNS = "GLASSARENA_SANDBOX_CDNS"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,86}$")
_CDN_ORIGIN = re.compile(
    r"^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d{1,5})?$"
)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
# Features a generated app never needs and that a hostile one could abuse.
_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), "
    "payment=(), display-capture=(), clipboard-read=(), publickey-credentials-get=(), "
    "browsing-topics=()"
)


@dataclass(frozen=True)
class SandboxPolicy:
    """What a deployment lets generated apps do. The defaults contain the app completely.

    `allowed_cdns`: https origins apps may load scripts and stylesheets from.
    `allow_forms`: lets `submit` events fire so apps with `<form onsubmit=...>` work; every
        real submission is still refused by `form-action 'none'`. Without it such apps look
        broken, which would bias votes against them.
    `allow_popups`, `allow_modals`: opt-ins for `window.open` and `alert()`/`confirm()`.
    `origins`: where previews are served from, side A from the first, side B from the
        second (one origin serves both); () for the arena's own origin. Chromium gives
        sandboxed frames their own renderer but groups them by site, so two apps on one
        site share a process: an app that spins or exhausts memory then freezes or kills
        the other side too. Two origins on different sites (different registrable domains,
        e.g. "https://a.arena-previews.net" and "https://b.arena-apps.org") keep the two
        sides apart, and keep the arena's cookies off preview requests.
    `path_prefix`: the mount path of `sandbox_app`.

    `allow-same-origin` and `allow-top-navigation` are never offered: either would hand the
    app the arena page.
    """

    allowed_cdns: tuple[str, ...] = ()
    allow_forms: bool = True
    allow_popups: bool = False
    allow_modals: bool = False
    origins: tuple[str, ...] = ()
    path_prefix: str = "/sandbox"

    def __post_init__(self) -> None:
        for cdn in self.allowed_cdns:
            if not _CDN_ORIGIN.match(cdn):
                raise ValueError(
                    f"SandboxPolicy.allowed_cdns: {cdn!r} is not an https origin such as "
                    "'https://cdn.jsdelivr.net' (no path, wildcard or quotes)"
                )
        for origin in self.origins:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"SandboxPolicy.origins: {origin!r} is not an origin such as "
                    "'https://a.arena-previews.net'"
                )
        if not self.path_prefix.startswith("/") or self.path_prefix.endswith("/"):
            raise ValueError(
                f"SandboxPolicy.path_prefix: {self.path_prefix!r} must start with '/' "
                "and not end with one"
            )

    @property
    def sandbox_flags(self) -> tuple[str, ...]:
        flags = ["allow-scripts"]
        if self.allow_forms:
            flags.append("allow-forms")
        if self.allow_popups:
            flags.append("allow-popups")
        if self.allow_modals:
            flags.append("allow-modals")
        return tuple(flags)

    def content_security_policy(self) -> str:
        cdns = "".join(f" {cdn}" for cdn in self.allowed_cdns)
        directives = [
            f"sandbox {' '.join(self.sandbox_flags)}",
            "default-src 'none'",
            f"script-src 'unsafe-inline' 'unsafe-eval' blob:{cdns}",
            f"style-src 'unsafe-inline'{cdns}",
            "img-src data: blob:",
            "media-src data: blob:",
            "font-src data:",
            "connect-src 'none'",
            "frame-src 'none'",
            "child-src 'none'",
            "worker-src 'none'",
            "manifest-src 'none'",
            "object-src 'none'",
            "form-action 'none'",
            "base-uri 'none'",
        ]
        return "; ".join(directives)

    def response_headers(self) -> dict[str, str]:
        """Headers for the app document, shared by the preview route and the checker."""
        return {
            "content-security-policy": self.content_security_policy(),
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "permissions-policy": _PERMISSIONS_POLICY,
            "cross-origin-opener-policy": "same-origin",
            "cache-control": "private, max-age=3600",
        }

    def app_url(self, token: str, side: int = 0) -> str:
        """The address of app `token` shown on `side` (0 for A, 1 for B)."""
        origin = self.origins[side % len(self.origins)] if self.origins else ""
        return f"{origin}{self.path_prefix}/{token}"

    def frame_sources(self) -> str:
        """The `frame-src` sources the arena page's CSP needs to embed the previews.

        The embedding page's `frame-src` also governs where a preview frame may navigate
        itself, so keeping it this narrow stops an app from carrying data away by navigation.
        """
        return " ".join(self.origins) if self.origins else "'self'"


def sandbox_policy_from_environment(environ: Mapping[str, str]) -> SandboxPolicy:
    """The deployment's policy: $GLASSARENA_PREVIEW_ORIGINS (side A's origin, then side B's)
    and $GLASSARENA_SANDBOX_CDNS, each a comma-separated list; unset means neither."""
    origins = _split(environ.get(ENV_PREVIEW_ORIGINS, ""))
    cdns = _split(environ.get(ENV_SANDBOX_CDNS, ""))
    try:
        return SandboxPolicy(allowed_cdns=cdns, origins=origins)
    except ValueError as error:
        raise ValueError(f"{ENV_PREVIEW_ORIGINS} / {ENV_SANDBOX_CDNS}: {error}") from None


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())


def iframe_attributes(
    policy: SandboxPolicy, token: str, title: str, side: int = 0
) -> dict[str, str]:
    """Attributes of the `<iframe>` that embeds app `token`; the caller escapes when rendering."""
    return {
        "src": policy.app_url(token, side),
        "sandbox": " ".join(policy.sandbox_flags),
        "referrerpolicy": "no-referrer",
        "allow": "",
        "loading": "eager",
        "title": title,
    }


def new_app_token() -> str:
    """A fresh unguessable token (256 bits) naming one stored app document."""
    return secrets.token_urlsafe(32)


class AppDocumentStore(Protocol):
    """Where app documents live, by token. The arena's storage implements this."""

    async def get_app(self, token: str) -> str | None: ...


class MemoryAppStore:
    """App documents in process memory, the oldest dropped beyond `capacity`.

    For a single-process deployment and for tests; a multi-process deployment needs the
    database-backed store so that any worker can serve any preview.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"MemoryAppStore capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._documents: OrderedDict[str, str] = OrderedDict()

    def put_app(self, html: str) -> str:
        token = new_app_token()
        self._documents[token] = html
        while len(self._documents) > self._capacity:
            self._documents.popitem(last=False)
        return token

    async def get_app(self, token: str) -> str | None:
        return self._documents.get(token)


def sandbox_app(store: AppDocumentStore, policy: SandboxPolicy | None = None) -> Starlette:
    """An ASGI app serving `GET /{token}`; mount it at `policy.path_prefix`."""
    active = policy or SandboxPolicy()
    headers = active.response_headers()

    async def serve(request: Request) -> Response:
        token = request.path_params["token"]
        document = await store.get_app(token) if _TOKEN.match(token) else None
        if document is None:
            # The sandbox headers go on the error too: nothing under this path runs unconfined.
            return PlainTextResponse("No app with this address.", status_code=404, headers=headers)
        return HTMLResponse(document, headers=headers)

    app = Starlette(routes=[Route("/{token}", serve, methods=["GET", "HEAD"])])
    # Starlette's trailing-slash redirect would build its Location from the Host header.
    app.router.redirect_slashes = False
    return app

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
from typing import NamedTuple, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.runtimes import RuntimeFiles, StackSources, media_type

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
        sandboxed frames their own renderer, one per origin (measured with Chromium 156;
        older versions and other browsers group by site), so two apps on one origin share a
        process: an app that spins or exhausts memory then freezes or kills the other side
        too. Two host names, e.g. "https://a.previews.example.org" and
        "https://b.previews.example.org" (two registrable domains for browsers that group
        by site), keep the two sides apart, and keep the arena's cookies off preview
        requests. `glassarena serve` on loopback picks two itself
        (`preview_origins_for_serving`); see docs/webdev-isolation.md.
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

    @property
    def runtimes_path(self) -> str:
        """Where the sandbox serves the runtimes, on the preview origin: documents name them
        by this origin-relative path, so a preview reached under any host name finds them."""
        return f"{self.path_prefix}/runtimes"

    def content_security_policy(
        self, stack: WebdevStack = WebdevStack.HTML, origin: str = "", compiled: bool = False
    ) -> str:
        """The policy of a `stack` document served from `origin`. HTML apps bring their own
        code (and may use the deployment's CDNs); other stacks get exactly the runtimes their
        page loads (`compiled`: an app compiled on the server, whose page loads fewer), from
        `origin`'s runtime folders, and no CDN."""
        if stack is WebdevStack.HTML:
            cdns = "".join(f" {cdn}" for cdn in self.allowed_cdns)
            script = f"'unsafe-inline' 'unsafe-eval' blob:{cdns}"
            style = f"'unsafe-inline'{cdns}"
            connect = "'none'"
        else:
            sources = StackSources.of(stack, f"{origin}{self.runtimes_path}", compiled)
            script = " ".join(("'unsafe-inline'", *sources.script))
            style = "'unsafe-inline'"
            connect = " ".join(sources.connect) or "'none'"
        directives = [
            f"sandbox {' '.join(self.sandbox_flags)}",
            "default-src 'none'",
            f"script-src {script}",
            f"style-src {style}",
            "img-src data: blob:",
            "media-src data: blob:",
            "font-src data:",
            f"connect-src {connect}",
            "frame-src 'none'",
            "child-src 'none'",
            "worker-src 'none'",
            "manifest-src 'none'",
            "object-src 'none'",
            "form-action 'none'",
            "base-uri 'none'",
        ]
        return "; ".join(directives)

    def response_headers(
        self, stack: WebdevStack = WebdevStack.HTML, origin: str = "", compiled: bool = False
    ) -> dict[str, str]:
        """Headers for the app document, shared by the preview route and the checker."""
        return {
            "content-security-policy": self.content_security_policy(stack, origin, compiled),
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

    @property
    def sides_on_separate_sites(self) -> bool:
        """Whether sides A and B are served under two different host names, so that Chromium
        runs them in two renderer processes (it keys sandboxed frames' processes by origin,
        so two subdomains of one domain are enough; two ports of one host are not counted,
        since browsers that group by site ignore the port)."""
        return len(self.origins) >= 2 and _host(self.origins[0]) != _host(self.origins[1])

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


# `glassarena serve` on these addresses is reached by the voter's browser on the same
# machine, where both host names below lead to it.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
ISOLATION_DOC = "docs/webdev-isolation.md"


def preview_origins_for_serving(
    host: str, port: int, environ: Mapping[str, str]
) -> tuple[str | None, str]:
    """What `glassarena serve` on `host:port` does about preview sites: the value to give
    $GLASSARENA_PREVIEW_ORIGINS (None: leave it), and one line to show at start.

    Unset, on loopback, the arena provides two sites itself: side A on 127.0.0.1 and side B
    on localhost, the same server under two host names that are different sites. Anywhere
    else it cannot know the names voters use, so it warns with the setup to make instead.
    """
    configured = environ.get(ENV_PREVIEW_ORIGINS, "").strip()
    if not configured and host in _LOOPBACK_HOSTS:
        origins = (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
        note = (
            f"glassarena: WebDev previews: side A on {origins[0]}, side B on {origins[1]} "
            "(two sites, so one app cannot freeze or crash the other)"
        )
        return ",".join(origins), note
    policy = sandbox_policy_from_environment(environ)
    if policy.sides_on_separate_sites:
        return None, (
            f"glassarena: WebDev previews: side A on {policy.origins[0]}, "
            f"side B on {policy.origins[1]}"
        )
    where = f"${ENV_PREVIEW_ORIGINS}={configured}" if configured else f"serving on {host}"
    return None, (
        f"warning: WebDev previews of both sides share one site ({where}), so Chromium runs "
        "them in one renderer process: a CPU-burning app freezes its rival and a memory bomb "
        f"crashes both. Give each side a host name of its own: {ENV_PREVIEW_ORIGINS}="
        "https://a.previews.example.org,https://b.previews.example.org (two names pointing at "
        f"this server, not the arena's own; see {ISOLATION_DOC})"
    )


def _host(origin: str) -> str:
    return origin.partition("://")[2].rsplit(":", 1)[0].lower()


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


# A stored document of a stack other than HTML starts with this line, so the sandbox serves
# it with its stack's policy (and a compiled app's page with the narrower one of the runtimes
# it loads). An HTML document that happens to start the same way is stored marked as HTML, so
# no app can claim another stack's policy.
_STACK_MARK = "<!--glassarena-stack:"
_COMPILED = "+compiled"
_STACK_LINE = re.compile(r"<!--glassarena-stack:([a-z]+)(\+compiled)?-->\n")


class StoredDocument(NamedTuple):
    stack: WebdevStack
    html: str
    compiled: bool = False  # the page of an app compiled on the server


def pack_document(html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False) -> str:
    """The stored form of a document of `stack` (an HTML document unchanged)."""
    if stack is WebdevStack.HTML and not html.startswith(_STACK_MARK):
        return html
    return f"{_STACK_MARK}{stack.value}{_COMPILED if compiled else ''}-->\n{html}"


def unpack_document(stored: str) -> StoredDocument:
    """`pack_document`'s inverse."""
    marked = _STACK_LINE.match(stored)
    if marked is None or marked.group(1) not in WebdevStack.__members__.values():
        return StoredDocument(WebdevStack.HTML, stored)
    return StoredDocument(
        WebdevStack(marked.group(1)), stored[marked.end() :], marked.group(2) is not None
    )


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

    def put_app(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> str:
        token = new_app_token()
        self._documents[token] = pack_document(html, stack, compiled)
        while len(self._documents) > self._capacity:
            self._documents.popitem(last=False)
        return token

    async def get_app(self, token: str) -> str | None:
        return self._documents.get(token)


def sandbox_app(
    store: AppDocumentStore,
    policy: SandboxPolicy | None = None,
    runtimes: RuntimeFiles | None = None,
) -> Starlette:
    """An ASGI app serving `GET /{token}` and, given `runtimes`, the installed runtimes at
    `GET /runtimes/{name@version}/{file}`; mount it at `policy.path_prefix`."""
    active = policy or SandboxPolicy()
    plain_headers = active.response_headers()

    async def serve(request: Request) -> Response:
        token = request.path_params["token"]
        stored = await store.get_app(token) if _TOKEN.match(token) else None
        if stored is None:
            # The sandbox headers go on the error too: nothing under this path runs unconfined.
            return PlainTextResponse(
                "No app with this address.", status_code=404, headers=plain_headers
            )
        document = unpack_document(stored)
        # The runtimes are allowed on the origin the document was requested from, which is
        # where its origin-relative runtime URLs lead.
        origin = f"{request.url.scheme}://{request.url.netloc}"
        headers = active.response_headers(document.stack, origin, document.compiled)
        return HTMLResponse(document.html, headers=headers)

    async def serve_runtime(request: Request) -> Response:
        found = (
            runtimes.path(request.path_params["key"], request.path_params["file"])
            if runtimes is not None
            else None
        )
        if found is None:
            return PlainTextResponse(
                "No such runtime file.", status_code=404, headers=plain_headers
            )
        return FileResponse(found, media_type=media_type(found.name), headers=RUNTIME_HEADERS)

    app = Starlette(
        routes=[
            Route("/runtimes/{key}/{file:path}", serve_runtime, methods=["GET", "HEAD"]),
            Route("/{token}", serve, methods=["GET", "HEAD"]),
        ]
    )
    # Starlette's trailing-slash redirect would build its Location from the Host header.
    app.router.redirect_slashes = False
    return app


# Runtime files never change under their versioned URL. Apps have an opaque origin, so
# Pyodide's fetches of its own files are cross-origin requests: any origin may read them
# (they are public packages; no credentials are involved).
RUNTIME_HEADERS = {
    "cache-control": "public, max-age=31536000, immutable",
    "access-control-allow-origin": "*",
    "cross-origin-resource-policy": "cross-origin",
    "x-content-type-options": "nosniff",
}

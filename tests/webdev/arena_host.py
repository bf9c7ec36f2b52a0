"""An arena-like host page on a real HTTP server, for trying hostile apps against the sandbox.

The page behaves like an arena battle page where it matters: the same CSP (`script-src
'self'`), a voter session cookie, localStorage, vote buttons that call `/api/vote` with
the voter's cookie, a secret naming the hidden models, and the two apps embedded through
the real `sandbox_app` route and `iframe_attributes`. Every request the server sees is
logged, and a separate listener on another port records every connection made to it, so a
test can assert that nothing got out.
"""

from __future__ import annotations

import html
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.runtimes import RuntimeFiles
from glassarena.webdev.sandbox import MemoryAppStore, SandboxPolicy, iframe_attributes, sandbox_app

SESSION_COOKIE = "voter-session-7f3a"
STORED_SECRET = "arena-local-secret-91c2"
IDENTITY_SECRET = "side A is secret-model-alpha, side B is secret-model-beta"
HOST_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src FRAME_SOURCES; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

HOST_SCRIPT = """
localStorage.setItem('arena', 'STORED_SECRET');
sessionStorage.setItem('arena', 'STORED_SECRET');
let clicks = 0;
for (const button of document.querySelectorAll('button.vote')) {
  button.addEventListener('click', () => {
    clicks += 1;
    document.getElementById('clicks').textContent = String(clicks);
    fetch('/api/vote', {method: 'POST', body: 'from=host&choice=' + button.dataset.choice,
                        headers: {'content-type': 'application/x-www-form-urlencoded'}});
  });
}
""".replace("STORED_SECRET", STORED_SECRET)
# Loaded before the frames: an app posts as soon as it loads, possibly before the end of the
# page's own parsing, and a message sent before the listener exists is lost.
MESSAGES_SCRIPT = """
// Arena messages are accepted only from this page's own origin; sandboxed apps have an
// opaque origin ("null"), so whatever they post lands in the ignored list.
window.addEventListener('message', (event) => {
  const target = event.origin === location.origin && event.source === window
    ? 'accepted' : 'ignored';
  const line = document.createElement('li');
  line.textContent = JSON.stringify({origin: event.origin, data: event.data});
  document.getElementById(target).append(line);
});
"""


@dataclass
class HostLog:
    """Requests the arena server received, in order."""

    requests: list[dict[str, str]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [f"{entry['method']} {entry['path']}" for entry in self.requests]

    def api_calls(self) -> list[dict[str, str]]:
        return [entry for entry in self.requests if entry["path"].startswith("/api/")]


@dataclass
class Listener:
    """A TCP listener on another port that records every connection and its first bytes."""

    origin: str
    connections: list[bytes]


@dataclass
class ArenaHost:
    origin: str
    store: MemoryAppStore
    policy: SandboxPolicy
    log: HostLog

    def battle_url(
        self,
        app_a: str,
        app_b: str,
        stack_a: WebdevStack = WebdevStack.HTML,
        compiled_a: bool = False,
    ) -> str:
        token_a = self.store.put_app(app_a, stack_a, compiled_a)
        token_b = self.store.put_app(app_b)
        return f"{self.origin}/battle?a={token_a}&b={token_b}"


def _host_app(
    store: MemoryAppStore, policy: SandboxPolicy, log: HostLog, runtimes: RuntimeFiles | None
) -> Starlette:
    async def battle(request: Request) -> Response:
        frames = []
        for index, side in enumerate(("a", "b")):
            token = request.query_params[side]
            attributes = iframe_attributes(policy, token, f"App {side}", index)
            rendered = " ".join(
                f'{name}="{html.escape(value, quote=True)}"' for name, value in attributes.items()
            )
            frames.append(f'<iframe id="app-{side}" name="" {rendered}></iframe>')
        page = f"""<!DOCTYPE html>
<html><head><title>Arena battle</title></head>
<body>
<div id="secret">{IDENTITY_SECRET}</div>
<ul id="accepted"></ul><ul id="ignored"></ul>
<script src="/messages.js"></script>
{frames[0]}
{frames[1]}
<button class="vote" id="vote-a" data-choice="a">A is better</button>
<button class="vote" id="vote-b" data-choice="b">B is better</button>
<span id="clicks">0</span>
<script src="/host.js"></script>
</body></html>"""
        csp = HOST_CSP.replace("FRAME_SOURCES", policy.frame_sources())
        response = HTMLResponse(page, headers={"content-security-policy": csp})
        response.set_cookie("session", SESSION_COOKIE, samesite="lax")
        return response

    async def host_script(request: Request) -> Response:
        return Response(HOST_SCRIPT, media_type="text/javascript")

    async def messages_script(request: Request) -> Response:
        return Response(MESSAGES_SCRIPT, media_type="text/javascript")

    async def vote(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def battles(request: Request) -> Response:
        return JSONResponse({"battles": [{"model_a": "secret-model-alpha"}]})

    async def favicon(request: Request) -> Response:
        return PlainTextResponse("", status_code=404)

    app = Starlette(
        routes=[
            Route("/battle", battle),
            Route("/host.js", host_script),
            Route("/messages.js", messages_script),
            Route("/api/vote", vote, methods=["GET", "POST"]),
            Route("/api/battles", battles),
            Route("/favicon.ico", favicon),
            Mount(policy.path_prefix, sandbox_app(store, policy, runtimes)),
        ]
    )

    async def logged(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            headers = {key.decode(): value.decode() for key, value in scope["headers"]}
            body = b""
            if scope["method"] == "POST":
                message = await receive()
                body = message.get("body", b"")
                replay = message

                async def receive() -> dict:  # type: ignore[no-redef]
                    return replay

            log.requests.append(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "cookie": headers.get("cookie", ""),
                    "referer": headers.get("referer", ""),
                    "body": body.decode(errors="replace"),
                }
            )
        await app(scope, receive, send)

    return logged  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_arena_host(
    *,
    sides_on_separate_sites: bool = False,
    preview_hosts: tuple[str, str] | None = None,
    runtimes: RuntimeFiles | None = None,
) -> Iterator[ArenaHost]:
    """The host page on 127.0.0.1; with `sides_on_separate_sites`, app B is served from
    "localhost", a different site, as a deployment with two preview origins would.
    `preview_hosts` names side A's and side B's hosts instead (the browser must resolve
    them to 127.0.0.1). `runtimes` are served to apps of other stacks than HTML."""
    store = MemoryAppStore()
    log = HostLog()
    port = _free_port()
    if sides_on_separate_sites:
        preview_hosts = ("127.0.0.1", "localhost")
    active = (
        SandboxPolicy(origins=tuple(f"http://{host}:{port}" for host in preview_hosts))
        if preview_hosts
        else SandboxPolicy()
    )
    config = uvicorn.Config(
        _host_app(store, active, log, runtimes), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the arena host server did not start within 10 s")
        time.sleep(0.02)
    try:
        yield ArenaHost(f"http://127.0.0.1:{port}", store, active, log)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def running_listener() -> Iterator[Listener]:
    connections: list[bytes] = []

    class Record(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(3.0)
            try:
                first = self.request.recv(4096)
            except OSError:
                first = b""
            connections.append(first)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Record)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(f"http://127.0.0.1:{server.server_address[1]}", connections)
    finally:
        server.shutdown()
        server.server_close()


def ignored_messages(page_text: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in page_text]

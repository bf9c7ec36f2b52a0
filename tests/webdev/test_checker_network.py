"""The execution checker's browser opens no connection to anyone, shown at the TCP level.

Canary sockets listen on loopback addresses and count every connection they accept; hostile
apps then try to reach them by IP literal and by name, every way a page has. HTTP-level
logging would miss the attack: Chromium opens the TCP connection ahead of a frame navigation
(nested iframe, meta refresh, `location` assignment, `top.location`, which in the checker is
the app itself, a form, a link click) and for WebRTC before request interception or CSP see
anything, and the connection is simply closed again without a byte sent.

The first test reproduces the attack on Chromium as the checker launched it before
`NO_NETWORK_ARGS`; the second shows the checker itself is never heard from.
"""

from __future__ import annotations

import asyncio
import http.server
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Route, async_playwright

from glassarena.webdev.checker import APP_URL, CHROMIUM_ARGS, AppChecker, CheckerSettings
from glassarena.webdev.sandbox import SandboxPolicy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETTINGS = CheckerSettings(load_timeout_s=3.0, settle_s=0.5, screenshot_timeout_s=2.0)
# One navigation per document: each of these gets an app of its own per target.
NAVIGATIONS = {
    "nested iframe": '<iframe src="{url}/frame"></iframe>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url={url}/refresh">',
    "location assignment": '<script>location.href = "{url}/location";</script>',
    "top.location": '<script>top.location = "{url}/top";</script>',
    "location.replace": '<script>location.replace("{url}/replace");</script>',
    "link click with ping": (
        '<a id="go" href="{url}/link" ping="{url}/ping">go</a>'
        '<script>document.getElementById("go").click();</script>'
    ),
    "form submission": (
        '<form id="f" action="{url}/form" method="post"><input name="x" value="1"></form>'
        '<script>document.getElementById("f").submit();</script>'
    ),
    "webrtc turn over tcp": (
        "<script>const pc = new RTCPeerConnection({{iceServers: [{{urls: "
        '"turn:{address}?transport=tcp", username: "u", credential: "c"}}]}});'
        'pc.createDataChannel("d"); pc.createOffer().then((o) => pc.setLocalDescription(o));'
        "</script>"
    ),
}
# Any number of these fit in one document.
SUBRESOURCES = (
    '<img src="{url}/img.png">',
    '<script src="{url}/script.js"></script>',
    '<link rel="stylesheet" href="{url}/style.css">',
    '<link rel="prefetch" href="{url}/prefetch">',
    '<link rel="preload" as="script" href="{url}/preload.js">',
    '<link rel="preconnect" href="{url}">',
    '<link rel="dns-prefetch" href="{url}">',
    '<link rel="icon" href="{url}/favicon.ico">',
    '<style>@import url("{url}/import.css"); body {{ background: url("{url}/bg.png") }}</style>',
    '<video src="{url}/video.mp4"></video><object data="{url}/object"></object>',
    "<script>"
    'fetch("{url}/fetch").catch(() => {{}});'
    'try {{ new WebSocket("{url}/ws".replace("http", "ws")); }} catch (e) {{}}'
    'try {{ new EventSource("{url}/sse"); }} catch (e) {{}}'
    'try {{ navigator.sendBeacon("{url}/beacon", "x"); }} catch (e) {{}}'
    'try {{ const x = new XMLHttpRequest(); x.open("GET", "{url}/xhr"); x.send(); }} catch (e) {{}}'
    'import("{url}/module.js").catch(() => {{}});'
    "</script>",
)


@dataclass
class Canary:
    """Plain TCP listeners; `accepted` names the listener of every connection made to one."""

    targets: dict[str, tuple[str, str]]
    accepted: list[str] = field(default_factory=list)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    found = Canary({})

    def listen_as(
        name: str,
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            found.accepted.append(name)
            writer.close()

        return accept

    servers = []
    ip_v4 = await asyncio.start_server(listen_as("127.0.0.1"), "127.0.0.1", 0)
    port = ip_v4.sockets[0].getsockname()[1]
    other = await asyncio.start_server(listen_as("127.0.0.2"), "127.0.0.2", 0)
    other_port = other.sockets[0].getsockname()[1]
    servers += [ip_v4, other]
    # (URL origin, host:port) of each way to name a listener.
    found.targets = {
        "IP literal": (f"http://127.0.0.1:{port}", f"127.0.0.1:{port}"),
        "other loopback IP": (f"http://127.0.0.2:{other_port}", f"127.0.0.2:{other_port}"),
        "localhost": (f"http://localhost:{port}", f"localhost:{port}"),
        "name under .localhost": (f"http://canary.localhost:{port}", f"canary.localhost:{port}"),
    }
    if _ipv6_loopback():
        ip_v6 = await asyncio.start_server(listen_as("::1"), "::1", 0)
        v6_port = ip_v6.sockets[0].getsockname()[1]
        servers.append(ip_v6)
        found.targets["IPv6 literal"] = (f"http://[::1]:{v6_port}", f"[::1]:{v6_port}")
    try:
        yield found
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


def document(body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>app</title></head><body><h1>A</h1>{body}</body></html>"
    )


def hostile_apps(canary: Canary) -> dict[str, str]:
    """Each navigation towards the IP literal and towards one other target in turn (so every
    target meets several vectors), and one app with every subresource towards all."""
    names = list(canary.targets)
    apps = {}
    for index, (vector, template) in enumerate(NAVIGATIONS.items()):
        for target in (names[0], names[1 + index % (len(names) - 1)]):
            url, address = canary.targets[target]
            apps[f"{vector} to {target}"] = document(template.format(url=url, address=address))
    apps["subresources to every target"] = document(
        "".join(
            template.format(url=url, address=address)
            for template in SUBRESOURCES
            for url, address in canary.targets.values()
        )
    )
    return apps


async def connections_after(canary: Canary, before: int) -> list[str]:
    # A connection Chromium opens is accepted within milliseconds; leave it ample time.
    await asyncio.sleep(0.5)
    return canary.accepted[before:]


# (vector, target) pairs shown to reach the canary on a browser with network.
ATTACKS_SHOWN = (
    ("top.location", "IP literal"),
    ("nested iframe", "localhost"),
    ("meta refresh", "other loopback IP"),
    ("webrtc turn over tcp", "IP literal"),
)


def serving_only(html: str) -> Callable[[Route], Awaitable[None]]:
    """What the checker did before: the app from memory under its sandbox headers, every
    other request refused."""
    headers = {**SandboxPolicy().response_headers(), "content-type": "text/html"}

    async def answer(route: Route) -> None:
        if route.request.url == APP_URL:
            await route.fulfill(status=200, headers=headers, body=html)
        else:
            await route.abort("blockedbyclient")

    return answer


async def test_the_attack_on_a_browser_with_network(chromium_path: str, canary: Canary) -> None:
    """The checker's Chromium as launched before: interception and CSP stop every request,
    yet navigations and WebRTC reach the canary at the TCP level."""
    reached: dict[str, list[str]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, args=list(CHROMIUM_ARGS)
        )
        for vector, target in ATTACKS_SHOWN:
            url, address = canary.targets[target]
            html = document(NAVIGATIONS[vector].format(url=url, address=address))
            name = f"{vector} to {target}"
            context = await browser.new_context()
            await context.route("**/*", serving_only(html))
            page = await context.new_page()
            before = len(canary.accepted)
            await page.goto(APP_URL, wait_until="load", timeout=5000)
            reached[name] = await connections_after(canary, before)
            await context.close()
        await browser.close()
    assert all(reached.values()), f"the canary heard nothing from some vectors: {reached}"


async def test_the_checker_never_connects_anywhere(chromium_path: str, canary: Canary) -> None:
    apps = hostile_apps(canary)
    async with AppChecker(chromium_path, settings=SETTINGS) as checker:
        results = await asyncio.gather(*(checker.check(html) for html in apps.values()))
        connected = await connections_after(canary, 0)
        # The same checker still runs apps: the network was the only thing taken away.
        plain = await checker.check(document("<script>document.title = 'ok';</script>"))
    assert connected == [], f"the checker connected to {connected}"
    assert len(results) == len(apps)
    assert plain.runs, plain


@pytest.fixture
def cdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openssl_path: str) -> Iterator[str]:
    """An HTTPS "CDN" on 127.0.0.1 with a certificate the Playwright driver trusts."""
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = ("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1")
    subject = ("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    subprocess.run(
        [openssl_path, *request, "-keyout", str(key), "-out", str(certificate), *subject],
        check=True,
        capture_output=True,
    )
    # Read by the driver when it starts, which the checker does on its first check.
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(certificate))

    class Library(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"window.fromCdn = true;"
            self.send_response(200)
            self.send_header("content-type", "text/javascript")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Library)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_scripts_from_an_allowed_cdn_still_load(chromium_path: str, cdn: str) -> None:
    """Fetched by the driver, outside the browser that has no network."""
    app = document(
        f'<script src="{cdn}/lib.js"></script>'
        "<script>if (!window.fromCdn) { throw new Error('the CDN script did not run'); }</script>"
    )
    policy = SandboxPolicy(allowed_cdns=(cdn,))
    async with AppChecker(chromium_path, policy, SETTINGS) as checker:
        result = await checker.check(app)
    assert result.runs, result

"""WebDev benchmark: execution checks per minute, and the wait from answer to live preview.

1. Throughput: a burst of generated apps through `AppChecker` at its default pool size.
2. Preview wait: for each recorded answer, the time from "the answer finished" to the app's
   document having loaded in its sandboxed frame: extraction, storing the document, the
   browser fetching `/sandbox/{token}` from a real HTTP server, parsing and running it.
   The frame's `load` event is later than "the preview started", so this is an upper bound.
   It is measured while the checker works through another burst, as in a busy arena.

Run: .venv/bin/python benchmarks/bench_webdev.py [--apps 40] [--previews 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import uvicorn
from playwright.async_api import async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from live_server import free_port

from glassarena.webdev.checker import CHROMIUM_ARGS, AppChecker
from glassarena.webdev.extract import extract_app
from glassarena.webdev.sandbox import MemoryAppStore, SandboxPolicy, iframe_attributes, sandbox_app

CHROMIUM = "/usr/bin/chromium"

COUNTER = """Here is your counter:

```html
<!DOCTYPE html>
<html><head><style>body{font-family:sans-serif;display:grid;place-items:center;height:100vh}
button{font-size:2rem;padding:.5em 1em}</style></head>
<body><button id="count">0</button>
<script>const b = document.getElementById('count');
b.onclick = () => b.textContent = +b.textContent + 1;</script>
</body></html>
```
Click to count."""

CANVAS_GAME = """```html
<!DOCTYPE html>
<html><body style="margin:0;background:#111">
<canvas id="c" width="640" height="480"></canvas>
<script>
const ctx = document.getElementById('c').getContext('2d');
let x = 10;
function frame() { ctx.fillStyle = '#111'; ctx.fillRect(0, 0, 640, 480);
  ctx.fillStyle = 'lime'; ctx.fillRect(x % 620, 200, 20, 20); x += 3;
  requestAnimationFrame(frame); }
frame();
</script></body></html>
```"""

TASK_LIST_IN_THREE_FILES = """**index.html**
```html
<!DOCTYPE html>
<html><head><link rel="stylesheet" href="style.css"></head>
<body><form id="f"><input id="i"><button>Add</button></form><ul id="l"></ul>
<script src="app.js"></script></body></html>
```
**style.css**
```css
body { font: 16px system-ui; max-width: 40rem; margin: 2rem auto; }
li { padding: .25rem 0; border-bottom: 1px solid #ddd; }
```
**app.js**
```js
const items = ['Buy milk', 'Write report'];
const list = document.getElementById('l');
function draw() { list.innerHTML = items.map((t) => '<li>' + t + '</li>').join(''); }
document.getElementById('f').onsubmit = (e) => { e.preventDefault();
  items.push(document.getElementById('i').value); draw(); };
draw();
```"""

BROKEN = """```html
<!DOCTYPE html><html><body><h1>Chart</h1>
<script>const data = loadData(); drawChart(data);</script></body></html>
```"""

ANSWERS = (COUNTER, CANVAS_GAME, TASK_LIST_IN_THREE_FILES, BROKEN)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def describe(label: str, values: list[float], unit: str) -> None:
    print(
        f"{label}: median {statistics.median(values):.1f} {unit}, "
        f"p95 {percentile(values, 0.95):.1f} {unit}, max {max(values):.1f} {unit} (n={len(values)})"
    )


async def throughput(apps: int) -> None:
    documents = [extract_app(ANSWERS[index % len(ANSWERS)]).html or "" for index in range(apps)]
    async with AppChecker(CHROMIUM) as checker:
        await checker.check(documents[0])  # warm the browser
        started = time.perf_counter()
        results = await asyncio.gather(*(checker.check(document) for document in documents))
        elapsed = time.perf_counter() - started
        workers = checker.settings.workers
    runs = sum(result.runs for result in results)
    print(
        f"checker: {apps} apps in {elapsed:.1f} s with {workers} workers = "
        f"{apps / elapsed * 60:.0f} apps/min ({runs} ran)"
    )
    describe("  load time per app", [r.load_ms for r in results if r.load_ms is not None], "ms")


async def preview_wait(previews: int, background_apps: int) -> None:
    store = MemoryAppStore()
    policy = SandboxPolicy()

    async def host_page(request: Request) -> HTMLResponse:
        return HTMLResponse("<!DOCTYPE html><html><body><div id='slot'></div></body></html>")

    requested_at: dict[str, float] = {}
    serve_app = sandbox_app(store, policy)

    async def timed_sandbox(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            requested_at[scope["path"].rsplit("/", 1)[-1]] = time.perf_counter()
        await serve_app(scope, receive, send)

    app = Starlette(routes=[Route("/", host_page), Mount("/sandbox", timed_sandbox)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    origin = f"http://127.0.0.1:{port}"
    waits: list[float] = []
    prepared: list[float] = []
    requested: list[float] = []
    async with async_playwright() as playwright, AppChecker(CHROMIUM) as checker:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
        )
        page = await browser.new_page()
        await page.goto(f"{origin}/")
        background = [
            checker.submit(extract_app(ANSWERS[index % len(ANSWERS)]).html or "")
            for index in range(background_apps)
        ]
        for index in range(previews):
            answer = ANSWERS[index % len(ANSWERS)]
            finished = time.perf_counter()
            app_document = extract_app(answer).html or ""
            token = store.put_app(app_document)
            prepared_ms = (time.perf_counter() - finished) * 1000
            attributes = iframe_attributes(policy, token, "App A")
            browser_ms = await page.evaluate(
                """(attributes) => new Promise((resolve) => {
                    const frame = document.createElement('iframe');
                    for (const [name, value] of Object.entries(attributes)) {
                        frame.setAttribute(name, value);
                    }
                    const started = performance.now();
                    frame.addEventListener('load', () => resolve(performance.now() - started));
                    document.getElementById('slot').replaceChildren(frame);
                })""",
                {name: value for name, value in attributes.items()},
            )
            prepared.append(prepared_ms)
            requested.append((requested_at[token] - finished) * 1000)
            waits.append(prepared_ms + browser_ms)
        pending = sum(not future.done() for future in background)
        await asyncio.gather(*background)
        await browser.close()
    server.should_exit = True
    await serving
    print(
        f"preview wait with {background_apps} execution checks queued "
        f"({pending} still pending when the last preview loaded):"
    )
    describe("  answer finished -> app document loaded in its frame", waits, "ms")
    describe("  answer finished -> browser asked for the app document", requested, "ms")
    describe("  of which extraction + storing the document", prepared, "ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=40, help="apps in the throughput burst")
    parser.add_argument("--previews", type=int, default=40, help="previews timed")
    parser.add_argument(
        "--background", type=int, default=40, help="execution checks queued while timing previews"
    )
    options = parser.parse_args()
    await throughput(options.apps)
    await preview_wait(options.previews, background_apps=0)
    if options.background:
        await preview_wait(options.previews, background_apps=options.background)


if __name__ == "__main__":
    asyncio.run(main())

"""The execution check: does a generated app load, run without errors, and show something?

`AppChecker` owns one headless Chromium and a fixed number of workers fed by a bounded
queue, so a burst of battles queues up instead of starting browsers without limit. Each
check gets a fresh browser context, loads the app top-level under the same CSP sandbox the
preview uses (the response is fulfilled by request interception, and every other request is
refused), waits for `load` under a time limit, lets scripts settle, and takes a screenshot.
A renderer that hangs or runs out of its V8 heap is killed with its context; a browser that
stops answering is closed and launched afresh before the next check.

The checker's Chromium has no network at all (`NO_NETWORK_ARGS`). Request interception alone
is not enough: Chromium opens a TCP connection ahead of a frame navigation (a nested iframe,
a meta refresh, `location` assignments, a form, a link click) and for WebRTC before anything
reaches the interception, so an app could make the arena server connect to any host and port
it names. The app's own document never needs the network: it is fulfilled from memory, and
scripts from an allowed CDN are fetched by the Playwright driver and handed to the page.

A check holds its worker for at most `CheckerSettings.slot_limit_s`, and a check accepted by
`submit` has its result within `CheckerSettings.longest_wait_s`, however the apps ahead of it
behave; a check whose browser was restarted under it raises `BrowserLost` rather than
blaming its app.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

from PIL import Image
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.harness import STATE_ATTRIBUTE, build_document, loads_compiled
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import RuntimeFiles, media_type, runtimes_for
from glassarena.webdev.sandbox import RUNTIME_HEADERS, SandboxPolicy, StoredDocument

if TYPE_CHECKING:
    from glassarena.webdev.compiler import AppCompiler

# The app's address inside the checker. ".invalid" can never resolve, so nothing but the
# interception below can answer it, and it answers the runtimes from the installed files.
APP_ORIGIN = "https://app.glassarena.invalid"
APP_URL = f"{APP_ORIGIN}/"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--mute-audio",
)
# Every host name and IP literal resolves to nothing, so no socket is ever opened (this also
# covers WebRTC's TURN/STUN servers and the connections Chromium opens ahead of navigations).
# Behind that, all traffic is sent to a proxy on the discard port, loopback included, which
# the resolver rule refuses as well: a second lock should the first ever be bypassed.
NO_NETWORK_ARGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=socks5://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
_MAX_MESSAGES = 20
_MAX_MESSAGE_CHARS = 500


class CheckerBusy(Exception):
    """The check queue is full; the caller records the app as not checked and moves on."""


class BrowserLost(Exception):
    """The browser was restarted during the check, by another check's failure: the app is
    not to blame, and the caller may submit it again."""


@dataclass
class CheckResult:
    """What happened when an app was loaded. JSON-serialisable except `screenshot_png`.

    `failure` names why the check ended early ("timeout: ...", "crashed: ...",
    "no runnable app: ..."), or is None when it ran to the end.
    """

    loaded: bool
    rendered: bool
    load_ms: float | None
    uncaught_errors: list[str]
    console_errors: list[str]
    failure: str | None
    screenshot_png: bytes | None = field(default=None, repr=False)

    @property
    def runs(self) -> bool:
        """Loaded, rendered something, and threw no uncaught error: an app that runs."""
        return self.loaded and self.rendered and not self.uncaught_errors

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        del record["screenshot_png"]
        record["runs"] = self.runs
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> CheckResult:
        fields = ("loaded", "rendered", "load_ms", "uncaught_errors", "console_errors", "failure")
        missing = [name for name in fields if name not in record]
        if missing:
            raise ValueError(f"check result record is missing {', '.join(missing)}")
        return cls(**{name: record[name] for name in fields})

    @classmethod
    def failed(cls, reason: str) -> CheckResult:
        """A check that never loaded the app, e.g. the answer had none (`ExtractedApp.reason`)."""
        return cls(False, False, None, [], [], failure=reason)


@dataclass(frozen=True)
class CheckerSettings:
    """Limits of one check. Times are seconds; the heap limit applies to every renderer.

    `python_load_timeout_s` is the load limit of Python apps, `load_timeout_s` that of every
    other stack: Pyodide takes 6-8 s to start on a quiet server (its 9.6 MB of WebAssembly
    and the standard library, compiled and unpacked afresh by every app) and 25-35 s on a
    busy one, where 8 s would time out apps that run.

    `max_queued` bounds the queue; `slot_limit_s` and `longest_wait_s` are what the limits
    promise (with the defaults: a worker held 43.5 s at most, a result within 74 min at most
    when 200 hostile Python apps are queued ahead, each spinning until its time limit).
    """

    workers: int = 2
    max_queued: int = 200
    load_timeout_s: float = 8.0
    python_load_timeout_s: float = 30.0
    settle_s: float = 0.5
    screenshot_timeout_s: float = 3.0
    close_timeout_s: float = 5.0
    heap_limit_mb: int = 256
    viewport: tuple[int, int] = (1024, 768)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"CheckerSettings.workers must be at least 1, got {self.workers}")
        if self.max_queued < 1:
            raise ValueError(
                f"CheckerSettings.max_queued must be at least 1, got {self.max_queued}"
            )
        if min(self.load_timeout_s, self.python_load_timeout_s, self.screenshot_timeout_s) <= 0:
            raise ValueError("CheckerSettings timeouts must be positive")

    def load_timeout_for(self, stack: WebdevStack) -> float:
        return self.python_load_timeout_s if stack is WebdevStack.PYTHON else self.load_timeout_s

    def check_limit_for(self, stack: WebdevStack) -> float:
        """The hard limit of one check of a `stack` app before its context is closed: every
        step's own limit, and `close_timeout_s` for opening the context and page."""
        return (
            self.load_timeout_for(stack)
            + self.settle_s
            + self.screenshot_timeout_s
            + self.close_timeout_s
        )

    @property
    def check_limit_s(self) -> float:
        """The hard limit of the longest check, whatever its stack."""
        return max(self.check_limit_for(stack) for stack in WebdevStack)

    @property
    def slot_limit_s(self) -> float:
        """The longest one check holds a worker, whatever the app does: the check's hard
        limit, then closing its context (which kills its renderer) under its own limit."""
        return self.check_limit_s + self.close_timeout_s

    @property
    def longest_wait_s(self) -> float:
        """The longest from `submit` to the result: at most `max_queued - 1` checks wait
        ahead and `workers` run, each worker finishes one within every `slot_limit_s`, then
        this check runs."""
        return (math.ceil(self.max_queued / self.workers) + 2) * self.slot_limit_s


@dataclass
class _Job:
    document: StoredDocument
    result: asyncio.Future[CheckResult]


@dataclass
class _Observation:
    """What one check has seen so far, turned into a CheckResult when it ends."""

    uncaught_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    load_ms: float | None = None
    crashed: asyncio.Event = field(default_factory=asyncio.Event)

    def ended(self, failure: str) -> CheckResult:
        loaded = self.load_ms is not None
        return CheckResult(
            loaded, False, self.load_ms, self.uncaught_errors, self.console_errors, failure
        )

    def finished(self, screenshot: bytes) -> CheckResult:
        rendered = not _uniform(screenshot)
        return CheckResult(
            True,
            rendered,
            self.load_ms,
            self.uncaught_errors,
            self.console_errors,
            None,
            screenshot,
        )


class AppChecker:
    """A bounded pool of execution checks on one shared Chromium.

    Use as `async with AppChecker(chromium_path) as checker: await checker.check(html)`.
    """

    def __init__(
        self,
        chromium_path: str = "/usr/bin/chromium",
        policy: SandboxPolicy | None = None,
        settings: CheckerSettings | None = None,
        runtimes: RuntimeFiles | None = None,
        compiler: AppCompiler | None = None,
    ) -> None:
        self.chromium_path = chromium_path
        self.policy = policy or SandboxPolicy()
        self.settings = settings or CheckerSettings()
        self.runtimes = runtimes
        # The preview's compiler, so that the check loads the document the voter sees.
        self.compiler = compiler
        self._runtime_prefix = f"{APP_ORIGIN}{self.policy.runtimes_path}/"
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=self.settings.max_queued)
        self._workers: list[asyncio.Task[None]] = []
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._browser_lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self.browser_launches = 0

    async def __aenter__(self) -> AppChecker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        async with self._start_lock:
            if self._workers:
                return
            await self._ensure_browser()
            self._workers = [
                asyncio.create_task(self._work(), name=f"webdev-check-{index}")
                for index in range(self.settings.workers)
            ]

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.result.done():
                job.result.cancel()
        await self._shut_down_browser()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def submit(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> asyncio.Future[CheckResult]:
        """Queue a check of document `html` of `stack` (`harness.build_document` made it, with
        `policy.runtimes_path`; `compiled`: the page of an app compiled on the server) without
        waiting for it; raises CheckerBusy when the queue is full."""
        if not self._workers:
            raise RuntimeError("AppChecker.submit called before start()")
        document = StoredDocument(stack, html, compiled)
        job = _Job(document, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise CheckerBusy(
                f"{self.settings.max_queued} app checks are already queued; try again later"
            ) from None
        return job.result

    async def check(
        self, html: str, stack: WebdevStack = WebdevStack.HTML, compiled: bool = False
    ) -> CheckResult:
        """Check one app document, starting the pool (and Chromium) on first use."""
        await self.start()
        return await self.submit(html, stack, compiled)

    async def document(self, project: AppProject) -> str:
        """The document the checker loads for `project`: the preview's."""
        return (await self._built(project)).html

    async def _built(self, project: AppProject) -> StoredDocument:
        compiled = await self.compiler.compile(project) if self.compiler is not None else None
        html = build_document(project, self.policy.runtimes_path, compiled)
        return StoredDocument(project.stack, html, loads_compiled(project.stack, compiled))

    def missing_runtimes(self, stack: WebdevStack) -> str | None:
        """Why apps of `stack` cannot be checked here (their runtimes are not installed), or
        None."""
        needed = runtimes_for(stack)
        missing = (
            [runtime.key for runtime in needed]
            if self.runtimes is None
            else [runtime.key for runtime in self.runtimes.missing((stack,))]
        )
        if not missing:
            return None
        return (
            f"not checked: the {stack.label} runtimes are not installed ({', '.join(missing)}); "
            "run `glassarena runtimes install`"
        )

    async def check_project(self, project: AppProject) -> CheckResult:
        """Check one project: its stack's document, with its stack's policy and runtimes."""
        missing = self.missing_runtimes(project.stack)
        if missing is not None:
            return CheckResult.failed(missing)
        document = await self._built(project)
        return await self.check(document.html, document.stack, document.compiled)

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                if job.result.done():
                    continue
                result = await self._check_one(job.document)
                if not job.result.done():
                    job.result.set_result(result)
            except asyncio.CancelledError:
                if not job.result.done():
                    job.result.cancel()
                raise
            except Exception as error:  # a worker must outlive any one app
                if not job.result.done():
                    job.result.set_exception(error)
            finally:
                self._queue.task_done()

    async def _check_one(self, document: StoredDocument) -> CheckResult:
        stack = document.stack
        browser = await self._ensure_browser()
        try:
            context = await self._new_context(browser)
        except PlaywrightError:
            # The browser died between checks: launch a fresh one and try once more.
            await self._recycle_browser(browser)
            browser = await self._ensure_browser()
            context = await self._new_context(browser)
        settings = self.settings
        try:
            result = await asyncio.wait_for(
                self._load(context, document), settings.check_limit_for(stack)
            )
        except TimeoutError:
            limit = f"{settings.check_limit_for(stack):g} s"
            result = CheckResult.failed(f"timeout: the check did not finish within {limit}")
        except PlaywrightError as error:
            result = CheckResult.failed(
                f"error: the browser failed during the check: {error.message}"
            )
        try:
            # Closing the context kills its renderer, however busy its app keeps it.
            await asyncio.wait_for(context.close(), settings.close_timeout_s)
            closed = True
        except (TimeoutError, PlaywrightError):
            closed = False
        # Asked only now: a navigation aborted by the browser going away may report first.
        # Another check's recycle drops the browser before closing it.
        if self._browser is not browser or not browser.is_connected():
            raise BrowserLost("the browser was restarted during the check")
        if not closed:
            await self._recycle_browser(browser)
        return result

    async def _new_context(self, browser: Browser) -> BrowserContext:
        width, height = self.settings.viewport
        return await browser.new_context(
            viewport={"width": width, "height": height},
            service_workers="block",
            accept_downloads=False,
        )

    async def _load(self, context: BrowserContext, document: StoredDocument) -> CheckResult:
        settings = self.settings
        seen = _Observation()
        html, stack = document.html, document.stack
        headers = {
            **self.policy.response_headers(stack, APP_ORIGIN, document.compiled),
            "content-type": "text/html; charset=utf-8",
        }

        async def answer(route: Route) -> None:
            request = route.request
            if request.url == APP_URL and request.is_navigation_request():
                await route.fulfill(status=200, headers=headers, body=html)
            elif request.method == "GET" and request.url.startswith(self._runtime_prefix):
                await self._from_runtimes(route)
            elif request.method == "GET" and _origin(request.url) in self.policy.allowed_cdns:
                await self._from_cdn(route)
            else:
                await route.abort("blockedbyclient")

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                _keep(seen.console_errors, message.text)

        await context.route("**/*", answer)
        page: Page = await context.new_page()
        page.on("pageerror", lambda error: _keep(seen.uncaught_errors, str(error)))
        page.on("console", on_console)
        page.on("crash", lambda _page: seen.crashed.set())

        started = time.perf_counter()
        load_timeout_s = settings.load_timeout_for(stack)
        limit = f"{load_timeout_s:g} s"
        try:
            await page.goto(APP_URL, wait_until="load", timeout=load_timeout_s * 1000)
            if stack is not WebdevStack.HTML:
                # These apps start after `load`, once their loader has built them; the
                # selector is watched from Playwright's own world, which the app's CSP
                # (no 'unsafe-eval') does not govern.
                left_s = load_timeout_s - (time.perf_counter() - started)
                await page.locator(f"html[{STATE_ATTRIBUTE}]").wait_for(
                    state="attached", timeout=max(left_s, 0.001) * 1000
                )
        except PlaywrightTimeoutError:
            return seen.ended(f"timeout: the app did not finish loading within {limit}")
        except PlaywrightError as error:
            if seen.crashed.is_set() or "crash" in error.message.lower():
                return seen.ended("crashed: the renderer died while loading (often memory)")
            return seen.ended(f"error: {error.message}")
        seen.load_ms = (time.perf_counter() - started) * 1000
        await asyncio.sleep(settings.settle_s)
        if seen.crashed.is_set():
            return seen.ended("crashed: the renderer died after loading (often memory)")
        try:
            screenshot = await page.screenshot(
                type="png", timeout=settings.screenshot_timeout_s * 1000, animations="allow"
            )
        except PlaywrightTimeoutError:
            return seen.ended("timeout: the page stopped responding after it loaded")
        except PlaywrightError:
            return seen.ended("crashed: the renderer died after loading (often memory)")
        return seen.finished(screenshot)

    async def _from_runtimes(self, route: Route) -> None:
        """Answer a runtime file from the installed runtimes, as the sandbox route would."""
        key, _, file = route.request.url.removeprefix(self._runtime_prefix).partition("/")
        found = self.runtimes.path(key, file.split("?")[0]) if self.runtimes else None
        if found is None:
            await route.fulfill(status=404, body="No such runtime file.")
            return
        await route.fulfill(
            status=200,
            path=found,
            headers={**RUNTIME_HEADERS, "content-type": media_type(found.name)},
        )

    async def _from_cdn(self, route: Route) -> None:
        """Fetch an allowed CDN's file outside the browser, which has no network. Redirects
        come back to the page unfollowed, so each hop is checked against the allowed CDNs."""
        try:
            response = await route.fetch(
                max_redirects=0, timeout=self.settings.load_timeout_s * 1000
            )
        except PlaywrightError:
            await route.abort("failed")
            return
        await route.fulfill(response=response)

    async def _ensure_browser(self) -> Browser:
        async with self._browser_lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.chromium_path,
                args=[
                    *CHROMIUM_ARGS,
                    *NO_NETWORK_ARGS,
                    f"--js-flags=--max-old-space-size={self.settings.heap_limit_mb}",
                ],
                headless=True,
            )
            self.browser_launches += 1
            return self._browser

    async def _recycle_browser(self, browser: Browser) -> None:
        """Close a browser that stopped answering; the next check launches a new one."""
        async with self._browser_lock:
            if self._browser is not browser:
                return
            self._browser = None
            try:
                await asyncio.wait_for(browser.close(), self.settings.close_timeout_s)
            except (TimeoutError, PlaywrightError):
                # Stopping the driver kills every process it launched.
                playwright, self._playwright = self._playwright, None
                if playwright is not None:
                    with contextlib.suppress(PlaywrightError):
                        await playwright.stop()

    async def _shut_down_browser(self) -> None:
        async with self._browser_lock:
            browser, self._browser = self._browser, None
            playwright, self._playwright = self._playwright, None
        if browser is not None:
            with contextlib.suppress(TimeoutError, PlaywrightError):
                await asyncio.wait_for(browser.close(), self.settings.close_timeout_s)
        if playwright is not None:
            with contextlib.suppress(PlaywrightError):
                await playwright.stop()


def _keep(messages: list[str], text: str) -> None:
    if len(messages) < _MAX_MESSAGES:
        messages.append(text[:_MAX_MESSAGE_CHARS])


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _uniform(png: bytes) -> bool:
    """True when every pixel of the screenshot has the same colour: nothing visible rendered."""
    with Image.open(io.BytesIO(png)) as image:
        # An RGB image has one (low, high) per band; Pillow types one band and many alike.
        extrema = cast("tuple[tuple[int, int], ...]", image.convert("RGB").getextrema())
    return all(low == high for low, high in extrema)

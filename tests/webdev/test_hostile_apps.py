"""Hostile generated apps, each run in real Chromium inside an arena-like page, all contained.

Each app in hostile_apps/ attacks the page that embeds it and then posts a report to its
parent. The page ignores messages from other origins but lists them, which proves the app
really ran. Afterwards every test checks from the outside that nothing got through: the
page's URL, cookie, storage and secret are intact, no pop-up, dialog or download appeared,
the server saw no API call but the voter's own, the outside listener saw no connection,
and the vote button still answers within a second.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from arena_host import (
    IDENTITY_SECRET,
    SESSION_COOKIE,
    STORED_SECRET,
    ArenaHost,
    Listener,
    running_arena_host,
    running_listener,
)
from hostile_stacks import as_stack_document
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import CHROMIUM_ARGS
from glassarena.webdev.harness import CompiledApp
from glassarena.webdev.project import AppProject

pytestmark = pytest.mark.browser

APPS = Path(__file__).parent / "hostile_apps"
VOTE_DEADLINE_S = 1.0
SETTLE_S = 0.7


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    # A modest V8 heap keeps the memory bomb from starving the machine; isolation, not the
    # limit, is what protects the arena page (a real voter's browser has a larger heap).
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_ARGS, "--js-flags=--max-old-space-size=256"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def host() -> Iterator[ArenaHost]:
    with running_arena_host() as running:
        yield running


@pytest.fixture
def listener() -> Iterator[Listener]:
    with running_listener() as running:
        yield running


@dataclass
class Battle:
    """One arena page with a hostile app on side A and an innocent one on side B.

    The page is observed and driven through its own DevTools session: Playwright declares
    the whole page crashed when only a sandboxed frame's renderer dies, while the arena
    page itself is alive, and that is exactly what the memory bomb test must show.
    """

    page: Page
    context: BrowserContext
    devtools: CDPSession
    url: str
    tokens: tuple[str, str]
    log_start: int
    dialogs: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)

    def evaluate(self, expression: str) -> Any:
        answer = self.devtools.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression} failed on the arena page: {answer}")
        return answer["result"].get("value")

    def messages(self, list_id: str) -> list[dict[str, Any]]:
        lines = self.evaluate(
            f"[...document.querySelectorAll('#{list_id} li')].map(item => item.textContent)"
        )
        return [json.loads(line) for line in lines]

    def reports(self, name: str) -> list[dict[str, Any]]:
        return [
            message["data"]
            for message in self.messages("ignored")
            if isinstance(message["data"], dict) and message["data"].get("hostile") == name
        ]

    def wait_for_report(self, name: str, timeout_s: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reports = self.reports(name)
            if reports:
                return reports[-1]
            time.sleep(0.05)
        raise AssertionError(f"the {name} app never reported: it did not run")


def app_source(name: str, host: ArenaHost, listener: Listener) -> str:
    source = (APPS / f"{name}.html").read_text()
    return source.replace("__HOST__", host.origin).replace("__LISTENER__", listener.origin)


def open_battle(
    browser: Browser,
    host: ArenaHost,
    listener: Listener,
    name: str,
    stack: WebdevStack = WebdevStack.HTML,
    report_timeout_s: float = 30.0,
    compile_app: Callable[[AppProject], CompiledApp | None] | None = None,
) -> Battle:
    """A battle with hostile app `name` on side A, rewritten for `stack` (hostile_stacks.py),
    compiled by `compile_app` if given."""
    context = browser.new_context()
    page = context.new_page()
    app_a = as_stack_document(
        stack, app_source(name, host, listener), host.policy.runtimes_path, compile_app
    )
    sibling = app_source("sibling_secret", host, listener)
    # A compiled app is served as the arena serves it: with the policy of the runtimes it loads.
    url = host.battle_url(app_a, sibling, stack, compiled_a=compile_app is not None)
    tokens = tuple(re.findall(r"[ab]=([A-Za-z0-9_-]+)", url))
    devtools = context.new_cdp_session(page)
    battle = Battle(page, context, devtools, url, (tokens[0], tokens[1]), len(host.log.requests))

    def on_dialog(dialog: Any) -> None:
        battle.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    context.on("page", lambda popup: battle.popups.append(popup.url))
    page.on("download", lambda download: battle.downloads.append(download.suggested_filename))
    page.goto(url, wait_until="domcontentloaded")
    battle.wait_for_report(name, report_timeout_s)
    time.sleep(SETTLE_S)
    return battle


def vote_response_time(battle: Battle) -> float:
    """Seconds from a real mouse click on the vote button to the page reacting to it."""
    before = int(battle.evaluate("document.getElementById('clicks').textContent"))
    box = battle.evaluate(
        "(() => { const r = document.getElementById('vote-a').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    started = time.perf_counter()
    for kind in ("mousePressed", "mouseReleased"):
        battle.devtools.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
        )
    deadline = started + 5
    while time.perf_counter() < deadline:
        if int(battle.evaluate("document.getElementById('clicks').textContent")) == before + 1:
            return time.perf_counter() - started
        time.sleep(0.01)
    raise AssertionError("the vote button did not respond within 5 s")


def assert_contained(
    battle: Battle, host: ArenaHost, listener: Listener, runtime_files: frozenset[str] = frozenset()
) -> None:
    """`runtime_files`: the paths of the runtimes the app's stack loads, which it may fetch."""
    assert battle.evaluate("location.href") == battle.url, "the app navigated the arena page"
    assert battle.evaluate("document.title") == "Arena battle"
    secret = battle.evaluate("document.getElementById('secret').textContent")
    assert secret == IDENTITY_SECRET, "the app changed the arena page"
    assert battle.evaluate("document.cookie") == f"session={SESSION_COOKIE}"
    assert battle.evaluate("localStorage.getItem('arena')") == STORED_SECRET
    assert battle.evaluate("document.fullscreenElement") is None
    assert battle.messages("accepted") == [], "the arena page acted on an app's message"
    assert battle.popups == [], f"pop-ups opened: {battle.popups}"
    assert battle.dialogs == [], f"dialogs shown: {battle.dialogs[:3]}"
    assert battle.downloads == [], f"downloads started: {battle.downloads}"

    elapsed = vote_response_time(battle)
    assert elapsed < VOTE_DEADLINE_S, f"the vote button took {elapsed:.2f} s to respond"
    time.sleep(0.3)
    requests = host.log.requests[battle.log_start :]
    expected_pages = {
        "GET /battle",
        "GET /host.js",
        "GET /messages.js",
        "GET /favicon.ico",
        *(f"GET /sandbox/{token}" for token in battle.tokens),
        *(f"GET {path}" for path in runtime_files),
    }
    seen = [(entry["method"], entry["path"], entry["body"]) for entry in requests]
    others = [
        f"{method} {path}"
        for method, path, _ in seen
        if f"{method} {path}" not in expected_pages and not path.startswith("/api/")
    ]
    assert others == [], f"unexpected requests reached the arena: {others}"
    api_calls = [entry for entry in seen if entry[1].startswith("/api/")]
    assert api_calls == [("POST", "/api/vote", "from=host&choice=a")], f"API calls: {api_calls}"
    # Chromium opens a bare TCP connection ahead of a frame or form navigation and only
    # then applies CSP, so a blocked one can leave an empty connection: no byte sent.
    sent = [data for data in listener.connections if data]
    assert sent == [], f"the outside listener received data: {sent[:3]}"
    battle.context.close()


def blocked_everything(report: dict[str, Any]) -> None:
    for attempt, outcome in report["seen"].items():
        assert outcome.startswith("blocked") or outcome in ("", "undefined", "null", "absent"), (
            f"{attempt} was not blocked: {outcome}"
        )


def check_storage_theft(battle: Battle, report: dict[str, Any]) -> None:
    text = json.dumps(report)
    assert SESSION_COOKIE not in text and STORED_SECRET not in text
    assert report["seen"]["document.cookie"].startswith("blocked")
    assert report["seen"]["localStorage"].startswith("blocked")
    blocked_everything(report)


def check_api_calls(battle: Battle, report: dict[str, Any]) -> None:
    assert all(not result.endswith(": sent") for result in report["results"]), report


def check_top_navigation(battle: Battle, report: dict[str, Any]) -> None:
    for attempt in ("top.document.write", "parent body"):
        assert report["seen"][attempt].startswith("blocked")


def check_popups(battle: Battle, report: dict[str, Any]) -> None:
    assert report["seen"]["open"] == "null" and report["seen"]["openHost"] == "null"


def check_service_worker(battle: Battle, report: dict[str, Any]) -> None:
    assert "fulfilled" not in report["result"], report


def check_postmessage_spoof(battle: Battle, report: dict[str, Any]) -> None:
    spoofed_votes = [
        message
        for message in battle.messages("ignored")
        if isinstance(message["data"], dict) and message["data"].get("type") == "vote"
    ]
    assert spoofed_votes, "the spoofed messages never reached the page"
    assert {message["origin"] for message in spoofed_votes} == {"null"}


def check_dialogs(battle: Battle, report: dict[str, Any]) -> None:
    assert report["seen"]["confirm"] == "false" and report["seen"]["prompt"] == "null"


def check_huge_dom(battle: Battle, report: dict[str, Any]) -> None:
    assert report["nodes"] >= 200_000


def check_identity_reveal(battle: Battle, report: dict[str, Any]) -> None:
    text = json.dumps(report)
    assert "secret-model" not in text, text
    assert report["seen"]["referrer"] == ""
    assert report["seen"]["window.name"] == ""
    for attempt in (
        "parent secret",
        "top body",
        "sibling body",
        "sibling via top.frames",
        "sibling location",
    ):
        assert report["seen"][attempt].startswith("blocked"), (attempt, report["seen"][attempt])


def check_nothing_more(battle: Battle, report: dict[str, Any]) -> None:
    """The outside checks in assert_contained are the whole test for this app."""


def check_clipboard_and_sensors(battle: Battle, report: dict[str, Any]) -> None:
    seen = report["seen"]
    for feature in ("clipboard read", "camera", "geolocation"):
        assert seen[feature].startswith("blocked"), (feature, seen[feature])
    assert seen["notifications"] == "resolved denied"


SPECIFIC_CHECKS: dict[str, Callable[[Battle, dict[str, Any]], None]] = {
    "storage_theft": check_storage_theft,
    "api_calls": check_api_calls,
    "top_navigation": check_top_navigation,
    "popups": check_popups,
    "forms": check_nothing_more,
    "beacons": check_nothing_more,
    "service_worker": check_service_worker,
    "postmessage_spoof": check_postmessage_spoof,
    "dialogs": check_dialogs,
    "infinite_loop": check_nothing_more,
    "memory_bomb": check_nothing_more,
    "huge_dom": check_huge_dom,
    "identity_reveal": check_identity_reveal,
    "nested_arena_frame": check_nothing_more,
    "downloads": check_nothing_more,
    "self_navigation": check_nothing_more,
    "clipboard_and_sensors": check_clipboard_and_sensors,
}


@pytest.mark.parametrize("name", sorted(SPECIFIC_CHECKS))
def test_hostile_app_is_contained(
    browser: Browser, host: ArenaHost, listener: Listener, name: str
) -> None:
    battle = open_battle(browser, host, listener, name)
    SPECIFIC_CHECKS[name](battle, battle.reports(name)[-1])
    assert_contained(battle, host, listener)


def test_every_hostile_app_in_the_corpus_is_tested() -> None:
    files = {path.stem for path in APPS.glob("*.html")}
    tested = {*SPECIFIC_CHECKS, "fullscreen_spoof", "sibling_secret"}
    assert files == tested
    assert len(files - {"sibling_secret"}) >= 15


def test_fullscreen_takeover_needs_permission_the_frame_lacks(
    browser: Browser, host: ArenaHost, listener: Listener
) -> None:
    battle = open_battle(browser, host, listener, "fullscreen_spoof")
    battle.page.frame_locator("#app-a").locator("#fake").click()
    deadline = time.monotonic() + 5
    while not any("seen" in report for report in battle.reports("fullscreen_spoof")):
        assert time.monotonic() < deadline, "the fullscreen attempt never reported"
        time.sleep(0.05)
    report = battle.reports("fullscreen_spoof")[-1]
    assert report["seen"]["fullscreen"].startswith("blocked")
    assert report["fullscreen"] == "null"
    assert_contained(battle, host, listener)


def test_sandboxed_apps_run_out_of_process(
    browser: Browser, host: ArenaHost, listener: Listener
) -> None:
    """Chromium isolates sandboxed frames in their own renderer (site-isolated "iframe"
    targets), which is why a spinning app cannot freeze the arena page."""
    battle = open_battle(browser, host, listener, "infinite_loop")
    expected = {f"{host.origin}/sandbox/{token}" for token in battle.tokens}
    # A busy machine may register the second frame's target a little after the page loads.
    deadline = time.monotonic() + 10
    while True:
        targets = battle.devtools.send("Target.getTargets")["targetInfos"]
        (page,) = [target for target in targets if target["url"] == battle.url]
        frames = {
            target["url"]
            for target in targets
            if target["type"] == "iframe" and target["browserContextId"] == page["browserContextId"]
        }
        if frames == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert frames == expected
    assert_contained(battle, host, listener)


COUNTER_APP = (
    '<!DOCTYPE html><html><body><button id="count" '
    'onclick="this.textContent = +this.textContent + 1">0</button></body></html>'
)


def open_pair(browser: Browser, host: ArenaHost, hostile: str, listener: Listener) -> Page:
    page = browser.new_context().new_page()
    page.goto(
        host.battle_url(app_source(hostile, host, listener), COUNTER_APP),
        wait_until="domcontentloaded",
    )
    time.sleep(1.5)
    return page


def side_b_answers_click(page: Page, timeout_s: float) -> bool:
    button = page.frame_locator("#app-b").locator("#count")
    try:
        button.click(timeout=timeout_s * 1000)
        return button.text_content(timeout=timeout_s * 1000) == "1"
    except PlaywrightTimeoutError:
        return False


def test_on_separate_sites_a_spinning_app_leaves_the_other_side_usable(
    browser: Browser, listener: Listener
) -> None:
    with running_arena_host(sides_on_separate_sites=True) as host:
        page = open_pair(browser, host, "infinite_loop", listener)
        started = time.perf_counter()
        assert side_b_answers_click(page, timeout_s=VOTE_DEADLINE_S)
        assert time.perf_counter() - started < VOTE_DEADLINE_S
        page.context.close()


def test_two_subdomains_of_one_domain_also_keep_the_sides_apart(
    browser: Browser, chromium_path: str, listener: Listener
) -> None:
    """Chromium gives each origin of sandboxed frames its own renderer, so the documented
    two-subdomain setup is enough (docs/webdev-isolation.md)."""
    subdomains = ("a.previews.test", "b.previews.test")
    # The subdomains stand for a deployment's: this browser finds them on 127.0.0.1.
    resolving = browser.browser_type.launch(
        executable_path=chromium_path,
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.test 127.0.0.1"],
    )
    try:
        with running_arena_host(preview_hosts=subdomains) as host:
            page = open_pair(resolving, host, "infinite_loop", listener)
            started = time.perf_counter()
            assert side_b_answers_click(page, timeout_s=VOTE_DEADLINE_S)
            assert time.perf_counter() - started < VOTE_DEADLINE_S
    finally:
        resolving.close()


def test_on_separate_sites_a_memory_bomb_kills_only_its_own_side(
    browser: Browser, listener: Listener
) -> None:
    with running_arena_host(sides_on_separate_sites=True) as host:
        page = browser.new_context().new_page()
        devtools = page.context.new_cdp_session(page)
        url = host.battle_url(app_source("memory_bomb", host, listener), COUNTER_APP)
        page.goto(url, wait_until="domcontentloaded")
        deadline = time.monotonic() + 20
        frames: list[str] = []
        while time.monotonic() < deadline:
            targets = devtools.send("Target.getTargets")["targetInfos"]
            frames = [target["url"] for target in targets if target["type"] == "iframe"]
            if "" in frames:  # a crashed frame's target loses its URL
                break
            time.sleep(0.1)
        assert frames.count("") == 1, f"expected side A alone to crash, frames: {frames}"
        assert any(frame.startswith("http://localhost:") for frame in frames)
        page.context.close()


def test_on_one_site_the_two_sides_share_a_renderer(
    browser: Browser, host: ArenaHost, listener: Listener
) -> None:
    """Why `SandboxPolicy.origins` exists: Chromium groups sandboxed frames by site, so with
    both previews on the arena's own origin a spinning app A also freezes app B."""
    page = open_pair(browser, host, "infinite_loop", listener)
    assert not side_b_answers_click(page, timeout_s=2.0)
    page.context.close()

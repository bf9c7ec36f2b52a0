"""The hostile app corpus against the real arena: the real /webdev page, server and sandbox.

One contestant answers with a hostile app, the other with a small counter; which side is
which stays hidden, as in any battle. The page is instrumented only to record the messages
the frames post (the arena page itself listens to none). After the attack the test checks
that the page, its cookies and the battle are untouched, that no byte reached an outside
listener, that nothing was voted but the voter's own click, and that this click is answered
with the reveal within a second.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from arena_host import Listener, running_listener
from playwright.sync_api import Browser, Dialog, Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from glassarena.web.app import create_app
from glassarena.web.settings import Settings
from glassarena.webdev.checker import CHROMIUM_ARGS
from glassarena.webdev.sandbox import ENV_PREVIEW_ORIGINS
from openai_test_server import ModelServerDouble, ScriptedModel

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from arena_server import openai_contestant, running_arena, write_config
from live_server import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APPS = Path(__file__).parent / "hostile_apps"
HOSTILE = "hostile-upstream"
COUNTER = "counter-upstream"
MODEL_NAMES = ("hostile-builder", "counter-builder")
COUNTER_APP = (
    '```html\n<!DOCTYPE html><html><body><button id="count" '
    'onclick="this.textContent = +this.textContent + 1">0</button></body></html>\n```'
)
# Only the test's instrumentation: it records what the frames post, with the sending side.
RECORD_MESSAGES = """
if (window === window.top) {
  window.__framesPosted = [];
  window.addEventListener('message', (event) => {
    const frames = [...document.querySelectorAll('.pane')];
    const pane = frames.find((p) => p.querySelector('iframe')?.contentWindow === event.source);
    window.__framesPosted.push({side: pane ? pane.dataset.side : null,
                                origin: event.origin, data: event.data});
  });
}
"""
CASES = (
    "storage_theft",
    "api_calls",
    "top_navigation",
    "popups",
    "forms",
    "beacons",
    "service_worker",
    "postmessage_spoof",
    "dialogs",
    "infinite_loop",
    "memory_bomb",
    "huge_dom",
    "identity_reveal",
    "nested_arena_frame",
    "downloads",
    "self_navigation",
    "clipboard_and_sensors",
)


@dataclass
class Arena:
    url: str
    database: Path
    double: ModelServerDouble


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_ARGS, "--js-flags=--max-old-space-size=256"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    directory = tmp_path_factory.mktemp("arena")
    script = {HOSTILE: ScriptedModel(), COUNTER: ScriptedModel(answer=COUNTER_APP)}
    with ModelServerDouble(script) as double:
        config = write_config(
            directory,
            contestants=[
                openai_contestant(MODEL_NAMES[0], double.openai_base_url, HOSTILE),
                openai_contestant(MODEL_NAMES[1], double.openai_base_url, COUNTER),
            ],
        )
        with running_arena(directory, config) as server:
            yield Arena(server.url, directory / "arena.db", double)


@pytest.fixture
def listener() -> Iterator[Listener]:
    with running_listener() as running:
        yield running


def hostile_answer(name: str, arena: Arena, listener: Listener) -> str:
    source = (APPS / f"{name}.html").read_text()
    source = source.replace("__HOST__", arena.url).replace("__LISTENER__", listener.origin)
    return f"Here is the app:\n\n```html\n{source}\n```\n"


def votes_recorded(arena: Arena) -> int:
    with sqlite3.connect(arena.database) as database:
        return database.execute("SELECT count(*) FROM votes").fetchone()[0]


class ArenaPage:
    """The arena page driven through its own DevTools session once the battle runs:
    Playwright declares the whole page crashed when only a preview frame's renderer dies
    (the memory bomb), while the arena page itself is alive and must keep working."""

    def __init__(self, page: Page) -> None:
        self.devtools = page.context.new_cdp_session(page)

    def evaluate(self, expression: str) -> Any:
        answer = self.devtools.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        assert "exceptionDetails" not in answer, answer
        return answer["result"].get("value")

    def wait_until(self, expression: str, timeout_s: float, what: str) -> float:
        started = time.perf_counter()
        while not self.evaluate(expression):
            assert time.perf_counter() - started < timeout_s, f"{what} within {timeout_s} s"
            time.sleep(0.01)
        return time.perf_counter() - started

    def click(self, selector: str) -> None:
        x, y = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.devtools.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def posted(self) -> list[dict[str, Any]]:
        return self.evaluate("window.__framesPosted")


@pytest.mark.parametrize("name", CASES)
def test_hostile_app_is_contained_in_the_real_arena(
    browser: Browser, arena: Arena, listener: Listener, name: str
) -> None:
    arena.double.script[HOSTILE] = ScriptedModel(answer=hostile_answer(name, arena, listener))
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(RECORD_MESSAGES)
    popups: list[str] = []
    dialogs: list[str] = []
    downloads: list[str] = []
    context.on("page", lambda popup: popups.append(popup.url))

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("download", lambda download: downloads.append(download.suggested_filename))

    page.goto(arena.url + "/webdev")
    url = page.url
    cookies = context.cookies()
    votes_before = votes_recorded(arena)
    page.fill("textarea#prompt", "Build me an app.")
    arena_page = ArenaPage(page)
    page.keyboard.press("Enter")
    arena_page.wait_until(
        "!document.querySelector('button.vote[data-choice=tie]').disabled", 30, "voting opens"
    )
    arena_page.wait_until(
        f"window.__framesPosted.some(m => m.data && m.data.hostile === {json.dumps(name)})",
        30,
        f"the {name} app runs",
    )
    time.sleep(0.7)

    posted = arena_page.posted()
    reports = [m for m in posted if isinstance(m["data"], dict) and "hostile" in m["data"]]
    assert {message["origin"] for message in posted} == {"null"}
    assert not any(model in json.dumps(reports) for model in MODEL_NAMES)
    assert arena_page.evaluate("location.href") == url, "the app navigated the arena page"
    assert context.cookies() == cookies
    assert arena_page.evaluate("document.fullscreenElement") is None
    assert popups == [] and dialogs == [] and downloads == []
    assert votes_recorded(arena) == votes_before, "something voted on the voter's behalf"
    revealed = "document.querySelectorAll('.pane.revealed').length"
    assert arena_page.evaluate(revealed) == 0, "the models were revealed"
    assert [data for data in listener.connections if data] == []

    arena_page.click("button.vote[data-choice=tie]")
    elapsed = arena_page.wait_until(f"{revealed} === 2", 5, "the vote is answered")
    assert elapsed < 1.0, f"the vote took {elapsed:.2f} s to be answered"
    assert votes_recorded(arena) == votes_before + 1
    context.close()


@contextmanager
def arena_with_preview_sites(
    directory: Path, double: ModelServerDouble, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The real arena with side A's previews on 127.0.0.1 and side B's on localhost: two
    sites, as GLASSARENA_PREVIEW_ORIGINS sets them in a deployment."""
    port = free_port()
    origins = f"http://127.0.0.1:{port},http://localhost:{port}"
    monkeypatch.setenv(ENV_PREVIEW_ORIGINS, origins)
    config = write_config(
        directory,
        contestants=[
            openai_contestant(MODEL_NAMES[0], double.openai_base_url, HOSTILE),
            openai_contestant(MODEL_NAMES[1], double.openai_base_url, COUNTER),
        ],
    )
    settings = Settings(
        database_url=f"sqlite:///{directory / 'arena.db'}",
        redis_url=None,
        config_path=config,
        secret_key="test-secret-key-" + "x" * 32,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the arena did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def arena_served_with_defaults(
    directory: Path, double: ModelServerDouble, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """`glassarena serve` as an operator starts it on one machine: no preview origins set
    (it picks side A on 127.0.0.1 and side B on localhost itself). No Chromium for checks,
    so the checker does not compete with the voter's browser for this machine's cores."""
    port = free_port()
    config = write_config(
        directory,
        contestants=[
            openai_contestant(MODEL_NAMES[0], double.openai_base_url, HOSTILE),
            openai_contestant(MODEL_NAMES[1], double.openai_base_url, COUNTER),
        ],
    )
    environment = {
        **{key: value for key, value in os.environ.items() if key != ENV_PREVIEW_ORIGINS},
        "GLASSARENA_DATA_DIR": str(directory),
        "GLASSARENA_CHROMIUM": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "glassarena", "serve", "--port", str(port), "--config", str(config)],
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        lines: list[str] = []
        while not any("serving on" in line for line in lines):
            line = server.stderr.readline()
            assert line, f"glassarena serve stopped: {lines}"
            lines.append(line)
        previews = f"side A on http://127.0.0.1:{port}, side B on http://localhost:{port}"
        assert any(previews in line for line in lines), lines
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/webdev", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the arena did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


SETUPS = {"default serve": arena_served_with_defaults, "two origins set": arena_with_preview_sites}


def start_hostile_battle(browser: Browser, url: str, double: ModelServerDouble, name: str) -> Page:
    source = (APPS / f"{name}.html").read_text()
    double.script[HOSTILE] = ScriptedModel(answer=f"```html\n{source}\n```")
    page = browser.new_context().new_page()
    page.goto(url + "/webdev")
    page.fill("textarea#prompt", "Build me an app.")
    page.keyboard.press("Enter")
    ArenaPage(page).wait_until(
        "!document.querySelector('button.vote[data-choice=tie]').disabled", 30, "voting opens"
    )
    return page


def has_element(locator: Locator) -> bool:
    """Whether the element exists, asked with a time limit: a spinning frame never answers
    (the limit is the counter's frame loading on a busy machine, not the timed response)."""
    try:
        locator.wait_for(state="attached", timeout=10_000)
    except PlaywrightTimeoutError:
        return False
    return True


@pytest.mark.parametrize("setup", SETUPS)
def test_with_two_preview_sites_a_spinning_app_leaves_the_other_side_usable(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str
) -> None:
    script = {HOSTILE: ScriptedModel(), COUNTER: ScriptedModel(answer=COUNTER_APP)}
    with (
        ModelServerDouble(script) as double,
        SETUPS[setup](tmp_path, double, monkeypatch) as url,
    ):
        page = start_hostile_battle(browser, url, double, "infinite_loop")
        frames = page.locator(".app-preview iframe")
        sources = {frames.nth(index).get_attribute("src") or "" for index in range(2)}
        origins = {source.split("/sandbox/")[0] for source in sources}
        port = url.rsplit(":", 1)[1]
        assert origins == {f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
        policy = page.request.get(url + "/webdev").headers["content-security-policy"]
        assert f"frame-src http://127.0.0.1:{port} http://localhost:{port}" in policy
        time.sleep(2.0)  # the hostile app is spinning by now
        button = next(
            candidate
            for candidate in (
                page.frame_locator(f'.pane[data-side="{side}"] iframe').locator("#count")
                for side in ("a", "b")
            )
            if has_element(candidate)
        )
        # Three clicks, their median within 1 s: one click's time on 2 busy cores is noisy
        # (1.97 s once in a CI dry run, with the other side's app still usable).
        times = [click_response_time(page, button, count) for count in (1, 2, 3)]
        assert statistics.median(times) < 1.0, times
        page.context.close()


def click_response_time(page: Page, button: Locator, count: int = 1) -> float:
    """Seconds from a real mouse click on the counter to its frame showing `count`: the
    click goes in through DevTools, as a person's would, without Playwright's round trips
    to check the target first (on a busy machine those alone can take a second)."""
    box = button.bounding_box(timeout=5_000)
    assert box is not None, "the counter is not on screen"
    devtools = page.context.new_cdp_session(page)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    started = time.perf_counter()
    for kind in ("mousePressed", "mouseReleased"):
        devtools.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
        )
    deadline = started + 5
    while time.perf_counter() < deadline:
        if button.text_content(timeout=5_000) == str(count):
            return time.perf_counter() - started
        time.sleep(0.01)
    raise AssertionError("the counter did not respond to the click within 5 s")


@pytest.mark.parametrize("setup", SETUPS)
def test_with_two_preview_sites_a_memory_bomb_kills_only_its_own_side(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str
) -> None:
    script = {HOSTILE: ScriptedModel(), COUNTER: ScriptedModel(answer=COUNTER_APP)}
    with (
        ModelServerDouble(script) as double,
        SETUPS[setup](tmp_path, double, monkeypatch) as url,
    ):
        page = start_hostile_battle(browser, url, double, "memory_bomb")
        # Playwright calls the whole page crashed when one frame's renderer dies, so the
        # frames are watched through DevTools: a crashed frame's target loses its URL.
        devtools = page.context.new_cdp_session(page)
        deadline = time.monotonic() + 20
        frames: list[str] = []
        while time.monotonic() < deadline:
            targets = devtools.send("Target.getTargets")["targetInfos"]
            frames = [target["url"] for target in targets if target["type"] == "iframe"]
            if "" in frames:
                break
            time.sleep(0.1)
        assert frames.count("") == 1, f"expected the bomb's side alone to crash: {frames}"
        survivor = next(frame for frame in frames if frame)
        assert "/sandbox/" in survivor
        title = devtools.send("Runtime.evaluate", {"expression": "document.title"})
        assert title["result"]["value"].startswith("WebDev arena")
        page.context.close()

"""A WebDev battle in the real arena, in real Chromium.

Two contestants served by the OpenAI-protocol test double (scripted answers, real HTTP
streaming) answer with web apps. Both previews run live in sandboxed frames, the voter uses
one, votes, the vote counts, and the execution checks appear after the vote. The checks are
run by the server whether or not a client watches, stored with the battle (a reload shows
them), and counted on the WebDev leaderboard's "apps that run" column.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, FrameLocator, Page, sync_playwright

from glassarena.webdev.checker import CHROMIUM_ARGS
from openai_test_server import ModelServerDouble, ScriptedModel

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from arena_server import openai_contestant, running_arena, sse_events, write_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path("/tmp/glassarena-screenshots")

COUNTER_ANSWER = """Here is a counter app:

```html
<!DOCTYPE html>
<html>
<head><style>body { font-family: sans-serif; } #count { font-size: 2rem; }</style></head>
<body>
  <h1>Counter</h1>
  <button id="count">0</button>
  <script>
    const button = document.getElementById('count');
    button.addEventListener('click', () => {
      button.textContent = Number(button.textContent) + 1;
    });
  </script>
</body>
</html>
```

Click the button to count."""

TODO_ANSWER = """I'll split it into three files.

```html
<!DOCTYPE html>
<html>
<head><link rel="stylesheet" href="style.css"></head>
<body>
  <h1>Todo</h1>
  <form id="add"><input id="item" placeholder="New item"><button>Add</button></form>
  <ul id="list"></ul>
  <script src="app.js"></script>
</body>
</html>
```

```css
li { color: darkgreen; }
```

```javascript
const list = document.getElementById('list');
document.getElementById('add').addEventListener('submit', (event) => {
  event.preventDefault();
  const item = document.createElement('li');
  item.textContent = document.getElementById('item').value;
  list.append(item);
});
missingSetupFunction();
```"""


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, args=list(CHROMIUM_ARGS)
        )
        yield launched
        launched.close()


def app_frame(page: Page, side: str) -> FrameLocator:
    return page.frame_locator(f'.pane[data-side="{side}"] .app-preview iframe')


def tool(page: Page, side: str, action: str) -> str:
    return f'.pane[data-side="{side}"] .app-toolbar button[data-action="{action}"]'


def use_the_toolbar(page: Page, side: str) -> None:
    """Reload, phone width, full screen and view code on one side's preview."""
    counter = app_frame(page, side).locator("#count")
    page.click(tool(page, side, "reload"))
    counter.filter(has_text="0").wait_for(timeout=10_000)
    frame = page.locator(f'.pane[data-side="{side}"] .app-preview iframe')
    desktop_width = (frame.bounding_box() or {})["width"]
    page.click(tool(page, side, "width"))
    assert 385 <= (frame.bounding_box() or {})["width"] <= 395
    assert page.get_attribute(tool(page, side, "width"), "aria-pressed") == "true"
    page.click(tool(page, side, "width"))
    assert (frame.bounding_box() or {})["width"] == desktop_width
    page.click(tool(page, side, "full-screen"))
    figure = page.locator(f'.pane[data-side="{side}"] .app-preview')
    box = figure.bounding_box() or {}
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 1400, 1000)
    page.keyboard.press("Escape")
    assert (figure.bounding_box() or {})["width"] < 1400
    page.click(tool(page, side, "code"))
    page.wait_for_selector(f'.pane[data-side="{side}"] .message.assistant pre.app-code-flash')


def wait_for_stored_checks(database_path: Path, count: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with sqlite3.connect(database_path) as database:
            (stored,) = database.execute("SELECT count(*) FROM app_checks").fetchone()
        if stored >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} execution checks stored after {timeout_s} s")


def test_webdev_battle_previews_vote_and_checks(tmp_path: Path, browser: Browser) -> None:
    script = {
        "counter-upstream": ScriptedModel(answer=COUNTER_ANSWER, token_delay=0.002),
        "todo-upstream": ScriptedModel(answer=TODO_ANSWER, token_delay=0.002),
    }
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("counter-smith", double.openai_base_url, "counter-upstream"),
                openai_contestant("todo-wright", double.openai_base_url, "todo-upstream"),
            ],
        )
        with running_arena(tmp_path, config) as server:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url + "/webdev")
            page.fill("textarea#prompt", "Build me a small web app.")
            page.keyboard.press("Enter")
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])", timeout=30_000)
            with sqlite3.connect(tmp_path / "arena.db") as database:
                (battle_id,) = database.execute("SELECT public_id FROM battles").fetchone()

            # Both previews run live; which model is on which side is hidden.
            frames = page.locator(".app-preview iframe")
            assert frames.count() == 2
            for index in range(2):
                assert frames.nth(index).get_attribute("sandbox") == "allow-scripts allow-forms"
                assert frames.nth(index).get_attribute("referrerpolicy") == "no-referrer"
            sides = {}
            for side in ("a", "b"):
                heading = app_frame(page, side).locator("h1").text_content(timeout=10_000)
                sides[heading] = side
            assert set(sides) == {"Counter", "Todo"}

            # The voter tries both apps.
            counter = app_frame(page, sides["Counter"]).locator("#count")
            counter.click()
            counter.click()
            assert counter.text_content() == "2"
            todo = app_frame(page, sides["Todo"])
            todo.locator("#item").fill("buy milk")
            todo.locator("#add button").click()
            assert todo.locator("#list li").text_content() == "buy milk"
            use_the_toolbar(page, sides["Counter"])

            # The app documents carry the sandbox, not the arena page's policy.
            src = frames.nth(0).get_attribute("src")
            assert src is not None
            response = httpx.get(server.url + src)
            assert response.headers["content-security-policy"].startswith("sandbox allow-scripts")
            assert "x-frame-options" not in response.headers
            arena_page = httpx.get(server.url + "/webdev")
            assert "script-src 'self'" in arena_page.headers["content-security-policy"]

            # Execution checks stay hidden until the vote: they could sway it.
            fetch_checks = (
                "async (id) => { const r = await fetch(`/api/battles/${id}/checks`);"
                " return [r.status, await r.json()]; }"
            )
            status, body = page.evaluate(fetch_checks, battle_id)
            assert status == 409, body

            page.click(f"button.vote[data-choice={sides['Counter']}]")
            page.wait_for_selector(".pane.revealed")
            notice = page.text_content('[data-role="notice"]') or ""
            assert "counts toward the leaderboard" in notice
            titles = page.locator(".pane-title").all_inner_texts()
            assert any("counter-smith" in title for title in titles)

            page.wait_for_selector('[data-role="app-check"] >> nth=1', timeout=30_000)
            counter_check = (
                page.text_content(f'.pane[data-side="{sides["Counter"]}"] [data-role="app-check"]')
                or ""
            )
            todo_check = (
                page.text_content(f'.pane[data-side="{sides["Todo"]}"] [data-role="app-check"]')
                or ""
            )
            assert "Runs: loaded, rendered, no uncaught errors: yes" in counter_check
            assert "Runs: loaded, rendered, no uncaught errors: no" in todo_check
            assert "missingSetupFunction" in todo_check
            status, body = page.evaluate(fetch_checks, battle_id)
            assert status == 200
            (turn,) = body["turns"]
            assert {side: check["runs"] for side, check in turn["checks"].items()} == {
                sides["Counter"]: True,
                sides["Todo"]: False,
            }
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "webdev-after-vote.png"), full_page=True)

            # The checks are kept with the battle: a fresh page load reads them back.
            page.click('[data-role="checks-link"] a')
            page.wait_for_url(f"**/webdev/battles/{battle_id}")
            page.reload()
            for model, runs in (("counter-smith", "yes"), ("todo-wright", "no")):
                section = page.locator('[data-role="stored-check"]').filter(has_text=model)
                assert section.locator('[data-role="runs"]').text_content() == runs
            todo_section = page.locator('[data-role="stored-check"]').filter(has_text="todo-wright")
            assert "missingSetupFunction" in (todo_section.text_content() or "")
            screenshots = page.locator("img.check-screenshot")
            assert screenshots.count() == 2
            for index in range(2):
                screenshots.nth(index).scroll_into_view_if_needed()
                assert page.evaluate(
                    "(image) => image.complete && image.naturalWidth > 0",
                    screenshots.nth(index).element_handle(),
                )
            page.screenshot(path=str(SCREENSHOTS / "webdev-stored-checks.png"), full_page=True)

            # A second voter's battle, voted the other way, so both models can be rated.
            with httpx.Client(base_url=server.url) as other:
                started = other.post(
                    "/api/battles", json={"kind": "webdev", "prompt": "Another app."}, timeout=30
                )
                events = sse_events(started.text)
                second_id = events[0]["battle_id"]
                answers: dict[str, str] = {}
                for event in events:
                    if event["type"] == "delta":
                        answers[event["side"]] = answers.get(event["side"], "") + event["text"]
                todo_side = next(side for side, text in answers.items() if "Todo" in text)
                voted = other.post(f"/api/battles/{second_id}/vote", json={"choice": todo_side})
                assert voted.status_code == 200, voted.text
            wait_for_stored_checks(tmp_path / "arena.db", 4)

            # The WebDev leaderboard shows each model's share of apps that run.
            deadline = time.monotonic() + 30
            while (
                httpx.get(server.url + "/leaderboard.json?category=webdev").json().get("votes") != 2
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            board = httpx.get(server.url + "/leaderboard.json?category=webdev").json()
            shares = {share["model"]: share for share in board["apps_that_run"]}
            assert (shares["counter-smith"]["runs"], shares["counter-smith"]["answers"]) == (2, 2)
            assert (shares["todo-wright"]["runs"], shares["todo-wright"]["answers"]) == (0, 2)
            table = httpx.get(server.url + "/leaderboard.csv?category=webdev").text
            assert "apps_that_run" in table.splitlines()[0]
            page.goto(server.url + "/leaderboard?category=webdev")
            assert page.locator("th", has_text="Apps that run").count() == 1
            row = page.locator("tr", has_text="counter-smith")
            assert (row.locator('[data-role="apps-that-run"]').text_content() or "").startswith(
                "100% (2/2"
            )
            page.screenshot(path=str(SCREENSHOTS / "webdev-leaderboard.png"), full_page=True)
            page.close()


def test_code_streams_first_and_the_preview_starts_once_the_app_is_complete(
    tmp_path: Path, browser: Browser
) -> None:
    script = {"counter-upstream": ScriptedModel(answer=COUNTER_ANSWER, token_delay=0.03)}
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "counter-upstream")
                for name in ("counter-one", "counter-two")
            ],
        )
        with running_arena(tmp_path, config) as server:
            page = browser.new_page()
            page.goto(server.url + "/webdev")
            page.fill("textarea#prompt", "Build a counter.")
            page.keyboard.press("Enter")
            page.wait_for_selector(".message.assistant .message-body.streaming")
            seen_streaming_code = False
            while page.locator(".message-body.streaming").count():
                # A frame started with the turn waits hidden, with no app, until the end.
                text, frames = page.evaluate(
                    """() => [document.querySelector('.pane[data-side="a"] .message.assistant')
                               ?.textContent ?? "", document.querySelectorAll(
                               '.pane[data-side="a"] .app-preview:not(.app-booting) iframe')
                               .length]"""
                )
                if "<h1>Counter</h1>" in text and "Click the button" not in text:
                    seen_streaming_code = True
                    assert frames == 0, "the preview started before the app was complete"
                time.sleep(0.05)
            assert seen_streaming_code
            page.wait_for_selector('.pane[data-side="a"] .app-preview iframe')
            page.close()


def test_the_server_checks_apps_when_no_client_follows_the_stream(tmp_path: Path) -> None:
    script = {"counter-upstream": ScriptedModel(answer=COUNTER_ANSWER, token_delay=0.01)}
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "counter-upstream")
                for name in ("counter-one", "counter-two")
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            request = {"kind": "webdev", "prompt": "Build a counter."}
            with client.stream("POST", "/api/battles", json=request, timeout=30) as started:
                next(started.iter_lines())  # the battle is stored; the client walks away
            wait_for_stored_checks(tmp_path / "arena.db", 2)
    with sqlite3.connect(tmp_path / "arena.db") as database:
        rows = database.execute(
            "SELECT checked, runs, length(screenshot_png) FROM app_checks"
        ).fetchall()
    assert [(checked, runs) for checked, runs, _size in rows] == [(1, 1), (1, 1)]
    assert all(size > 0 for _checked, _runs, size in rows)


def test_a_reconnecting_client_gets_the_previews_again(tmp_path: Path) -> None:
    script = {"counter-upstream": ScriptedModel(answer=COUNTER_ANSWER)}
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "counter-upstream")
                for name in ("counter-one", "counter-two")
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            started = client.post(
                "/api/battles", json={"kind": "webdev", "prompt": "Build a counter."}, timeout=30
            )
            first = sse_events(started.text)
            again = sse_events(client.get(f"/api/battles/{first[0]['battle_id']}/events").text)
    for events in (first, again):
        apps = [event for event in events if event["type"] == "app"]
        assert sorted(event["side"] for event in apps) == ["a", "b"]
        assert all(event["frame"]["src"].startswith("/sandbox/") for event in apps)
    sources = {event["frame"]["src"] for event in first + again if event["type"] == "app"}
    assert len(sources) == 4  # a replay gets fresh tokens

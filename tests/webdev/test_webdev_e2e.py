"""A WebDev battle in the real arena, in real Chromium.

Two contestants served by the OpenAI-protocol test double (scripted answers, real HTTP
streaming) answer with web apps. Both previews run live in sandboxed frames, the voter uses
one, votes, the vote counts, and the execution checks appear after the vote.
"""

from __future__ import annotations

import sqlite3
import sys
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
            page.close()


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

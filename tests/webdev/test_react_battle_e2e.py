"""A WebDev battle in React + TypeScript + Tailwind, in real Chromium, then a follow-up turn.

Two contestants served by the OpenAI-protocol test double over real HTTP answer the voter's
prompt: one with a single App.tsx, one with App.tsx importing components/Card.tsx. Both apps
are compiled on the server (Babel and Tailwind, in the arena's compiler page) and run in
their sandboxed frames with the arena's own React, and render styled cards. The follow-up
asks for a change: each model gets its previous code in the conversation, one answers with a
whole new App.tsx, the other with only the changed Card.tsx (an edit of its project), both
previews are replaced by the new apps, and the execution check runs again for each turn and
is stored per turn; every check finds its app running.

The browser has no network except the arena's origin: host names resolve to nothing but the
loopback address, and every request to another origin is refused and recorded.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, Route, sync_playwright

from glassarena.webdev.checker import CHROMIUM_ARGS
from openai_test_server import ModelServerDouble, ScriptedModel

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from arena_server import openai_contestant, running_arena, write_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path("/tmp/glassarena-screenshots")
# Nothing resolves but the loopback address the arena listens on.
LOOPBACK_ONLY_ARGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",)

SINGLE_FILE = """Here is the card as one React component:

```tsx
import { useState } from "react";

type Props = { greeting: string };

function Card({ greeting }: Props) {
  const [likes, setLikes] = useState<number>(0);
  return (
    <section data-testid="card" className="rounded-2xl bg-{colour}-600 p-8 text-white shadow-lg">
      <h1 className="text-3xl font-bold">{greeting}</h1>
      <button data-testid="like" className="mt-4 rounded bg-white px-4 py-2 text-slate-900"
        onClick={() => setLikes(likes + 1)}>Likes: {likes}</button>
    </section>
  );
}

export default function App() {
  return (
    <main className="flex min-h-screen items-center justify-center bg-slate-100">
      <Card greeting="{greeting}" />
    </main>
  );
}
```

The card uses Tailwind classes for its colours and spacing."""

MULTI_FILE = """I'll split it into two files.

**App.tsx**
```tsx
import { Card } from "./components/Card";

export default function App() {
  return (
    <main className="grid min-h-screen place-items-center bg-zinc-900">
      <Card />
    </main>
  );
}
```

**components/Card.tsx**
```tsx
export function Card(): JSX.Element {
  return (
    <section data-testid="card"
      className="rounded-xl border-4 border-white bg-{colour}-500 px-10 py-6">
      <h1 className="text-2xl font-semibold text-zinc-900">{greeting}</h1>
    </section>
  );
}
```"""

CARD_ONLY = """Only the card changes:

**components/Card.tsx**
```tsx
export function Card(): JSX.Element {
  return (
    <section data-testid="card"
      className="rounded-xl border-4 border-white bg-{colour}-500 px-10 py-6">
      <h1 className="text-2xl font-semibold text-zinc-900">{greeting}</h1>
      <p data-testid="edited">Edited in the second turn</p>
    </section>
  );
}
```

App.tsx stays as it was."""


def _answer(template: str, colour: str, greeting: str) -> str:
    return template.replace("{colour}", colour).replace("{greeting}", greeting)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, args=[*CHROMIUM_ARGS, *LOOPBACK_ONLY_ARGS]
        )
        yield launched
        launched.close()


def current_app(page: Page, side: str) -> FrameLocator:
    return page.frame_locator(f'.pane[data-side="{side}"] .app-preview:not(.app-replaced) iframe')


def card_style(page: Page, side: str) -> dict[str, str]:
    card = current_app(page, side).locator('[data-testid="card"]')
    card.wait_for(timeout=60_000)
    style: dict[str, str] = card.evaluate(
        "(element) => { const s = getComputedStyle(element);"
        " return {background: s.backgroundColor, padding: s.paddingTop,"
        " radius: s.borderTopLeftRadius, text: element.querySelector('h1').textContent}; }"
    )
    return style


def assert_styled(style: dict[str, str]) -> None:
    # Tailwind's classes took effect: a coloured, padded, rounded card.
    assert style["background"] not in ("rgba(0, 0, 0, 0)", "transparent"), style
    assert style["padding"] != "0px" and style["radius"] != "0px", style


def wait_for_vote(page: Page) -> None:
    page.wait_for_selector("button.vote[data-choice=a]:not([disabled])", timeout=90_000)


def stored_checks(database_path: Path, count: int, timeout_s: float = 120.0) -> list[tuple]:
    deadline = time.monotonic() + timeout_s
    while True:
        with sqlite3.connect(database_path) as database:
            rows = database.execute(
                "SELECT turns.number, answers.side, app_checks.runs, app_checks.stack,"
                " app_checks.failure, app_checks.load_ms, app_checks.uncaught_errors"
                " FROM app_checks"
                " JOIN answers ON app_checks.answer_id = answers.id"
                " JOIN turns ON answers.turn_id = turns.id ORDER BY turns.number, answers.side"
            ).fetchall()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def test_react_battle_renders_styled_apps_and_a_follow_up_changes_them(
    tmp_path: Path, browser: Browser
) -> None:
    script = {
        "single-upstream": ScriptedModel(
            answer=_answer(SINGLE_FILE, "indigo", "Hello, arena"),
            follow_ups=(_answer(SINGLE_FILE, "rose", "Hello again"),),
            token_delay=0.001,
        ),
        "multi-upstream": ScriptedModel(
            answer=_answer(MULTI_FILE, "emerald", "Hello, arena"),
            follow_ups=(_answer(CARD_ONLY, "amber", "Hello again"),),
            token_delay=0.001,
        ),
    }
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("single-smith", double.openai_base_url, "single-upstream"),
                openai_contestant("multi-wright", double.openai_base_url, "multi-upstream"),
            ],
        )
        with running_arena(tmp_path, config) as server:
            arena_origin = server.url.rstrip("/")
            refused: list[str] = []
            runtime_requests: list[str] = []

            def only_the_arena(route: Route) -> None:
                url = route.request.url
                parts = urlsplit(url)
                if url.startswith("data:") or url.startswith("blob:"):
                    route.continue_()
                elif f"{parts.scheme}://{parts.netloc}" == arena_origin:
                    if "/runtimes/" in parts.path:
                        runtime_requests.append(parts.path)
                    route.continue_()
                else:
                    refused.append(url)
                    route.abort()

            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.route("**/*", only_the_arena)
            page = context.new_page()
            page.goto(server.url + "/webdev")
            # The deployment's default stack is React + TypeScript + Tailwind.
            assert page.input_value("select#stack") == "react"
            page.fill("textarea#prompt", "A greeting card with a like button.")
            page.keyboard.press("Enter")
            wait_for_vote(page)
            assert page.is_disabled("select#stack")

            first = {side: card_style(page, side) for side in ("a", "b")}
            for style in first.values():
                assert_styled(style)
                assert style["text"] == "Hello, arena"
            # The single-file app's state works: React runs, not just renders.
            single = next(
                side
                for side in ("a", "b")
                if current_app(page, side).locator('[data-testid="like"]').count()
            )
            multi = "b" if single == "a" else "a"
            like = current_app(page, single).locator('[data-testid="like"]')
            like.click()
            like.click()
            assert like.text_content() == "Likes: 2"
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "react-battle-turn-1.png"), full_page=True)

            page.fill("textarea#prompt", "Make the card warmer and greet me again.")
            page.keyboard.press("Enter")
            wait_for_vote(page)
            second = {side: card_style(page, side) for side in ("a", "b")}
            for side, style in second.items():
                assert_styled(style)
                assert style["text"] == "Hello again"
                assert style["background"] != first[side]["background"]
            # The multi-file app was edited: its new Card under the old App.
            edited = current_app(page, multi).locator('[data-testid="edited"]')
            assert edited.text_content() == "Edited in the second turn"
            # One app per side runs; the first turn's previews say they were replaced.
            assert page.locator(".app-preview.app-replaced").count() == 2
            assert page.locator(".app-preview iframe").count() == 2
            page.screenshot(path=str(SCREENSHOTS / "react-battle-turn-2.png"), full_page=True)

            # Each model got its own previous code with the follow-up prompt.
            follow_ups = [
                request.body["messages"]
                for request in double.requests
                if sum(message["role"] == "user" for message in request.body["messages"]) == 2
            ]
            assert len(follow_ups) == 2
            for messages in follow_ups:
                previous = next(m for m in messages if m["role"] == "assistant")
                assert "export default function App()" in previous["content"]
                assert "```tsx" in messages[0]["content"]  # the React system prompt

            page.click("button.vote[data-choice=a]")
            page.wait_for_selector(".pane.revealed")
            # The execution check ran again for the second turn: one stored check per turn
            # and side, each of the React app the turn's answer made.
            rows = stored_checks(tmp_path / "arena.db", 4)
            assert [(turn, side, stack) for turn, side, _runs, stack, *_ in rows] == [
                (1, "a", "react"),
                (1, "b", "react"),
                (2, "a", "react"),
                (2, "b", "react"),
            ], rows
            # Every app ran in the check: compiled on the server, each page loads React
            # alone, well within the checker's 8 s load limit even on a loaded machine.
            for _turn, _side, runs, _stack, failure, _load_ms, uncaught in rows:
                assert runs and failure is None and uncaught == "[]", rows
            with sqlite3.connect(tmp_path / "arena.db") as database:
                (asked,) = database.execute("SELECT webdev_stack FROM battles").fetchone()
            assert asked == "react"

            # The runtimes came from the arena itself; nothing else was reached. The apps
            # were compiled on the server: the voter's frames loaded React, not Babel.
            assert any("/react-dom@" in path for path in runtime_requests), runtime_requests
            assert not any("/babel@" in path for path in runtime_requests), runtime_requests
            assert refused == []
            context.close()

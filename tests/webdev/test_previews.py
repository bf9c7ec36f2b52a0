"""Previews added to a WebDev battle's event stream, and where their documents are kept."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.previews import (
    InProcessPreviewStore,
    PreviewStore,
    RedisPreviewStore,
    WebdevPreviews,
)
from glassarena.webdev.sandbox import unpack_document

APP_ANSWER = "Here:\n```html\n<!DOCTYPE html><html><body><h1>Hi</h1></body></html>\n```\n"
PROSE_ANSWER = "I would rather explain than build: a counter needs a button and a number."


async def battle_events(answers: dict[str, str], turn: int = 1) -> AsyncIterator[dict[str, Any]]:
    yield {"type": "battle", "battle_id": "battle-1", "turn": turn, "prompt": "build"}
    for side, answer in answers.items():
        for word in answer.split(" "):
            yield {"type": "delta", "side": side, "text": word + " "}
    for side in answers:
        yield {"type": "done", "side": side}
    yield {"type": "complete", "voting_open": True}


async def collect(events: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(event) async for event in events]


async def test_each_finished_side_gets_an_app_event_after_done() -> None:
    store = InProcessPreviewStore()
    previews = WebdevPreviews(store)
    events = await collect(
        previews.with_previews(battle_events({"a": APP_ANSWER, "b": PROSE_ANSWER}))
    )
    kinds = [event["type"] for event in events if event["type"] in ("done", "app")]
    assert kinds == ["done", "app", "done", "app"]
    app_a, app_b = [event for event in events if event["type"] == "app"]
    assert app_a["side"] == "a" and app_a["note"] is None and not app_a["truncated"]
    token = app_a["frame"]["src"].rsplit("/", 1)[1]
    document = await store.get_app(token)
    assert document is not None and "<h1>Hi</h1>" in document
    assert app_a["frame"]["sandbox"] == "allow-scripts allow-forms"
    assert app_b == {
        "type": "app",
        "side": "b",
        "frame": None,
        "truncated": False,
        "note": "no runnable app: the answer has no code",
    }
    await previews.aclose()


async def test_a_replayed_stream_gets_fresh_tokens() -> None:
    previews = WebdevPreviews(InProcessPreviewStore())
    first = await collect(previews.with_previews(battle_events({"a": APP_ANSWER, "b": APP_ANSWER})))
    replay = await collect(
        previews.with_previews(battle_events({"a": APP_ANSWER, "b": APP_ANSWER}))
    )
    # A preview address is never reused across page views.
    srcs = {event["frame"]["src"] for event in first + replay if event["type"] == "app"}
    assert len(srcs) == 4
    await previews.aclose()


async def store_round_trip(store: PreviewStore) -> None:
    token = await store.put_app("<p>app</p>")
    assert await store.get_app(token) == "<p>app</p>"
    assert await store.get_app("unknown-token-0000000000000") is None
    await store.aclose()


async def test_in_process_store_round_trip() -> None:
    await store_round_trip(InProcessPreviewStore())


@pytest.mark.redis
async def test_redis_store_round_trip(redis_url: str) -> None:
    await store_round_trip(
        RedisPreviewStore(redis_url, prefix=f"glassarena-test:{uuid.uuid4().hex}")
    )


REACT_APP = (
    "**App.tsx**\n```tsx\nimport { Card } from './Card';\n"
    "export default function App() { return <Card />; }\n```\n\n"
    "**Card.tsx**\n```tsx\nexport function Card() { return <p>first card</p>; }\n```\n"
)
CARD_EDIT = "**Card.tsx**\n```tsx\nexport function Card() { return <p>second card</p>; }\n```\n"


async def test_a_react_answer_is_previewed_in_its_stack() -> None:
    store = InProcessPreviewStore()
    previews = WebdevPreviews(store)
    events = await collect(
        previews.with_previews(
            battle_events({"a": REACT_APP, "b": APP_ANSWER}), stack=WebdevStack.REACT
        )
    )
    apps = {event["side"]: event for event in events if event["type"] == "app"}
    assert apps["a"]["stack"] == "react" and apps["b"]["stack"] == "html"
    stored = await store.get_app(apps["a"]["frame"]["src"].rsplit("/", 1)[1])
    assert stored is not None
    stack, document, compiled = unpack_document(stored)
    # Not compiled (this arena has no compiler): the React stack's whole policy.
    assert not compiled
    # The harness page carries the project's files and loads the arena's own runtimes.
    assert stack is WebdevStack.REACT
    assert "first card" in document and "/sandbox/runtimes/" in document
    await previews.aclose()


async def test_a_follow_up_preview_is_an_edit_of_the_earlier_app() -> None:
    store = InProcessPreviewStore()
    previews = WebdevPreviews(store)
    events = await collect(
        previews.with_previews(
            battle_events({"a": CARD_EDIT}, turn=2),
            stack=WebdevStack.REACT,
            earlier={"a": [REACT_APP]},
        )
    )
    (app,) = [event for event in events if event["type"] == "app"]
    assert app["note"] is None and app["stack"] == "react"
    stored = await store.get_app(app["frame"]["src"].rsplit("/", 1)[1])
    assert stored is not None
    _stack, document, _compiled = unpack_document(stored)
    # The new Card, under the App of the first turn.
    assert "second card" in document and "first card" not in document
    assert "export default function App()" in document
    await previews.aclose()


PYTHON_APP = "Here:\n```python\nprint('hello from python')\n```\n"


async def test_each_side_gets_a_frame_started_with_the_turn_and_its_app_to_post() -> None:
    store = InProcessPreviewStore()
    previews = WebdevPreviews(store)
    events = await collect(
        previews.with_previews(
            battle_events({"a": PYTHON_APP, "b": APP_ANSWER}), stack=WebdevStack.PYTHON
        )
    )
    # Right after the turn starts, before any answer arrives: one started frame per side.
    assert [event["type"] for event in events[:3]] == ["battle", "app-boot", "app-boot"]
    started = {event["side"]: event["frame"] for event in events[1:3]}
    assert set(started) == {"a", "b"}
    assert started["a"]["sandbox"] == "allow-scripts allow-forms"
    stored = await store.get_app(started["a"]["src"].rsplit("/", 1)[1])
    assert stored is not None
    stack, document, _compiled = unpack_document(stored)
    # Served with the Python stack's policy; it loads Pyodide and holds no app yet.
    assert stack is WebdevStack.PYTHON and "pyodide.js" in document
    assert "hello from python" not in document
    apps = {event["side"]: event for event in events if event["type"] == "app"}
    # The Python app is posted into its started frame; its own document is the reload's.
    assert apps["a"]["boot"] == {
        "entry": "main.py",
        "files": {"main.py": "print('hello from python')"},
    }
    assert apps["a"]["frame"]["src"] != started["a"]["src"]
    # A side that answered in another stack gets a fresh frame of its own.
    assert "boot" not in apps["b"] and apps["b"]["stack"] == "html"
    await previews.aclose()


async def test_no_frame_is_started_where_it_could_not_run_the_app() -> None:
    store = InProcessPreviewStore()
    previews = WebdevPreviews(store)
    answers = {"a": REACT_APP, "b": APP_ANSWER}
    # An HTML app brings its own code; a React app without the server's compiler needs Babel
    # in its page, which a started frame does not load.
    for stack in (WebdevStack.HTML, WebdevStack.REACT):
        events = await collect(previews.with_previews(battle_events(answers), stack=stack))
        assert not [event for event in events if event["type"] == "app-boot"]
        assert not [event for event in events if "boot" in event]
    # A single-model battle has one side.
    events = await collect(
        previews.with_previews(
            battle_events({"a": PYTHON_APP}), stack=WebdevStack.PYTHON, sides=("a",)
        )
    )
    assert [event["side"] for event in events if event["type"] == "app-boot"] == ["a"]
    await previews.aclose()

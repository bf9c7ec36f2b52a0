"""SSE ids: the same on every node, and `Last-Event-ID` resumes right after the event named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from arena_server import sse_events

from glassarena.web.event_stream import with_rendered_answers

TURN = [
    {"type": "battle", "battle_id": "b1", "turn": 2, "prompt": "p", "id": "2-0"},
    {"type": "delta", "side": "a", "text": "Hello ", "id": "2-1"},
    {"type": "delta", "side": "a", "text": "there", "id": "2-2"},
    {"type": "done", "side": "a", "id": "2-3"},
    {"type": "app", "side": "a", "frame": None},  # added after `done`, without an id
    {"type": "delta", "side": "b", "text": "Hi", "id": "2-4"},
]


async def _events() -> AsyncIterator[dict[str, Any]]:
    for event in TURN:
        yield event


async def _body(last_event_id: str | None) -> str:
    return b"".join(
        [chunk async for chunk in with_rendered_answers(_events(), last_event_id)]
    ).decode()


async def test_every_event_with_an_id_carries_it_as_the_sse_id() -> None:
    body = await _body(None)
    assert [line for line in body.splitlines() if line.startswith("id:")] == [
        f"id: 2-{n}" for n in range(5)
    ]
    assert '"id"' not in body  # the id is the SSE field, not part of the data
    assert [event["type"] for event in sse_events(body)] == [
        "battle", "delta", "delta", "rendered", "done", "app", "delta",
    ]  # fmt: skip


async def test_last_event_id_resumes_after_that_event_with_the_whole_answer_rendered() -> None:
    resumed = sse_events(await _body("2-2"))
    # The rendered answer holds the text sent before the reconnect too.
    assert resumed[0] == {"type": "rendered", "side": "a", "html": "<p>Hello there</p>\n"}
    assert [event["type"] for event in resumed] == ["rendered", "done", "app", "delta"]
    # After `done`, the `app` event that followed it was delivered with it.
    assert [event["type"] for event in sse_events(await _body("2-3"))] == ["delta"]


async def test_an_id_of_another_turn_or_none_at_all_replays_the_turn() -> None:
    whole = await _body(None)
    assert await _body("1-40") == whole
    assert await _body("garbage") == whole

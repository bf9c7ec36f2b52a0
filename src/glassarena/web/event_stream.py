"""Battle events as a text/event-stream body.

The service's events pass through unchanged. When a side finishes, one extra `rendered`
event carries its whole answer as sanitised HTML, so the browser never turns model text into
markup itself.

Events followed live carry an `id` (`<turn>-<position>`, the same on every node), written as
the SSE `id:` field. A client that reconnects with `Last-Event-ID` gets only what came after
that event, on whichever node it reaches; one that sends none (or an id of an earlier turn)
gets the turn from its `battle` event, on which it starts the turn over. Events without an id
(a `rendered` or `app` event, or a turn rebuilt from the database) go with the last event
that has one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any

from starlette.responses import StreamingResponse

from glassarena.arena.shared_turns import parse_event_id
from glassarena.web.rendering import render_markdown

STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def encode_event(event: Mapping[str, Any]) -> bytes:
    data = {key: value for key, value in event.items() if key != "id"}
    body = b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if "id" in event:
        body = f"id: {event['id']}\n".encode() + body
    return body + b"\n\n"


def _seen(event: Mapping[str, Any], last: tuple[int, int] | None) -> bool | None:
    """Whether the client had `event` already; None when the event has no id to tell."""
    parsed = parse_event_id(event.get("id"))
    if parsed is None:
        return None
    return last is not None and parsed[0] == last[0] and parsed[1] <= last[1]


async def with_rendered_answers(
    events: AsyncIterable[Mapping[str, Any]], last_event_id: str | None = None
) -> AsyncIterator[bytes]:
    last = parse_event_id(last_event_id)
    answers: dict[str, list[str]] = {}
    skipping = False
    async for event in events:
        kind = event.get("type")
        seen = _seen(event, last)
        if seen is not None:
            skipping = seen
        if kind == "battle":
            answers = {}  # the turn (re)starts
        elif kind == "delta":
            answers.setdefault(event["side"], []).append(event["text"])
        elif kind == "done":
            html = render_markdown("".join(answers.pop(event["side"], [])))
            if not skipping:
                yield encode_event({"type": "rendered", "side": event["side"], "html": html})
        if not skipping:
            yield encode_event(event)


def event_stream_response(
    events: AsyncIterable[Mapping[str, Any]], last_event_id: str | None = None
) -> StreamingResponse:
    return StreamingResponse(
        with_rendered_answers(events, last_event_id),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )

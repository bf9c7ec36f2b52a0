"""Battle events as a text/event-stream body.

The service's events pass through unchanged. When a side finishes, one extra `rendered`
event carries its whole answer as sanitised HTML, so the browser never turns model text into
markup itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any

from starlette.responses import StreamingResponse

from glassarena.web.rendering import render_markdown

STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def encode_event(event: Mapping[str, Any]) -> bytes:
    return (
        b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
    )


async def with_rendered_answers(events: AsyncIterable[Mapping[str, Any]]) -> AsyncIterator[bytes]:
    answers: dict[str, list[str]] = {}
    async for event in events:
        kind = event.get("type")
        if kind == "delta":
            answers.setdefault(event["side"], []).append(event["text"])
        elif kind == "done":
            html = render_markdown("".join(answers.pop(event["side"], [])))
            yield encode_event({"type": "rendered", "side": event["side"], "html": html})
        yield encode_event(event)


def event_stream_response(events: AsyncIterable[Mapping[str, Any]]) -> StreamingResponse:
    return StreamingResponse(
        with_rendered_answers(events), media_type="text/event-stream", headers=STREAM_HEADERS
    )

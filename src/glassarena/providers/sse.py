"""Server-sent events: turn a stream of text lines into the `data` payload of each event."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield the data of each event; comments, event names and ids are not needed here.

    An event may carry several `data:` lines, joined with newlines, and ends at a blank line.
    """
    data_lines: list[str] = []
    async for line in lines:
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data_lines.append(value.removeprefix(" "))
    if data_lines:
        yield "\n".join(data_lines)

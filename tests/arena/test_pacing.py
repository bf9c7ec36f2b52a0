"""The pacer: word-aligned chunks that depend on the text alone, on a cadence both sides share."""

from __future__ import annotations

import asyncio
import itertools
import random
import re

import pytest

from glassarena.arena.live import Event
from glassarena.arena.pacing import (
    LONGEST_CHUNK_IN_CHUNKS,
    PacedStream,
    StreamPacing,
    next_cut,
    turn_stream,
    word_chunks,
)

TEXT = (
    "The quick brown fox jumps over the lazy dog, twice.\n\n"
    "Then it writes `print('hello, world')` and a URL: "
    "https://example.org/" + "a" * 150 + " before it stops."
)
PACING = StreamPacing(tick_seconds=0.01, chunk_chars=12)


def _splits(text: str, rng: random.Random) -> list[list[str]]:
    """The same text as different tokenizers might deliver it."""
    words = re.findall(r"\s*\S+|\s+", text)
    characters = list(text)
    random_pieces = []
    position = 0
    while position < len(text):
        step = rng.randint(1, 7)
        random_pieces.append(text[position : position + step])
        position += step
    trailing_space = re.findall(r"\S+\s*|\s+", text)
    return [words, characters, random_pieces, trailing_space, [text]]


def test_chunks_rebuild_the_text_and_end_on_word_boundaries() -> None:
    chunks = list(word_chunks(TEXT, 12))
    assert "".join(chunks) == TEXT
    assert chunks[0] == "The"  # the first word alone: the first text shows early
    longest = LONGEST_CHUNK_IN_CHUNKS * 12
    for chunk, following in itertools.pairwise(chunks[1:]):
        assert len(chunk) <= longest
        if len(chunk) < longest:  # cut at a word end, after at least a chunk's worth
            assert len(chunk) >= 12 and not chunk[-1].isspace() and following[0].isspace()
    assert any(len(chunk) == longest for chunk in chunks)  # the long URL is cut


def test_a_cut_never_moves_when_more_text_arrives() -> None:
    for end in range(1, len(TEXT) + 1):
        cut = next_cut(TEXT[:end], 0, 12, 48, final=False)
        if cut is not None:
            assert cut == next_cut(TEXT, 0, 12, 48, final=True)


def test_empty_and_whitespace_only_texts() -> None:
    assert list(word_chunks("", 12)) == []
    assert "".join(word_chunks("   \n\n  ", 12)) == "   \n\n  "


async def _paced_events(
    pieces: dict[str, list[str]], delays: dict[str, float], pacing: StreamPacing = PACING
) -> list[tuple[float, Event]]:
    """Feed each side's pieces with its own delay; return (time, event) as emitted."""
    loop = asyncio.get_running_loop()
    emitted: list[tuple[float, Event]] = []
    async with turn_stream(list(pieces), lambda e: emitted.append((loop.time(), e)), pacing) as s:

        async def side(name: str) -> None:
            for piece in pieces[name]:
                await asyncio.sleep(delays[name])
                s.write(name, piece)
            s.end(name)
            await s.delivered(name)
            emitted.append((loop.time(), {"type": "done", "side": name}))

        await asyncio.gather(*(side(name) for name in pieces))
    return emitted


def _chunks(events: list[tuple[float, Event]], side: str) -> list[str]:
    return [e["text"] for _, e in events if e["type"] == "delta" and e["side"] == side]


async def test_chunks_do_not_depend_on_how_the_provider_split_its_tokens() -> None:
    expected = list(word_chunks(TEXT, PACING.chunk_chars))
    for pieces in _splits(TEXT, random.Random(3)):
        events = await _paced_events({"a": pieces}, {"a": 0.0})
        assert _chunks(events, "a") == expected


async def test_both_sides_share_one_cadence_and_start_together() -> None:
    text_b = TEXT.upper()
    rng = random.Random(5)
    events = await _paced_events(
        {"a": _splits(TEXT, rng)[1], "b": _splits(text_b, rng)[0]},  # by characters, by words
        {"a": 0.0, "b": 0.001},
    )
    assert "".join(_chunks(events, "a")) == TEXT and "".join(_chunks(events, "b")) == text_b
    times = {
        side: [t for t, e in events if e["type"] == "delta" and e["side"] == side] for side in "ab"
    }
    # Same number of chunks for same-length texts, released on the same ticks.
    assert len(times["a"]) == len(times["b"])
    assert all(abs(ta - tb) < 0.002 for ta, tb in zip(times["a"], times["b"], strict=True))
    # One chunk per tick at most: the chunks take at least as many ticks as there are chunks.
    elapsed = times["a"][-1] - times["a"][0]
    assert elapsed >= (len(times["a"]) - 1) * PACING.tick_seconds - PACING.tick_seconds / 2


async def test_the_faster_side_waits_for_the_slower_while_both_generate() -> None:
    words = re.findall(r"\s*\S+", TEXT)
    events = await _paced_events({"a": words, "b": words}, {"a": 0.0, "b": 0.015})
    times_a = [t for t, e in events if e["type"] == "delta" and e["side"] == "a"]
    times_b = [t for t, e in events if e["type"] == "delta" and e["side"] == "b"]
    assert _chunks(events, "a") == _chunks(events, "b")
    assert all(abs(ta - tb) < 0.002 for ta, tb in zip(times_a, times_b, strict=True))


async def test_done_comes_after_the_whole_text_is_delivered() -> None:
    events = await _paced_events({"a": [TEXT], "b": ["Short."]}, {"a": 0.0, "b": 0.0})
    for side, text in (("a", TEXT), ("b", "Short.")):
        done_at = next(i for i, (_, e) in enumerate(events) if e == {"type": "done", "side": side})
        delivered = [e["text"] for _, e in events[:done_at] if e.get("side") == side]
        assert "".join(delivered) == text
        assert all(e.get("side") != side for _, e in events[done_at + 1 :])
    # The whole text arrived at once, yet it is released chunk by chunk on the cadence.
    assert len(_chunks(events, "a")) == len(list(word_chunks(TEXT, PACING.chunk_chars)))


async def test_a_side_that_ends_without_text_does_not_hold_up_the_other() -> None:
    events = await _paced_events({"a": [], "b": ["Hello there."]}, {"a": 0.0, "b": 0.0})
    assert _chunks(events, "a") == [] and "".join(_chunks(events, "b")) == "Hello there."


async def test_writing_after_the_end_is_a_bug() -> None:
    stream = PacedStream(["a"], lambda event: None, PACING)
    stream.end("a")
    with pytest.raises(RuntimeError, match="side a wrote after"):
        stream.write("a", "late")


async def test_unpaced_streams_send_each_delta_at_once() -> None:
    emitted: list[Event] = []
    async with turn_stream(["a"], emitted.append, StreamPacing(paced=False)) as stream:
        stream.write("a", "He")
        stream.write("a", "llo")
        stream.end("a")
        await stream.delivered("a")
    assert [e["text"] for e in emitted] == ["He", "llo"]


async def test_leaving_the_turn_releases_whoever_waits_for_a_delivery() -> None:
    async with turn_stream(["a", "b"], lambda event: None, PACING) as stream:
        stream.write("a", "Half an answer")
        stream.end("a")  # side b's provider hangs until the turn is given up
        waiting = asyncio.create_task(stream.delivered("a"))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # lockstep: a waits for b's first word
    await asyncio.wait_for(waiting, 1)  # the turn is over: nobody hangs

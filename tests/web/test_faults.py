"""Bad requests and failing models get clear messages, and nothing is miscounted."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from arena_server import openai_contestant, running_arena, sse_events, write_config
from live_server import LiveServer

from openai_test_server import ModelServerDouble, ScriptedModel

MAX_PROMPT_CHARS = 500


@pytest.fixture
def double() -> Iterator[ModelServerDouble]:
    script = {
        "good": ScriptedModel(answer="A fine answer."),
        "slow": ScriptedModel(answer="one two three four five six", token_delay=0.3),
        "refuser": ScriptedModel(behaviour="refuse", status=429, error="quota exceeded"),
        "hanger": ScriptedModel(behaviour="hang"),
        "dropper": ScriptedModel(behaviour="drop", answer="one two three four five", cut_after=2),
    }
    with ModelServerDouble(script) as server:
        yield server


def _arena(
    tmp_path: Path, double: ModelServerDouble, upstream_b: str
) -> AbstractContextManager[LiveServer]:
    config = write_config(
        tmp_path,
        limits={"max_prompt_chars": MAX_PROMPT_CHARS, "answer_timeout_seconds": 10},
        contestants=[
            openai_contestant("model-one", double.openai_base_url, "good"),
            openai_contestant("model-two", double.openai_base_url, upstream_b),
        ],
    )
    return running_arena(tmp_path, config)


def _counted_votes(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "arena.db") as connection:
        return connection.execute("SELECT COUNT(*) FROM votes WHERE counted").fetchone()[0]


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def test_bad_prompts_and_votes_get_clear_errors(tmp_path: Path, double: ModelServerDouble) -> None:
    with _arena(tmp_path, double, "good") as server, httpx.Client(base_url=server.url) as client:
        status, message = _error(client.post("/api/battles", json={"prompt": "   "}))
        assert status == 400 and "prompt" in message.lower()

        too_long = "x" * (MAX_PROMPT_CHARS + 1)
        status, message = _error(client.post("/api/battles", json={"prompt": too_long}))
        assert status == 413 and f"{MAX_PROMPT_CHARS:,}" in message

        status, message = _error(client.post("/api/battles", json={"prompt": 42}))
        assert status == 422 and "prompt" in message

        status, message = _error(client.post("/api/battles", json={"mode": "blind", "prompt": "x"}))
        assert status == 422 and "mode" in message

        status, message = _error(client.post("/api/battles/nope/vote", json={"choice": "a"}))
        assert status == 404 and "does not exist" in message

        events = sse_events(client.post("/api/battles", json={"prompt": "Hi"}).text)
        battle_id = events[0]["battle_id"]

        status, message = _error(
            client.post(f"/api/battles/{battle_id}/vote", json={"choice": "left"})
        )
        assert status == 422 and "choice" in message

        assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "b"}).is_success
        status, message = _error(
            client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})
        )
        assert status == 409 and "already" in message.lower()

        # Someone else's battle is as unknown as a made-up one.
        with httpx.Client(base_url=server.url) as stranger:
            status, _ = _error(
                stranger.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})
            )
            assert status == 404
    assert _counted_votes(tmp_path) == 1


def test_vote_before_the_answers_finished_is_refused(
    tmp_path: Path, double: ModelServerDouble
) -> None:
    with _arena(tmp_path, double, "slow") as server, httpx.Client(base_url=server.url) as client:
        battle_id: list[str] = []
        first_event = threading.Event()

        def read_stream() -> None:
            with client.stream("POST", "/api/battles", json={"prompt": "Count"}) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data:") and not battle_id:
                        battle_id.append(sse_events(line + "\n\n")[0]["battle_id"])
                        first_event.set()

        reader = threading.Thread(target=read_stream)
        reader.start()
        assert first_event.wait(10)
        status, message = _error(
            client.post(f"/api/battles/{battle_id[0]}/vote", json={"choice": "a"})
        )
        reader.join(30)
        assert status == 409 and "wait" in message.lower()
        # Once both are done, the same battle takes its vote.
        assert client.post(f"/api/battles/{battle_id[0]}/vote", json={"choice": "a"}).is_success
    assert _counted_votes(tmp_path) == 1


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [("refuser", "declined"), ("hanger", "too long"), ("dropper", "cut off")],
)
def test_failing_model_fails_the_battle_and_it_never_counts(
    tmp_path: Path, double: ModelServerDouble, upstream: str, expected: str
) -> None:
    with _arena(tmp_path, double, upstream) as server, httpx.Client(base_url=server.url) as client:
        events = sse_events(client.post("/api/battles", json={"prompt": "Hello"}).text)
        battle_id = events[0]["battle_id"]
        failures = [event for event in events if event["type"] == "failed"]
        assert len(failures) == 1 and expected in failures[0]["message"]
        assert upstream not in failures[0]["message"] and "model-two" not in str(events)
        assert events[-1] == {"type": "complete", "voting_open": False}

        status, message = _error(
            client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})
        )
        assert status == 409 and "could not answer" in message
        status, _ = _error(client.post(f"/api/battles/{battle_id}/turns", json={"prompt": "again"}))
        assert status == 409
        assert client.get(f"/api/battles/{battle_id}").json()["status"] == "failed"
    assert _counted_votes(tmp_path) == 0

"""The personal board's category mix over HTTP: the public per-category boards weighted by
the share of the voter's own votes in each category."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

MODELS = ("alpha-one", "beta-two", "gamma-three")
CHOICES = ("a", "b", "tie")
CODING = "Write a Python function that returns the n-th Fibonacci number."
POEM = "Écris un poème sur la pluie d'automne."


def _vote(client: httpx.Client, prompt: str, choice: str) -> None:
    events = sse_events(client.post("/api/battles", json={"prompt": prompt}).text)
    voted = client.post(f"/api/battles/{events[0]['battle_id']}/vote", json={"choice": choice})
    assert voted.status_code == 200, voted.text


def _ratings(client: httpx.Client, category: str) -> dict[str, float]:
    board = client.get("/leaderboard.json", params={"category": category}).json()
    return {row["model"]: row["rating"] for row in board["leaderboard"]["rows"]}


def test_the_mix_weights_the_public_category_boards_by_the_voters_votes(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Here you go.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[openai_contestant(name, double.openai_base_url, "m") for name in MODELS],
        )
        with (
            running_arena(tmp_path, config) as server,
            httpx.Client(base_url=server.url, timeout=60) as crowd,
            httpx.Client(base_url=server.url, timeout=60) as me,
        ):
            for number in range(24):  # the crowd fills both category boards
                _vote(crowd, CODING if number % 2 else POEM, CHOICES[number % 3])
            for number in range(3):  # my mix: one coding vote for two poems
                _vote(me, CODING if number == 0 else POEM, CHOICES[number])
            deadline = time.monotonic() + 30
            while crowd.get("/leaderboard.json").json().get("votes") != 27:
                assert time.monotonic() < deadline, "the refresher never caught up"
                time.sleep(0.3)
            mix = me.get("/me/board.json").json()["category_mix"]
            assert mix["votes"] == 3
            weights = mix["weights"]
            assert weights["creative_writing"] == pytest.approx(2 * weights["coding"])
            assert sum(weights.values()) == pytest.approx(1.0)
            boards = {category: _ratings(crowd, category) for category in weights}
            for row in mix["rows"]:
                on = {c: w for c, w in weights.items() if row["model"] in boards[c]}
                expected = sum(w * boards[c][row["model"]] for c, w in on.items()) / sum(
                    on.values()
                )
                assert row["rating"] == pytest.approx(expected), row["model"]
            # The crowd's own mix is an even one; the public board itself never changes.
            crowd_mix = crowd.get("/me/board.json").json()["category_mix"]
            assert crowd_mix["weights"]["coding"] == pytest.approx(
                crowd_mix["weights"]["creative_writing"]
            )
            assert me.get("/me/board.json?category=coding").json()["category_mix"] is None

            page = me.get("/me/board").text
            assert 'data-role="category-mix"' in page
            assert "weighted by your categories" in page
            for model in MODELS:
                assert f'data-model="{model}"' in page

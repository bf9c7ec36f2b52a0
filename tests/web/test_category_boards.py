"""Category boards on the leaderboard page: battles in two prompt categories, each board
ranks its own, chosen with the category picker in real Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from arena_server import (
    GENEROUS_TIMEOUTS,
    openai_contestant,
    running_arena,
    sse_events,
    write_config,
)

from openai_test_server import ModelServerDouble, ScriptedModel

MODELS = ("alpha-one", "beta-two", "gamma-three")
CHOICES = ("a", "b", "tie")
PROMPTS = {
    "coding": "Write a Python function that returns the n-th Fibonacci number.",
    "creative_writing": "Écris un poème sur la pluie d'automne.",
}


def _arena_with_two_categories(client: httpx.Client) -> None:
    for number in range(24):
        prompt = PROMPTS["coding"] if number % 2 else PROMPTS["creative_writing"]
        events = sse_events(client.post("/api/battles", json={"prompt": prompt}).text)
        vote = {"choice": CHOICES[number % len(CHOICES)]}
        voted = client.post(f"/api/battles/{events[0]['battle_id']}/vote", json=vote)
        assert voted.status_code == 200, voted.text
    deadline = time.monotonic() + 30
    while client.get("/leaderboard.json").json().get("votes") != 24:
        assert time.monotonic() < deadline, "the refresher never caught up"
        time.sleep(0.3)


@pytest.mark.browser
def test_a_category_board_after_battles_in_two_categories(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with ModelServerDouble({"m": ScriptedModel(answer="Here you go.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "m", GENEROUS_TIMEOUTS)
                for name in MODELS
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            _arena_with_two_categories(client)
            for category in PROMPTS:
                board = client.get(f"/leaderboard.json?category={category}").json()
                assert board["votes"] == 12, category
                assert board["leaderboard"]["rows"], category
            assert client.get("/leaderboard.json?category=math").json()["votes"] == 0

            page = browser.new_page()
            page.goto(server.url + "/leaderboard")
            # The page applies a new choice at once (its Apply button is for pages without JS).
            page.select_option("select[name=category]", "coding")
            page.wait_for_url("**/leaderboard?category=coding*")
            assert "12 counted votes" in page.content()
            assert page.locator("select[name=category] option:checked").inner_text() == (
                "Text: coding"
            )
            for model in MODELS:
                assert page.get_by_text(model).first.is_visible()
            page.close()

"""In real Chromium: ten votes, then the voter's own board next to the public one.

The board is the voter's alone (another cookie sees none of their votes), a battle still
open adds nothing to it, and looking at it leaves the public board as it was.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser

MODELS = ("alpha-one", "beta-two", "gamma-three")
CHOICES = ("a", "b", "tie", "a", "b", "both_bad")


def _public(client: httpx.Client, votes: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (board := client.get("/leaderboard.json").json()).get("votes") != votes:
        assert time.monotonic() < deadline, "the refresher never caught up"
        time.sleep(0.2)
    return board


def test_a_personal_board_after_ten_votes(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with ModelServerDouble({"m": ScriptedModel(answer="An answer.")}) as double:
        contestants = [openai_contestant(n, double.openai_base_url, "m") for n in MODELS]
        config = write_config(tmp_path, contestants=contestants)
        with (
            running_arena(tmp_path, config, leaderboard_interval_seconds=0.2) as server,
            httpx.Client(base_url=server.url, timeout=30) as crowd,
        ):
            for number in range(24):
                events = sse_events(crowd.post("/api/battles", json={"prompt": f"#{number}"}).text)
                choice = {"choice": CHOICES[number % len(CHOICES)]}
                assert crowd.post(
                    f"/api/battles/{events[0]['battle_id']}/vote", json=choice
                ).is_success

            page = browser.new_page()
            page.goto(server.url + "/")
            for _ in range(10):
                page.fill("textarea#prompt", "Which is better?")
                page.click("button[data-role=send]")
                page.wait_for_selector("button.vote[data-choice=b]:not([disabled])")
                page.click("button.vote[data-choice=b]")
                page.wait_for_selector(".pane.revealed")
                page.click("button[data-role=new-battle]")
            public = _public(crowd, 34)

            # An eleventh battle, answered but not voted: it must add nothing.
            page.fill("textarea#prompt", "Which is better?")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=b]:not([disabled])")

            page.goto(server.url + "/me/board")
            assert page.inner_text("[data-role=personal-votes]") == "10"
            rows = page.locator("[data-role=personal-board] tbody tr")
            assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.model)")) == sorted(
                row["model"] for row in public["leaderboard"]["rows"]
            )
            correlation = float(page.inner_text("[data-role=rank-correlation]"))
            assert -1.0 <= correlation <= 1.0
            mine = page.request.get(server.url + "/me/board.json").json()
            assert mine["votes"] == 10
            assert sum(row["votes"] for row in mine["rows"]) == 20

            # Someone else's cookie sees none of these votes; the public board is unchanged.
            assert crowd.get("/me/board.json").json()["votes"] == 24
            with httpx.Client(base_url=server.url) as newcomer:
                fresh = newcomer.get("/me/board.json").json()
            assert fresh["votes"] == 0 and fresh["rank_correlation"] == pytest.approx(1.0)
            expected = sorted(public["leaderboard"]["rows"], key=lambda row: -row["rating"])
            assert [r["model"] for r in fresh["rows"]] == [r["model"] for r in expected]
            assert [r["rating"] for r in fresh["rows"]] == pytest.approx(
                [r["rating"] for r in expected]
            )
            assert crowd.get("/leaderboard.json").json()["leaderboard"] == public["leaderboard"]
            unknown = crowd.get("/me/board.json?category=poetry")
            assert unknown.status_code == 404 and "poetry" in unknown.json()["error"]["message"]
            assert crowd.get("/me/board?category=poetry").status_code == 404
            empty = crowd.get("/me/board.json?category=webdev")  # no WebDev votes: no board yet
            assert empty.status_code == 409 and "no public board" in empty.text

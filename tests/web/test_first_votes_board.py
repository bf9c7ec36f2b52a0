"""A small arena's board from its first votes: each model's wins, ties and losses and what
it still lacks until ratings exist; then the ratings with their intervals."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from glassarena.arena.model_record import NEEDS_WIN_AND_LOSS
from openai_test_server import ModelServerDouble, ScriptedModel

MODELS = ("alpha-one", "beta-two")


def _vote_a(client: httpx.Client) -> str:
    """One battle and a vote for side a; the name of the model that won."""
    events = sse_events(client.post("/api/battles", json={"prompt": "Hello?"}).text)
    voted = client.post(f"/api/battles/{events[0]['battle_id']}/vote", json={"choice": "a"})
    assert voted.status_code == 200, voted.text
    name: str = voted.json()["models"]["a"]["name"]
    return name.split(" ")[0]


def _board_after(client: httpx.Client, votes: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (board := client.get("/leaderboard.json").json()).get("votes") != votes:
        assert time.monotonic() < deadline, "the refresher never caught up"
        time.sleep(0.2)
    return board  # type: ignore[no-any-return]


def _by_model(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["model"].split(" ")[0]: entry for entry in board["record"]}


def test_the_first_votes_show_records_then_ratings(
    tmp_path: Path, database_url: str, browser: Any
) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="A plain answer.")}) as double:
        contestants = [openai_contestant(name, double.openai_base_url, "m") for name in MODELS]
        config = write_config(tmp_path, contestants=contestants)
        with (
            running_arena(
                tmp_path, config, database_url=database_url, leaderboard_interval_seconds=0.2
            ) as server,
            httpx.Client(base_url=server.url) as client,
        ):
            winner = _vote_a(client)
            [loser] = set(MODELS) - {winner}
            board = _board_after(client, 1)
            # Before: a single vote gave only "the ratings are infinite" and an empty page.
            assert board["leaderboard"] is None
            assert board["message"] == NEEDS_WIN_AND_LOSS
            records = _by_model(board)
            assert records[winner] | {"model": winner} == {
                "model": winner,
                "battles": 1,
                "wins": 1,
                "ties": 0,
                "losses": 0,
                "needs": "a loss",
            }
            assert (records[loser]["wins"], records[loser]["losses"]) == (0, 1)
            assert records[loser]["needs"] == "a win"
            assert "standings" not in board  # the organization/status key needs ratings

            page = browser.new_page()
            page.goto(f"{server.url}/leaderboard")
            table = page.wait_for_selector("[data-role=record]")
            assert table is not None
            assert NEEDS_WIN_AND_LOSS in (page.text_content("[data-role=empty-reason]") or "")
            needs = page.locator(f"[data-role=record] tr[data-model^='{loser}'] [data-role=needs]")
            assert needs.text_content() == "a win"
            wins = page.locator(f"[data-role=record] tr[data-model^='{winner}'] [data-role=wins]")
            assert wins.text_content() == "1"

            # Votes for side a until the loser has won once: then both have won and lost.
            votes = 1
            while _vote_a(client) != loser:
                votes += 1
                assert votes < 20, "the first loser never sat on side a"
            final = _board_after(client, votes + 1)
            assert all(entry["needs"] is None for entry in final["record"])
            assert final["leaderboard"] is not None, final["message"]
            rows = final["leaderboard"]["rows"]
            assert all(row["lower"] is not None for row in rows)
            page.goto(f"{server.url}/leaderboard")
            page.wait_for_selector("table.leaderboard-table td.ci")
            assert page.locator("[data-role=record]").count() == 0
            page.close()

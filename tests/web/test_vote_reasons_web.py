"""Why people voted, through the real app: POST /api/battles/{id}/reasons and the board.

The endpoint takes reasons only after the voter's own decisive vote, once, from the arena's
own pages; the board summarises them per preferred model and its ratings stay exactly what
they are without them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

MODELS = ("alpha-one", "beta-two", "gamma-three")
CHOICES = ("a", "b", "tie", "a", "b", "a")


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Origin": url}, timeout=30)


def _battle(client: httpx.Client, number: int) -> str:
    events = sse_events(client.post("/api/battles", json={"prompt": f"#{number}"}).text)
    assert events[-1] == {"type": "complete", "voting_open": True}
    return str(events[0]["battle_id"])


def _board(client: httpx.Client, votes: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (board := client.get("/leaderboard.json").json()).get("votes") != votes:
        assert time.monotonic() < deadline, "the refresher never caught up"
        time.sleep(0.2)
    return board


def _ratings(board: dict[str, Any]) -> list[tuple[str, float, float, float, int]]:
    rows = board["leaderboard"]["rows"]
    return [(r["model"], r["rating"], r["lower"], r["upper"], r["battles"]) for r in rows]


def test_reasons_after_the_vote_summarised_and_never_moving_the_board(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Sure, here you go.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[openai_contestant(name, double.openai_base_url, "m") for name in MODELS],
        )
        with running_arena(tmp_path, config) as server, _client(server.url) as client:
            page = client.get("/").text
            assert 'data-role="reasons" hidden' in page  # offered by the script after a vote

            voted: list[tuple[str, str, dict[str, Any]]] = []
            for number in range(18):
                battle_id = _battle(client, number)
                choice = CHOICES[number % len(CHOICES)]
                if number == 0:
                    early = client.post(
                        f"/api/battles/{battle_id}/reasons", json={"reasons": ["correct"]}
                    )
                    assert early.status_code == 409
                    assert "after voting" in early.json()["error"]["message"]
                reveal = client.post(f"/api/battles/{battle_id}/vote", json={"choice": choice})
                assert reveal.status_code == 200, reveal.text
                voted.append((battle_id, choice, reveal.json()))
            without_reasons = _ratings(_board(client, 18))

            wins: dict[str, int] = {}
            for battle_id, choice, reveal in voted:
                url = f"/api/battles/{battle_id}/reasons"
                body = {"reasons": ["correct", "shorter"], "note": "<b>crisp</b>"}
                given = client.post(url, json=body)
                if choice == "tie":
                    assert given.status_code == 409
                    assert "did not pick one" in given.json()["error"]["message"]
                    continue
                assert given.status_code == 200, given.text
                assert given.json() == {"reasons": ["correct", "shorter"], "note": "<b>crisp</b>"}
                winner = reveal["models"][choice]["name"]
                wins[winner] = wins.get(winner, 0) + 1
                assert client.post(url, json=body).status_code == 409  # once only
                with _client(server.url) as stranger:
                    assert stranger.post(url, json=body).status_code == 404
                cross_site = client.post(url, json=body, headers={"Origin": "https://evil.example"})
                assert cross_site.status_code == 403

            first = voted[0][0]
            unknown = client.post(f"/api/battles/{first}/reasons", json={"reasons": ["vibes"]})
            assert unknown.status_code == 400 and "'vibes'" in unknown.json()["error"]["message"]

            summaries = {
                s["model"]: s for s in client.get("/leaderboard.json").json()["vote_reasons"]
            }
            assert {model: s["votes_with_reasons"] for model, s in summaries.items()} == wins
            for model, count in wins.items():
                assert summaries[model]["reasons"]["correct"] == count
                assert summaries[model]["reasons"]["clearer"] == 0
                assert summaries[model]["notes"] == count
            board_page = client.get("/leaderboard").text
            for model in wins:
                assert f"People who preferred {model}</span> said:" in board_page
            assert "<b>crisp</b>" not in board_page  # notes are exported, never on the board

        # A fresh server computes the board again from the same database, reasons and all.
        with running_arena(tmp_path, config) as server, _client(server.url) as client:
            assert _ratings(_board(client, 18)) == without_reasons

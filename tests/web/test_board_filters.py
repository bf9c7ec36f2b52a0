"""The board people expect: a rank-spread column, and filters by organization and by open
weights vs proprietary, over HTTP; and the rank spread itself from intervals."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from glassarena.web.board_filters import rank_spread
from openai_test_server import ModelServerDouble, ScriptedModel

CHOICES = ("a", "b", "tie", "a", "b", "both_bad")


def _contestant(name: str, base_url: str, organization: str, open_weights: bool | None) -> Any:
    entry = openai_contestant(name, base_url, "m")
    entry["organization"] = organization
    if open_weights is not None:
        entry["open_weights"] = open_weights
    return entry


def _shown(page: str) -> set[str]:
    """The models in the ratings table, by their first word."""
    return {
        model.split(" ")[0]
        for model in re.findall(r'<tr class="rank-\d+"[^>]*data-model="([^"]+)"', page)
    }


def test_rank_spread_from_intervals_as_lmarena_counts_it() -> None:
    rows = [
        {"model": "top", "lower": 1100.0, "upper": 1200.0},
        {"model": "mid", "lower": 1050.0, "upper": 1150.0},
        {"model": "low", "lower": 900.0, "upper": 1000.0},
    ]
    assert [rank_spread(row, rows) for row in rows] == [(1, 2), (1, 2), (3, 3)]
    assert rank_spread({"rank_lower": 4, "rank_upper": 2}, rows) == (2, 4)
    assert rank_spread({"lower": None, "upper": None}, rows) is None


def test_rank_spread_column_and_filters(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Sure, here you go.")}) as double:
        url = double.openai_base_url
        config = write_config(
            tmp_path,
            contestants=[
                _contestant("alpha-one", url, "Open Lab", True),
                _contestant("beta-two", url, "Closed Corp", False),
                _contestant("gamma-three", url, "Closed Corp", None),
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            for number in range(30):
                events = sse_events(client.post("/api/battles", json={"prompt": f"#{number}"}).text)
                vote = {"choice": CHOICES[number % len(CHOICES)]}
                voted = client.post(f"/api/battles/{events[0]['battle_id']}/vote", json=vote)
                assert voted.status_code == 200, voted.text
            deadline = time.monotonic() + 30
            while (board := client.get("/leaderboard.json").json()).get("votes") != 30:
                assert time.monotonic() < deadline, "the refresher never caught up"
                time.sleep(0.3)
            assert board["leaderboard"] is not None, board.get("message")
            rows = board["leaderboard"]["rows"]

            page = client.get("/leaderboard").text
            assert _shown(page) == {"alpha-one", "beta-two", "gamma-three"}
            assert "Rank spread" in page and "best and worst rank" in page
            spreads = re.findall(r'data-role="rank-spread">([^<]+)<', page)
            expected = []
            for row in rows:
                best, worst = rank_spread(row, rows) or (0, 0)
                expected.append(str(best) if best == worst else f"{best}–{worst}")
            assert spreads == expected

            closed = client.get("/leaderboard", params={"organization": "Closed Corp"}).text
            assert _shown(closed) == {"beta-two", "gamma-three"}
            assert "1 model outside the chosen organization or weights not shown" in closed
            assert '<option value="Closed Corp" selected>' in closed

            open_only = client.get("/leaderboard", params={"weights": "open"}).text
            assert _shown(open_only) == {"alpha-one"}
            proprietary = client.get("/leaderboard", params={"weights": "proprietary"}).text
            assert _shown(proprietary) == {"beta-two"}  # unstated weights match neither
            both = client.get(
                "/leaderboard", params={"organization": "Open Lab", "weights": "proprietary"}
            ).text
            assert _shown(both) == set()
            assert "hidden by the filters above" in both
            # An unknown weights value filters nothing rather than hiding the whole board.
            assert len(_shown(client.get("/leaderboard?weights=bogus").text)) == 3

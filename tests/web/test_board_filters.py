"""The board people expect: a rank-spread column, and filters by organization, by open
weights vs proprietary and by date of first appearance, over HTTP; and the rank spread itself
from intervals."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from glassarena.arena.config.schema import IntegritySettings
from glassarena.arena.standing import standings
from glassarena.storage.integrity import VersionActivity
from glassarena.web.board_filters import BoardFilter, rank_spread
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

            # First appearance: every model here first battled today (UTC).
            today = datetime.now(UTC).date()
            tomorrow = (today + timedelta(days=1)).isoformat()
            appeared = client.get("/leaderboard", params={"since": today.isoformat()}).text
            assert _shown(appeared) == {"alpha-one", "beta-two", "gamma-three"}
            assert appeared.count(f'data-role="first-appeared">{today.isoformat()}<') == 3
            assert f'value="{today.isoformat()}"' in appeared
            later = client.get("/leaderboard", params={"since": tomorrow}).text
            assert _shown(later) == set()
            assert "3 models outside the chosen organization or weights or first appearance" in (
                later
            )
            assert len(_shown(client.get("/leaderboard?since=not-a-day").text)) == 3

            body = client.get("/leaderboard.json").json()
            assert "filter" not in body  # the snapshot itself is never filtered
            models = body["standings"]["models"]
            assert {entry["first_appeared"] for entry in models.values()} == {today.isoformat()}
            filtered = client.get(
                "/leaderboard.json", params={"since": tomorrow, "weights": "open"}
            ).json()
            assert filtered["filter"] == {
                "organization": None,
                "weights": "open",
                "since": tomorrow,
                "models": [],
            }
            assert filtered["leaderboard"] == body["leaderboard"]
            kept = client.get("/leaderboard.json", params={"weights": "open"}).json()
            assert [model.split(" ")[0] for model in kept["filter"]["models"]] == ["alpha-one"]


def _activity(
    version_id: int, name: str, created: datetime, first_battle: datetime | None
) -> VersionActivity:
    return VersionActivity(
        version_id=version_id,
        name=name,
        version=1,
        organization="Lab",
        family=None,
        open_weights=None,
        created_at=created,
        battles=1 if first_battle else 0,
        counted_votes=1 if first_battle else 0,
        first_battle_at=first_battle,
        last_vote_at=first_battle,
    )


def test_first_appearance_is_the_first_battle_else_the_registration() -> None:
    registered = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    activity = [
        _activity(1, "veteran", registered, datetime(2026, 3, 2, 0, 15, tzinfo=UTC)),
        _activity(2, "newcomer", registered, None),
    ]
    ids = {record.version_id for record in activity}
    board = {s.label: s for s in standings(activity, ids, [], IntegritySettings())}
    assert board["veteran"].first_appeared == date(2026, 3, 2)
    assert board["newcomer"].first_appeared == date(2026, 3, 1)
    assert board["veteran"].to_dict()["first_appeared"] == "2026-03-02"


def test_the_date_filter_keeps_models_that_appeared_on_or_after_the_day() -> None:
    rows = [
        {"model": "old", "organization": "A", "weights": "open", "first_appeared": "2026-01-31"},
        {"model": "new", "organization": "A", "weights": "open", "first_appeared": "2026-02-01"},
        {"model": "imported", "organization": "A", "weights": "open", "first_appeared": None},
    ]
    chosen = BoardFilter.from_query(None, None, "2026-02-01")
    assert chosen.active and [row["model"] for row in rows if chosen.keeps(row)] == ["new"]
    everything = BoardFilter.from_query(None, None, "yesterday")
    assert not everything.active and all(everything.keeps(row) for row in rows)

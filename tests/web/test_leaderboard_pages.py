"""The leaderboard in HTML, JSON, CSV and figures, from the background refresher's snapshot."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

MODELS = ("alpha-one", "beta-two", "gamma-three")
CHOICES = ("a", "b", "tie", "a", "b", "both_bad")


def test_leaderboard_views(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="**Sure**, here you go.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[openai_contestant(name, double.openai_base_url, "m") for name in MODELS],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            for number in range(36):
                events = sse_events(client.post("/api/battles", json={"prompt": f"#{number}"}).text)
                vote = {"choice": CHOICES[number % len(CHOICES)]}
                voted = client.post(f"/api/battles/{events[0]['battle_id']}/vote", json=vote)
                assert voted.status_code == 200, voted.text
            deadline = time.monotonic() + 30
            while client.get("/leaderboard.json").json().get("votes") != 36:
                assert time.monotonic() < deadline, "the refresher never caught up"
                time.sleep(0.3)

            board = client.get("/leaderboard.json?category=text").json()
            assert board["category"] == "text" and board["style_control"] is False
            rows = board["leaderboard"]["rows"]
            assert {row["model"].split(" ")[0] for row in rows} == set(MODELS)
            assert sum(row["battles"] for row in rows) == 2 * 36

            page = client.get("/leaderboard")
            assert page.status_code == 200
            assert "36 counted votes" in page.text
            for row in rows:
                assert row["model"] in page.text
            # 24 votes each: every model is provisional until 300 votes (the default rule).
            assert page.text.count('<span class="provisional" title=') == len(MODELS)
            assert "fewer than 300 votes since they first appeared" in page.text

            table = list(csv.DictReader(io.StringIO(client.get("/leaderboard.csv").text)))
            assert [line["model"] for line in table] == [row["model"] for row in rows]

            for name in ("ci", "win-fraction", "battle-count", "predicted-win"):
                figure = client.get(f"/leaderboard/plots/{name}.svg?category=text")
                assert figure.status_code == 200
                assert figure.headers["content-type"] == "image/svg+xml"
                assert figure.text.lstrip().startswith("<?xml") and "<script" not in figure.text

            styled = client.get("/leaderboard?category=text&style=on")
            assert styled.status_code == 200 and 'name="style" value="on" checked' in styled.text

            unknown = client.get("/leaderboard.json?category=poetry")
            assert unknown.status_code == 404
            assert "poetry" in unknown.json()["error"]["message"]
            assert client.get("/leaderboard?category=poetry").status_code == 404
            assert client.get("/leaderboard/plots/pie.svg").status_code == 404
            dark = client.get("/leaderboard/plots/ci.svg?category=text&theme=dark")
            assert dark.status_code == 200 and dark.text != figure.text
            unknown_theme = client.get("/leaderboard/plots/ci.svg?theme=sepia")
            assert unknown_theme.status_code == 400
            assert "sepia" in unknown_theme.json()["error"]["message"]

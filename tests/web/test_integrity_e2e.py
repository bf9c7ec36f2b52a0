"""In real Chromium: a vote shows up in the published log, its head on the leaderboard, and
/integrity draws its chart; plus the page and JSON over HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from arena_server import openai_contestant, running_arena, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = pytest.mark.browser


def _contestants(base_url: str) -> list[dict[str, object]]:
    lab = openai_contestant("lab-model", base_url, "m")
    other = openai_contestant("other-model", base_url, "m") | {"organization": "Other Lab"}
    mystery = openai_contestant("mystery-model", base_url, "m") | {"organization": "unknown"}
    return [lab, other, mystery]


def test_a_vote_reaches_the_log_and_the_leaderboard_head(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    with ModelServerDouble({"m": ScriptedModel(answer="A plain answer.")}) as double:
        config = write_config(tmp_path, contestants=_contestants(double.openai_base_url))
        with running_arena(tmp_path, config, leaderboard_interval_seconds=0.2) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.fill("textarea#prompt", "Which is better?")
            page.click("button[data-role=send]")
            page.wait_for_selector("button.vote[data-choice=a]:not([disabled])")
            page.click("button.vote[data-choice=a]")
            page.wait_for_selector(".pane.revealed")

            log = page.request.get(server.url + "/integrity/log.jsonl")
            assert log.ok
            [line] = log.text().splitlines()
            entry = json.loads(line)
            assert entry["position"] == 1 and entry["counted"] is True
            assert entry["winner"] == "model_a"
            assert {entry["model_a"]["organization"], entry["model_b"]["organization"]} <= {
                "Test Lab",
                "Other Lab",
                "unknown",
            }

            # The refresher catches up within a few intervals; the page then names the head.
            deadline = time.monotonic() + 20
            while page.request.get(server.url + "/leaderboard.json").json().get("watermark") != 1:
                assert time.monotonic() < deadline, "the leaderboard never reached the vote"
                time.sleep(0.2)
            page.goto(server.url + "/leaderboard")
            assert page.inner_text("[data-role=log-head-hash]") == entry["hash"]
            assert page.inner_text("[data-role=log-position]") == "1"

            page.click("a[href='/integrity']")
            page.wait_for_selector("svg[data-role=shares-chart] rect.bar")
            assert page.locator("svg[data-role=shares-chart] rect.bar").count() >= 2
            assert (
                page.inner_text("[data-role=log-head-section] [data-role=log-head-hash]")
                == (entry["hash"])
            )
            policy = page.request.get(server.url + "/integrity.json").json()["policy"]["policy"]
            assert policy and page.inner_text("[data-role=policy-name]") == policy
            assert page.locator("svg[data-role=shares-chart]").first.bounding_box()["width"] > 0
            page.close()


def test_integrity_json_and_page_over_http(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel(answer="Yes.")}) as double:
        config = write_config(tmp_path, contestants=_contestants(double.openai_base_url))
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            battle = client.post("/api/battles", json={"prompt": "hello"}).text
            battle_id = json.loads(battle.split("data:", 2)[1].split("\n")[0])["battle_id"]
            vote = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "tie"})
            assert vote.status_code == 200, vote.text
            report = client.get("/integrity.json").json()
            assert report["log"]["position"] == 1
            assert report["policy"]["policy"] == "fair-informative"  # the config's default
            organizations = {entry["organization"] for entry in report["organizations"]}
            assert organizations == {"Test Lab", "Other Lab", "unknown"}
            assert report["shares"]["all"]["appearances"] == 2
            assert report["uncounted_votes"] == {}  # the one vote counts
            assert {model["status"] for model in report["models"]} == {"provisional"}
            deadline = time.monotonic() + 20
            while (board := client.get("/leaderboard.json").json()).get("watermark") != 1:
                assert time.monotonic() < deadline, "the refresher never caught up"
                time.sleep(0.2)
            standings = board["standings"]["models"]
            assert set(standings) == {row["model"] for row in board["leaderboard"]["rows"]}
            assert {entry["status"] for entry in standings.values()} == {"provisional"}
            assert board["standings"]["variants_per_organization"]
            table = client.get("/leaderboard.csv").text.splitlines()
            assert table[0].endswith(",organization,family,status")
            assert all(line.endswith(",provisional") for line in table[1:])
            shown = client.get("/leaderboard").text
            assert shown.count('data-role="organization"') == 2
            hidden = client.get("/leaderboard?provisional=hide").text
            assert 'data-role="organization"' not in hidden
            assert "2 provisional models hidden." in hidden
            page = client.get("/integrity")
            assert page.status_code == 200
            main = page.text.split("<main", 1)[1].split("</main>")[0]
            assert "<script" not in main  # the chart is plain SVG
            assert 'data-role="shares-chart"' in page.text
            assert report["log"]["head"] in page.text

"""GLASSARENA_TONE_STYLE_CONTROL: the live style-controlled board lists the emoji and
sentiment coefficients beside the others."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel


def test_the_style_board_shows_tone_coefficients_when_the_setting_is_on(tmp_path: Path) -> None:
    # Two contestants echo the prompt (so their tone varies battle by battle), one is flat.
    script = {"echo": ScriptedModel(answer="{prompt}"), "flat": ScriptedModel(answer="Done.")}
    rng = random.Random(12)
    with ModelServerDouble(script) as double:
        url = double.openai_base_url
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant("echo-one", url, "echo"),
                openai_contestant("echo-two", url, "echo"),
                openai_contestant("flat-three", url, "flat"),
            ],
        )
        with (
            running_arena(tmp_path, config, tone_style_control=True) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            for _ in range(60):
                # Every style feature varies, each on its own.
                prompt = "# Title\n" * rng.randint(0, 1) + "- item\n" * rng.randint(0, 3)
                prompt += "**bold** " * rng.randint(0, 2) + " ".join(["word"] * rng.randint(2, 40))
                prompt += rng.choice([" Wonderful, I love it!", " Terrible and sad.", ""])
                prompt += " 😊" * rng.randint(0, 3)
                events = sse_events(client.post("/api/battles", json={"prompt": prompt}).text)
                battle = events[0]["battle_id"]
                choice = rng.choice(["a", "b", "tie"])
                vote = client.post(f"/api/battles/{battle}/vote", json={"choice": choice})
                assert vote.status_code == 200, vote.text
            deadline = time.monotonic() + 60
            while (board := client.get("/leaderboard.json?style=on").json()).get("votes") != 60:
                assert time.monotonic() < deadline, "the refresher never caught up"
                time.sleep(0.3)
            assert board["leaderboard"] is not None, board["message"]
            assert board["leaderboard"]["options"]["tone_style"] is True
            features = [item["feature"] for item in board["leaderboard"]["style"]]
            assert features == ["tokens", "headers", "lists", "bold", "emoji", "sentiment"]
            page = client.get("/leaderboard?style=on").text
            shown = re.findall(r"<tr>\s*<td>([a-z ]+)</td>\s*<td class=\"num\">[+-]", page)
            assert shown == features

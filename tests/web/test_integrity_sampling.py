"""GET /integrity/sampling.json: the sampling policy in force and what it realised."""

from __future__ import annotations

from pathlib import Path

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel


def test_the_policy_its_targets_and_the_realised_shares_are_published(tmp_path: Path) -> None:
    with ModelServerDouble({"echo": ScriptedModel(answer="Hello there.")}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "echo")
                for name in ("aurora", "boreal", "cirrus")
            ],
            sampling={"pinned": {"cirrus": 0.5}},
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            started = client.post("/api/battles", json={"prompt": "Hi."})
            assert sse_events(started.text)[-1]["type"] == "complete"
            published = client.get("/integrity/sampling.json").json()
            on_the_page = client.get("/integrity.json").json()
    assert published["policy"]["policy"] == "fair-informative"
    assert published["policy"]["pinned_share_of_battles"] == {"cirrus": 0.5}
    targets = published["target_shares"]["text"]
    assert targets["cirrus"] == 0.25 and abs(sum(targets.values()) - 1) < 1e-9
    # organizations come from the config (the test helper names "Test Lab")
    assert published["organizations"] == dict.fromkeys(("aurora", "boreal", "cirrus"), "Test Lab")
    # the same figures as /integrity's: one battle appears once for each of its two models
    realised = published["realised_shares"]["all"]
    assert realised["appearances"] == 2 and realised["counted_vote_appearances"] == 0
    assert realised["organizations"][0]["organization"] == "Test Lab"
    assert published["realised_shares"] == on_the_page["shares"]  # one computation for both

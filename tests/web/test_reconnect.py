"""A client that loses its connection mid-battle loses nothing: generation goes on in the
server, and the turn can be replayed from its start."""

from __future__ import annotations

from pathlib import Path

import httpx
from arena_server import openai_contestant, running_arena, sse_events, write_config

from openai_test_server import ModelServerDouble, ScriptedModel

ANSWER = "one two three four five six seven eight"


def test_disconnected_client_catches_up(tmp_path: Path) -> None:
    script = {"slow": ScriptedModel(answer=ANSWER, token_delay=0.1)}
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "slow") for name in ("x", "y")
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            with client.stream("POST", "/api/battles", json={"prompt": "Count"}) as stream:
                first_line = next(line for line in stream.iter_lines() if line.startswith("data:"))
            battle_id = sse_events(first_line + "\n\n")[0]["battle_id"]
            # The connection is gone; the answers keep coming on the server.
            replay = sse_events(client.get(f"/api/battles/{battle_id}/events").text)
            assert replay[0]["type"] == "battle" and replay[0]["battle_id"] == battle_id
            assert replay[-1] == {"type": "complete", "voting_open": True}
            for side in ("a", "b"):
                text = "".join(
                    event["text"]
                    for event in replay
                    if event["type"] == "delta" and event["side"] == side
                )
                assert text == ANSWER
                rendered = [e for e in replay if e["type"] == "rendered" and e["side"] == side]
                assert rendered[0]["html"] == f"<p>{ANSWER}</p>\n"
            assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"}).is_success

            missing = client.get("/api/battles/not-a-battle/events")
            assert missing.status_code == 404 and "does not exist" in missing.text

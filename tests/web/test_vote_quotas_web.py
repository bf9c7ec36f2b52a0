"""Vote quotas and practice battles through the real app, served by uvicorn on 127.0.0.1.

Every client here comes from 127.0.0.1, like several people behind one address: an
attacker's junk votes with fresh cookies must not lock the honest voter out, and votes on
the shipped (public) recorded answers are stored but never counted.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
from arena_server import running_arena, sse_events, write_config

from glassarena.arena.votes import PRACTICE_REASON

PRIVATE_ANSWERS = [
    {"prompt": "Name a colour.", "model": "checkpoint-1", "answer": "Blue."},
    {"prompt": "Name a colour.", "model": "checkpoint-2", "answer": "A deep green."},
]


def _private_set(directory: Path) -> dict[str, Any]:
    path = directory / "checkpoints.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in PRIVATE_ANSWERS))
    return {"name": "checkpoints", "format": "jsonl", "path": path.name}


def _recorded_battle(client: httpx.Client) -> str:
    response = client.post("/api/battles", json={"kind": "recorded"})
    assert response.status_code == 200, response.text
    events = sse_events(response.text)
    assert events[-1] == {"type": "complete", "voting_open": True}
    return str(events[0]["battle_id"])


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Origin": url}, timeout=30)


def test_junk_votes_with_fresh_cookies_do_not_lock_out_an_honest_voter(tmp_path: Path) -> None:
    # The default limits (30 votes a minute per IP). Before, 30 junk votes made the honest
    # vote below a 429 for the rest of the minute.
    config = write_config(tmp_path, rate_limits={}, recorded_sets=[_private_set(tmp_path)])
    with running_arena(tmp_path, config) as server, _client(server.url) as honest:
        battle_id = _recorded_battle(honest)
        statuses = set()
        # 70 > 2 x 30: even if the junk straddles a minute boundary, one minute holds over 30.
        for _ in range(70):
            with _client(server.url) as attacker:  # a fresh cookie for every junk vote
                junk = attacker.post(
                    f"/api/battles/{secrets.token_urlsafe(18)}/vote", json={"choice": "a"}
                )
                statuses.add(junk.status_code)
        assert statuses == {404}
        vote = honest.post(f"/api/battles/{battle_id}/vote", json={"choice": "b"})
        assert vote.status_code == 200, vote.text
        assert vote.json()["counted"] is True


def test_votes_on_the_shipped_answers_are_practice(tmp_path: Path) -> None:
    shipped = {"name": "llmfao", "format": "llmfao", "path": "builtin:llmfao"}
    config = write_config(tmp_path, recorded_sets=[shipped])
    with running_arena(tmp_path, config) as server, _client(server.url) as voter:
        page = voter.get("/recorded")
        assert PRACTICE_REASON in page.text
        battle_id = _recorded_battle(voter)
        reveal = voter.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"}).json()
        assert reveal["counted"] is False and reveal["not_counted_reason"] == PRACTICE_REASON
        state = voter.get(f"/api/battles/{battle_id}").json()
        assert state["vote"] == "model_a" and state["reveal"] == reveal
        board = voter.get("/leaderboard", params={"category": "recorded"}).text
        assert "are practice votes" in board and "(llmfao)" in board
        assert "practice" not in voter.get("/leaderboard", params={"category": "text"}).text


def test_a_private_set_says_nothing_about_practice(tmp_path: Path) -> None:
    config = write_config(tmp_path, recorded_sets=[_private_set(tmp_path)])
    with running_arena(tmp_path, config) as server, _client(server.url) as voter:
        assert "Practice battle" not in voter.get("/recorded").text
        assert "practice" not in voter.get("/leaderboard?category=recorded").text
        battle_id = _recorded_battle(voter)
        assert voter.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"}).json()["counted"]

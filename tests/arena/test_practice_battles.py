"""Recorded sets whose answers are public give practice battles: stored, shown, never ranked.

The attack: the shipped LLMFAO answers ship with the package, so a voter can look each
side's text up in the data file and know which model wrote it before voting. Before, such
votes counted on the recorded leaderboard; now they are stored but never counted. A private
set (a team's own checkpoints) still counts.
"""

from __future__ import annotations

import importlib.resources
import json
import shutil
from pathlib import Path

import pytest

from glassarena.arena.bootstrap import Arena, build_arena
from glassarena.arena.config import ConfigError, load_config
from glassarena.arena.service import BattleRequest
from glassarena.arena.votes import PRACTICE_REASON
from glassarena.battles.record import Winner

MODELS = ["Claude v1", "Code Llama (13B)", "Alpaca (7B)"]
SHIPPED = Path(str(importlib.resources.files("glassarena").joinpath("data/llmfao")))
SECRET = "s" * 32


def _config(directory: Path, path: str, public: bool | None = None) -> Path:
    entry = {"name": "answers", "format": "llmfao", "path": path, "contestants": MODELS}
    if public is not None:
        entry["public"] = public
    config = directory / "arena.yaml"
    config.write_text(json.dumps({"recorded_sets": [entry]}))  # JSON is YAML
    return config


def _private_copy(directory: Path) -> str:
    """The shipped answers as if they were a team's own, unpublished checkpoints."""
    shutil.copytree(SHIPPED, directory / "checkpoints")
    return "checkpoints"


def _who_wrote(text: str) -> set[str]:
    """The attack: look the answer up in the data file that ships with glassarena."""
    with (SHIPPED / "results.jsonl").open(encoding="utf-8") as results:
        records = [json.loads(line) for line in results]
    return {r["name"] for r in records if r["result"].strip() == text.strip()}


async def _vote_on_a_recorded_battle(arena: Arena, voter_id: str) -> tuple[bool, str | None]:
    service = arena.service
    voter = service.voter(voter_id, "192.0.2.30")
    live = await service.start(voter, BattleRequest(kind="recorded"))
    events = [event async for event in live.events()]
    texts = {
        side: "".join(e["text"] for e in events if e["type"] == "delta" and e["side"] == side)
        for side in "ab"
    }
    named = {side: _who_wrote(text) for side, text in texts.items()}
    reveal = service.vote(voter, live.battle_id, Winner.MODEL_A)
    for side, model in reveal.models.items():
        assert model.name in named[side]  # the lookup named the side before the vote
    state = service.battle_state(voter, live.battle_id)  # stored, and shown with its reason
    assert state.vote == "model_a" and state.reveal == reveal
    return reveal.counted, reveal.not_counted_reason


async def test_votes_on_the_shipped_public_set_are_stored_but_never_ranked(
    tmp_path: Path, database_url: str
) -> None:
    arena = build_arena(
        load_config(_config(tmp_path, "builtin:llmfao")), database_url, secret_key=SECRET
    )
    try:
        assert arena.service.roster  # the shipped set is served, as before
        for number in range(3):
            counted, reason = await _vote_on_a_recorded_battle(arena, f"reader-{number}")
            assert not counted and reason == PRACTICE_REASON
        assert arena.service.repository.counted_votes() == []
        arena.leaderboards.refresh_if_needed()
        recorded = arena.leaderboards.snapshot("recorded")
        assert recorded is not None and recorded.votes == 0 and recorded.leaderboard is None
    finally:
        await arena.close()


async def test_a_set_marked_public_gives_practice_battles_too(
    tmp_path: Path, database_url: str
) -> None:
    config = _config(tmp_path, _private_copy(tmp_path), public=True)
    arena = build_arena(load_config(config), database_url, secret_key=SECRET)
    try:
        counted, reason = await _vote_on_a_recorded_battle(arena, "reader")
        assert not counted and reason == PRACTICE_REASON
    finally:
        await arena.close()


async def test_a_private_set_counts(tmp_path: Path, database_url: str) -> None:
    config = _config(tmp_path, _private_copy(tmp_path))
    assert load_config(config).recorded_sets[0].public is False
    arena = build_arena(load_config(config), database_url, secret_key=SECRET)
    try:
        counted, reason = await _vote_on_a_recorded_battle(arena, "reader")
        assert counted and reason is None
        arena.leaderboards.refresh_if_needed()
        recorded = arena.leaderboards.snapshot("recorded")
        assert recorded is not None and recorded.votes == 1
    finally:
        await arena.close()


def test_the_shipped_set_cannot_be_declared_private(tmp_path: Path) -> None:
    config = _config(tmp_path, "builtin:llmfao", public=False)
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    message = str(raised.value)
    assert "arena.yaml:1" in message and "ships with glassarena" in message
    assert load_config(_config(tmp_path, "builtin:llmfao")).recorded_sets[0].public is True

"""Battles are stored with their prompt categories; export and `rank --category` use them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from scripted_arena import make_service

from glassarena.arena.export import exported_battles
from glassarena.arena.leaderboard_refresher import LeaderboardRefresher
from glassarena.arena.log_audit import read_log, recompute_served, served_json
from glassarena.arena.log_export import export_lines
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.battles.categories import category_names
from glassarena.battles.formats import read_battles
from glassarena.battles.prompt_categories import RULES_VERSION
from glassarena.battles.record import Winner
from glassarena.cli import main
from glassarena.storage.database import Database

CODING = "Write a Python function that merges two sorted lists."
POEM = "Schreib ein Gedicht über den Herbst."


async def _battle(service: ArenaService, prompt: str, follow_up: str | None = None) -> str:
    voter = service.voter("categorised", "192.0.2.40")
    live = await service.start(voter, BattleRequest(prompt=prompt))
    async for _ in live.events():
        pass
    if follow_up is not None:
        follow = await service.follow_up(voter, live.battle_id, follow_up)
        async for _ in follow.events():
            pass
    return live.battle_id


def _stored_categories(service: ArenaService, battle_id: str) -> dict:
    battle = service.repository.battle(battle_id)
    assert battle is not None and battle.prompt_categories is not None
    return dict(battle.prompt_categories)


def _service(database: Database, providers) -> ArenaService:
    limits = RateLimits(battles_per_minute_per_voter=1000, votes_per_minute_per_voter=1000)
    return make_service(database, providers, rate_limits=limits)


async def test_a_battle_is_stored_with_its_categories_and_the_classifier_version(
    database: Database, providers
) -> None:
    service = _service(database, providers)
    battle_id = await _battle(service, CODING)
    stored = _stored_categories(service, battle_id)
    assert stored["classifier"] == RULES_VERSION
    assert stored["language"] == "en"
    assert {"coding", "language_en"} <= category_names(stored)
    assert "multi_turn" not in category_names(stored)


async def test_a_follow_up_makes_the_battle_multi_turn(database: Database, providers) -> None:
    service = _service(database, providers)
    battle_id = await _battle(service, POEM, follow_up="Und jetzt eins über den Winter.")
    stored = _stored_categories(service, battle_id)
    # Multi-turn is added; the first prompt's categories stay as they were classified.
    assert {"multi_turn", "creative_writing", "language_de"} <= category_names(stored)


async def test_export_writes_category_tag_and_rank_filters_by_it(
    database: Database, database_url: str, providers, tmp_path: Path
) -> None:
    service = _service(database, providers)
    voter = service.voter("categorised", "192.0.2.40")
    for number in range(6):
        battle_id = await _battle(service, CODING if number % 2 else POEM)
        service.vote(voter, battle_id, Winner.MODEL_A if number % 3 else Winner.MODEL_B)
    exported = exported_battles(service.repository)
    assert [("coding" in category_names(tag)) for tag in exported["category_tag"]] == [
        False,
        True,
        False,
        True,
        False,
        True,
    ]

    output = tmp_path / "battles.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", "--database-url", database_url, "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert category_names(read_battles(output)["category_tag"][1]) >= {"coding"}
    # A small prior: three battles per category cannot give every model a win and a loss.
    for category in ("coding", "creative_writing", "language_de"):
        ranked = runner.invoke(
            main,
            ["rank", str(output), "--category", category, "--prior", "1", "--format", "json"],
        )
        assert ranked.exit_code == 0, ranked.output
        assert json.loads(ranked.output)
    unknown = runner.invoke(main, ["rank", str(output), "--category", "cooking"])
    assert unknown.exit_code != 0


async def test_category_boards_rank_their_text_battles_and_follow_from_the_log(
    database: Database, providers
) -> None:
    service = _service(database, providers)
    voter = service.voter("categorised", "192.0.2.40")
    winners = [Winner.MODEL_A, Winner.MODEL_B, Winner.TIE]
    for number in range(18):
        battle_id = await _battle(service, CODING if number % 3 else POEM)
        service.vote(voter, battle_id, winners[number % 3])
    refresher = LeaderboardRefresher(service.repository)
    refresher.refresh()
    coding = refresher.snapshot("coding")
    creative = refresher.snapshot("creative_writing")
    text = refresher.snapshot("text")
    assert coding is not None and creative is not None and text is not None
    assert (coding.votes, creative.votes, text.votes) == (12, 6, 18)
    assert refresher.snapshot("math") is not None
    assert refresher.snapshot("math").votes == 0  # type: ignore[union-attr]

    # Anyone holding the published log recomputes the category board byte for byte: the
    # categories are chained into the log entries.
    lines = [line.decode() for line in export_lines(service.repository)]
    assert all('"prompt_categories"' in line for line in lines)
    entries = read_log(lines, "log.jsonl")
    for snapshot in (coding, creative):
        served = served_json(snapshot.to_dict())
        assert recompute_served(entries, json.loads(served)) == served

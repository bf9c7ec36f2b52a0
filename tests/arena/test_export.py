"""`glassarena export` writes what `glassarena rank` reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from scripted_arena import MODEL_NAMES, make_service

from glassarena.arena.export import judge_id
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.battles.formats import read_battles
from glassarena.battles.record import Winner
from glassarena.cli import main
from glassarena.leaderboard import compute_leaderboard
from glassarena.storage.database import Database


async def _voted_arena(database: Database, providers) -> ArenaService:
    limits = RateLimits(battles_per_minute_per_voter=1000, votes_per_minute_per_voter=1000)
    service = make_service(database, providers, rate_limits=limits)
    voter = service.voter("exporter", "192.0.2.30")
    for number in range(15):
        live = await service.start(voter, BattleRequest(prompt=f"Question {number}?"))
        async for _ in live.events():
            pass
        if number % 5 == 0:
            follow = await service.follow_up(voter, live.battle_id, "Tell me more.")
            async for _ in follow.events():
                pass
        service.vote(voter, live.battle_id, list(Winner)[number % 4])
    named = BattleRequest(mode="named", prompt="Named.", models=MODEL_NAMES[:2])
    live = await service.start(voter, named)
    async for _ in live.events():
        pass
    service.vote(voter, live.battle_id, Winner.MODEL_A)
    return service


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
async def test_export_then_rank_round_trip(
    database: Database, database_url: str, providers, tmp_path: Path, suffix: str
) -> None:
    await _voted_arena(database, providers)
    output = tmp_path / f"battles{suffix}"
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", "--database-url", database_url, "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 15 battles (15 counted)" in result.output

    battles = read_battles(output)
    assert len(battles) == 15
    assert set(battles["model_a"]) | set(battles["model_b"]) <= set(MODEL_NAMES)
    assert battles["anony"].all()
    assert set(battles["judge"]) == {judge_id("exporter")}
    assert sorted(battles["turn"].unique()) == [1, 2]
    two_turns = battles[battles["turn"] == 2].iloc[0]
    assert [m["role"] for m in two_turns["conversation_a"]] == ["user", "assistant"] * 2
    assert two_turns["sum_assistant_a_tokens"] > 0
    first = json.loads(output.read_text().splitlines()[0 if suffix == ".jsonl" else 1].rstrip(","))
    assert "conv_metadata" in first and "header_count_a" in first["conv_metadata"]
    assert "192.0.2.30" not in output.read_text()

    plain = compute_leaderboard(battles)
    assert set(plain.models) <= set(MODEL_NAMES)
    ranked = runner.invoke(main, ["rank", str(output), "--format", "json"])
    assert ranked.exit_code == 0, ranked.output
    assert {row["model"] for row in json.loads(ranked.output)} == set(plain.models)


async def test_export_can_include_uncounted_votes(
    database: Database, database_url: str, providers, tmp_path: Path
) -> None:
    await _voted_arena(database, providers)
    output = tmp_path / "all.jsonl"
    result = CliRunner().invoke(
        main,
        ["export", "--database-url", database_url, "-o", str(output), "--include-uncounted"],
    )
    assert result.exit_code == 0, result.output
    battles = read_battles(output)
    assert len(battles) == 16
    named = battles[~battles["anony"].astype(bool)]
    assert len(named) == 1 and not named["counted"].iloc[0]


def test_export_names_an_unreachable_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--database-url",
            "postgresql://arena:pw@127.0.0.1:1/arena",
            "-o",
            str(tmp_path / "x.json"),
        ],
    )
    assert result.exit_code == 1
    assert "postgresql://arena:***@127.0.0.1:1/arena" in result.output
    assert "pw@" not in result.output


def test_export_refuses_other_formats(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--database-url", "sqlite://", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert "export writes .json or .jsonl" in result.output


def test_export_from_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = CliRunner().invoke(
        main, ["export", "--database-url", f"sqlite:///{missing}", "-o", str(tmp_path / "x.json")]
    )
    assert result.exit_code == 1
    assert f"no arena database at {missing}" in result.output
    assert not missing.exists()

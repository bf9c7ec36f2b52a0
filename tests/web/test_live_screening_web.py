"""A running arena screens its own votes: a rigging voter's votes stop counting after the
background refresh, `/integrity` shows why and the board with and without screening, and
`glassarena verify` replays the published log, verdicts included, to the served boards."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from arena_server import running_arena, write_config
from click.testing import CliRunner

from glassarena.cli import main
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository
from vote_seeding import CROWD_MODELS, seed_honest_crowd, seed_target_fan

HONEST = 30 * 20
FAN = 120
TARGET = CROWD_MODELS[-1]


def _settled(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """The text board and the integrity report once screening has passed over every vote
    and the board was recomputed after its verdicts."""
    deadline = time.monotonic() + 90
    while True:
        board = client.get("/leaderboard.json?category=text").json()
        report = client.get("/integrity.json").json()
        screening = report["screening"]
        if (
            screening is not None
            and screening["votes_screened"] == HONEST + FAN
            and board["watermark"] == report["log"]["position"] > HONEST + FAN
        ):
            return board, report
        assert time.monotonic() < deadline, (board.get("watermark"), screening)
        time.sleep(0.5)


def test_a_rigging_voter_is_uncounted_in_a_running_arena(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'arena.db'}"
    database = open_database(database_url)
    repository = ArenaRepository(database)
    crowd = seed_honest_crowd(repository, 30, 20)
    seed_target_fan(repository, crowd, FAN)
    database.dispose()
    config = write_config(tmp_path, contestants=[])
    with (
        running_arena(tmp_path, config, database_url=database_url) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        board, report = _settled(client)
        served = tmp_path / "board.json"
        served.write_bytes(client.get("/leaderboard.json?category=text").content)
        log = tmp_path / "log.jsonl"
        log.write_bytes(client.get("/integrity/log.jsonl").content)
        page = client.get("/integrity").text

    assert board["votes"] == HONEST, "only the honest votes count"
    screening = report["screening"]
    assert sum(screening["uncounted_by_reason"].values()) == FAN
    assert report["log"]["position"] == HONEST + FAN + FAN  # one verdict per rigged vote
    rows = {row["model"]: row for row in screening["boards"]["text"]["rows"]}
    target = rows[TARGET]
    assert target["rank_without_screening"] < target["rank"], "the attack lifted the target"
    assert target["rank_change"] == target["rank_without_screening"] - target["rank"]
    served_rank = {row["model"]: row["rank"] for row in board["leaderboard"]["rows"]}
    assert served_rank[TARGET] == target["rank"]

    assert 'data-role="screening-reasons"' in page
    assert 'data-role="screening-board-text"' in page
    for reason in screening["uncounted_by_reason"]:
        assert f"<code>{reason}</code>" in page

    result = CliRunner().invoke(
        main, ["verify", str(log), "--head", report["log"]["head"], "--against", str(served)]
    )
    assert result.exit_code == 0, result.output
    assert f"{FAN} screening verdict(s)" in result.output
    assert "identical" in result.output

"""`glassarena verify` on a log exported by a running arena reproduces /leaderboard.json.

On SQLite and PostgreSQL: the votes are stored, the background refresher computes every
leaderboard at a head of the vote log, and the served bytes must equal what `verify`
recomputes from the exported log alone.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from arena_server import running_arena, write_config
from click.testing import CliRunner

from glassarena.cli import main
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository
from vote_seeding import seed_votes

VOTES = 45


def test_verify_reproduces_every_served_leaderboard(tmp_path: Path, database_url: str) -> None:
    config = write_config(tmp_path, contestants=[])
    database = open_database(database_url)
    with running_arena(tmp_path, config, database_url=database_url) as server:
        seed_votes(ArenaRepository(database), VOTES)
        database.dispose()
        with httpx.Client(base_url=server.url) as client:
            deadline = time.monotonic() + 30
            while client.get("/leaderboard.json").json().get("watermark") != VOTES:
                assert time.monotonic() < deadline, "the refresher never caught up"
                time.sleep(0.2)
            served = []
            for category in ("text", "webdev", "recorded"):
                for style in ("", "&style=on"):
                    response = client.get(f"/leaderboard.json?category={category}{style}")
                    path = tmp_path / f"served-{category}{style.replace('&style=', '-')}.json"
                    path.write_bytes(response.content)
                    served.append(path)
            text_board = client.get("/leaderboard.json?category=text").json()
            assert text_board["leaderboard"] is not None, text_board["message"]
            assert text_board["votes"] == VOTES - VOTES // 5
            page = client.get("/leaderboard?category=text").text
            assert text_board["log_head"] in page
            log = tmp_path / "log.jsonl"
            log.write_bytes(client.get("/integrity/log.jsonl").content)

    result = CliRunner().invoke(
        main, ["verify", str(log), "--head", text_board["log_head"], *_against(served)]
    )
    assert result.exit_code == 0, result.output
    assert f"chain intact: {VOTES} entries, head {text_board['log_head']}" in result.output
    assert result.output.count("identical") == len(served)


def _against(paths: list[Path]) -> list[str]:
    return [argument for path in paths for argument in ("--against", str(path))]

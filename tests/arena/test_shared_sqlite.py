"""Two worker processes battling and voting on one SQLite file at the same time lose nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glassarena.arena.log_audit import check_chain, read_log
from glassarena.arena.log_export import export_lines
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository

_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service
    from glassarena.arena.ratelimit import RateLimits
    from glassarena.arena.service import BattleRequest
    from glassarena.storage.database import open_database

    async def main(url, worker, battles):
        providers = {name: ScriptedProvider(f"S{i}") for i, name in enumerate(MODEL_NAMES)}
        limits = RateLimits(battles_per_minute_per_voter=1000, votes_per_minute_per_voter=1000,
                            battles_per_minute_per_ip=1000, votes_per_minute_per_ip=1000)
        service = make_service(open_database(url), providers, rate_limits=limits)
        voter = service.voter(f"worker-{worker}", "192.0.2.70")
        for number in range(battles):
            live = await service.start(voter, BattleRequest(prompt=f"{worker}/{number}"))
            async for event in live.events():
                pass
            assert event == {"type": "complete", "voting_open": True}, event
            service.vote(voter, live.battle_id, "tie")
        print("ok")

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


@pytest.mark.slow
def test_two_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    open_database(url).dispose()  # `glassarena serve` migrates once before the workers start
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), str(here.parents[1] / "src")])}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(worker), "20"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for worker in range(2)
    ]
    for worker in workers:
        output, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0 and output.strip() == "ok", errors
    database = open_database(url)
    repository = ArenaRepository(database)
    votes = repository.counted_votes()
    # Both processes appended to one vote log: a single unbroken hash chain of 40 entries.
    lines = [line.decode() for line in export_lines(repository)]
    head = check_chain(read_log(lines, "export"), "export")
    database.dispose()
    assert len(votes) == 40
    assert head.position == 40

"""Nothing acknowledged is lost: a vote the user saw revealed survives kill -9 of the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa

from glassarena.storage.database import open_database

_VOTE_THEN_DIE = textwrap.dedent(
    """
    import asyncio, json, os, signal, sys
    from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service
    from glassarena.arena.service import BattleRequest
    from glassarena.storage.database import open_database

    async def main():
        providers = {name: ScriptedProvider(f"S{i}") for i, name in enumerate(MODEL_NAMES)}
        service = make_service(open_database(sys.argv[1]), providers)
        voter = service.voter("durable", "192.0.2.50")
        live = await service.start(voter, BattleRequest(prompt="Will this survive?"))
        async for _ in live.events():
            pass
        reveal = service.vote(voter, live.battle_id, "model_b")
        print(json.dumps(reveal.to_dict()), flush=True)  # the acknowledgement
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


def test_an_acknowledged_vote_survives_kill_9(database_url: str) -> None:
    here = Path(__file__).parent
    path = os.pathsep.join([str(here), str(here.parents[1] / "src")])
    process = subprocess.run(
        [sys.executable, "-c", _VOTE_THEN_DIE, database_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert process.returncode == -signal.SIGKILL, process.stderr
    acknowledged = json.loads(process.stdout)
    database = open_database(database_url)
    with database.engine.connect() as connection:
        votes = connection.execute(
            sa.text(
                "SELECT b.public_id, v.winner, v.counted FROM votes v "
                "JOIN battles b ON b.id = v.battle_id"
            )
        ).all()
        logged = connection.execute(sa.text("SELECT battle_public_id, winner FROM vote_log")).all()
    database.dispose()
    assert votes == [(acknowledged["battle_id"], "model_b", True)]
    assert logged == [(acknowledged["battle_id"], "model_b")]

"""In-process cost of one vote. Not part of the tests: run it by hand.

    .venv/bin/python benchmarks/bench_vote_path.py [--battles 2000] [--database-url URL]
                                                   [--profile]

The arena is built as `glassarena serve` builds it (`build_arena`: the identity-leak guard,
the hash-chained vote log, rate limits, SQLite unless a URL is given); its battles are answered
by the OpenAI-protocol TEST DOUBLE in tests/openai_test_server.py (a scripted HTTP server, not
a model). Then `ArenaService.vote` is timed alone, one vote after another on one thread: what
a vote costs the server besides HTTP (benchmarks/bench_server.py measures that part). With
`--profile`, pyinstrument (`pip install pyinstrument`) prints where the votes' time went.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import ANSWER, UPSTREAM_MODEL, percentile, write_config
from glassarena.arena.bootstrap import Arena, build_arena
from glassarena.arena.config import load_config
from glassarena.arena.service import BattleRequest
from glassarena.arena.voter import Voter
from openai_test_server import ModelServerDouble, ScriptedModel

VOTERS = 50


async def answered_battles(arena: Arena, count: int) -> list[tuple[Voter, str]]:
    """`count` battles answered in full, ready for their vote (16 at a time)."""
    service = arena.service
    battles: list[tuple[Voter, str]] = []
    gate = asyncio.Semaphore(16)

    async def one(number: int) -> None:
        voter = service.voter(f"bench-voter-{number % VOTERS}", f"203.0.113.{number % 200}")
        async with gate:
            live = await service.start(voter, BattleRequest(prompt=f"Question {number}?"))
            async for _ in live.events():
                pass
        battles.append((voter, live.battle_id))

    await asyncio.gather(*(one(number) for number in range(count)))
    return battles


def time_votes(
    arena: Arena, battles: list[tuple[Voter, str]], profile: bool
) -> tuple[list[float], list[float]]:
    """Each vote's wall time, and the CPU time of the thread that cast it (what the vote costs
    the server: on a busy machine the wall time also holds the waits for a core)."""
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    walls, cpus = [], []
    for voter, battle_id in battles:
        started, started_cpu = time.perf_counter(), time.thread_time()
        arena.service.vote(voter, battle_id, "model_a")
        cpus.append(time.thread_time() - started_cpu)
        walls.append(time.perf_counter() - started)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return walls, cpus


def summary(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:.3f} ms, "
        f"p90 {percentile(samples, 0.9) * 1000:.3f} ms, "
        f"p99 {percentile(samples, 0.99) * 1000:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=2000)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        ModelServerDouble({UPSTREAM_MODEL: ScriptedModel(answer=ANSWER)}) as double,
    ):
        directory = Path(workdir)
        config = load_config(write_config(directory, double.openai_base_url, options.models))
        arena = build_arena(
            config,
            options.database_url or f"sqlite:///{directory / 'arena.db'}",
            secret_key="bench-vote-path-" + "x" * 32,
        )
        battles = asyncio.run(answered_battles(arena, options.battles))
        walls, cpus = time_votes(arena, battles, options.profile)
        arena.database.dispose()
    print(f"{len(walls):,} votes in process ({arena.database.engine.dialect.name}):")
    print(f"  wall time: {summary(walls)}; {len(walls) / sum(walls):,.0f} votes/s on one thread")
    print(f"  CPU time:  {summary(cpus)}")


if __name__ == "__main__":
    main()

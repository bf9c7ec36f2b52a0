"""Peak memory of one screening pass, detector by detector, in a young arena.

Run: python benchmarks/bench_screening_memory.py [--votes 1000000 10000000]
     [--src DIR ...]

A young arena is screening's worst case for memory: every voter is new, so every vote is in
the new-or-low-history cohort that the swarm, shift and burst tests go over. Each run is a
child process that builds a seeded vote table of that shape (16 models, 50,000 voters,
20,000 IP hashes, a vote every 3 ms, Bradley-Terry outcomes with 10 % ties, as
bench_scale.py fills the arena) and screens it once with the default settings. Reported:
the table's own size, the peak of the process (VmHWM), the pass's time, and per detector
the most memory it allocated beyond what was held when it was called (tracemalloc, which
sees numpy's arrays). `--src` names the source trees to compare (e.g. an older commit's
src against this one's), each run with PYTHONPATH set to it.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

DETECTORS = (
    "share_cap",
    "cohort_voters",
    "concentration",
    "shared_concentration",
    "swarm",
    "disagreement",
    "favouritism",
    "cohort_shifts",
    "implicated",
)


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(votes: int) -> dict[str, Any]:
    from glassarena.screening import ScreeningSettings, detectors, table

    screen_module = importlib.import_module("glassarena.screening.screen")
    # The codes as the table under test declares them (64-bit before they were 32-bit).
    codes = np.int32 if hasattr(table, "Codes") else np.intp
    rng = np.random.default_rng(7)
    models, voters, ips = 16, 50_000, 20_000
    strength = rng.normal(size=models)
    model_a = rng.integers(0, models, votes)
    model_b = (model_a + rng.integers(1, models, votes)) % models
    draw = rng.random(votes)
    a_wins = 0.1 + 0.9 / (1 + 10 ** (-(strength[model_a] - strength[model_b]) / 2))
    outcome = np.where(draw < 0.1, 0.5, np.where(draw < a_wins, 1.0, 0.0))
    index = np.arange(votes)
    vote_table = table.VoteTable(
        np.array([f"model-{code:02d}" for code in range(models)]),
        model_a.astype(codes),
        model_b.astype(codes),
        outcome,
        (index % voters).astype(codes),
        np.array([f"voter-{code}" for code in range(voters)], dtype=object),
        (index % ips).astype(codes),
        np.array([f"ip-{code}" for code in range(ips)], dtype=object),
        index * 0.003,
    )
    del model_a, model_b, draw, a_wins, outcome, index
    columns = ("model_a", "model_b", "outcome", "voter", "ip", "time")
    held = sum(getattr(vote_table, name).nbytes for name in columns)
    peaks: dict[str, int] = {}

    def measured(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            result = function(*args, **kwargs)
            peaks[name] = max(peaks.get(name, 0), tracemalloc.get_traced_memory()[1] - before)
            return result

        return call

    for name in DETECTORS:
        if hasattr(detectors, name):  # an older tree may lack one
            setattr(detectors, name, measured(name, getattr(detectors, name)))
    screen_module.fit_reference = measured("fit_reference", screen_module.fit_reference)
    tracemalloc.start()
    started = time.perf_counter()
    screen_module.screen(vote_table, ScreeningSettings())
    seconds = time.perf_counter() - started
    return {"table": held, "peak": _peak_rss(), "seconds": seconds, "detectors": peaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--src", type=Path, nargs="+", default=[Path(__file__).parents[1] / "src"])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.child)))
        return
    console = Console()
    for votes in arguments.votes:
        table = Table(title=f"one screening pass, {votes:,} votes, every voter new")
        table.add_column("")
        for source in arguments.src:
            table.add_column(str(source), justify="right")
        results = []
        for source in arguments.src:
            environment = {**os.environ, "PYTHONPATH": str(source.resolve())}
            output = subprocess.run(
                [sys.executable, __file__, "--child", str(votes)],
                env=environment,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results.append(json.loads(output.splitlines()[-1]))
        mib = 2**20
        table.add_row("vote table (MiB)", *(f"{r['table'] / mib:,.0f}" for r in results))
        table.add_row("process peak (MiB)", *(f"{r['peak'] / mib:,.0f}" for r in results))
        table.add_row("pass (s)", *(f"{r['seconds']:.1f}" for r in results))
        for name in (*DETECTORS, "fit_reference"):
            table.add_row(
                f"  {name} (MiB)",
                *(f"{r['detectors'].get(name, 0) / mib:,.0f}" for r in results),
            )
        console.print(table)


if __name__ == "__main__":
    main()

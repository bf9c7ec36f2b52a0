"""Time vote screening against the leaderboard refit it would run beside.

Run: python benchmarks/bench_screening.py [--votes N] [--models M] [--repeats R]

On an honest synthetic crowd (`synthetic_crowd`: voters, IP hashes, times), measures the
median of: the refresh's own work (a Bradley-Terry fit with sandwich intervals on every vote)
and screening (`screen`, every detector). The ratio screening / refit is what screening adds
to a background refresh; the target is at most 0.5 at 1,000,000 votes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from glassarena.ratings import BradleyTerry
from glassarena.screening import VoteTable, screen
from glassarena.screening.simulation import synthetic_crowd


def _median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _refit(table: VoteTable) -> None:
    BradleyTerry(ci="sandwich").fit(
        table.model_a, table.model_b, table.outcome, models=list(table.models)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    table, _ = synthetic_crowd(arguments.models, arguments.votes, n_voters=arguments.voters, seed=0)
    refit = _median_seconds(lambda: _refit(table), arguments.repeats)
    screening = _median_seconds(lambda: screen(table), arguments.repeats)
    print(f"{arguments.votes:,} votes, {arguments.models} models, {table.n_voters:,} voters")
    print(f"  refit (Bradley-Terry, sandwich): median {refit:.3f} s")
    print(f"  screening (all detectors):       median {screening:.3f} s")
    print(f"  screening / refit:               {screening / refit:.2f}")


if __name__ == "__main__":
    main()

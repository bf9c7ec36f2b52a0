"""Peak memory and time of a live style-controlled board, as the arena's refresher fits it.

Run: python benchmarks/bench_style_memory.py [--votes 1000000 10000000] [--repeats 3]
     [--src DIR ...] [--rounds 12]

Each run is a child process that fills `BoardStatistics` (one `text` board) with seeded
synthetic votes of 100 models, 12 style counts each, held as float32 rows like the arena's,
then takes the board as the refresher does (`statistics.board(category, style_control=True)`)
and fits it (`compute_leaderboard_from_counts`, style control, sandwich intervals). Measured
from /proc/self/status and `resource`: the resident set once the votes are held (VmRSS), the
peak while taking and fitting the board (VmHWM, reset just before through
/proc/self/clear_refs), and the wall and CPU time of taking and fitting. `--src` names the
source trees to compare (e.g. main's src against a branch's), each run with PYTHONPATH set to
it; reported are the medians of the repeats.

With `--rounds R`, each run then goes on as a live arena does: R rounds of 50 more votes and
four fits of the board from worker threads, and reports the resident set after them, once
with the refresher's `release_freed_memory()` after each round and once without it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import make_style_battles

BATCH = 1_000_000
LABELS = np.array(["model_b", "tie", "model_a"], dtype=object)


def _status(field: str) -> int:
    """A /proc/self/status memory field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(
    votes: int, models: int, code_style: bool, rounds: int, release: bool
) -> dict[str, float]:
    """Fill the statistics, then take and fit the style-controlled board once (and then
    `rounds` rounds of votes and fits)."""
    from glassarena.arena.board_statistics import BoardStatistics
    from glassarena.arena.freed_memory import release_freed_memory
    from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard_from_counts
    from glassarena.storage.vote_columns import VoteColumns

    category = "webdev" if code_style else "text"
    board_statistics = BoardStatistics([category])
    board_statistics.reserve(votes)

    def add(start: int, size: int, seed: int) -> None:
        battles = make_style_battles(size, models, seed=seed)
        rng = np.random.default_rng(start)
        # Code blocks and lines of each side, as a WebDev vote carries them.
        code = rng.poisson((1.0, 30.0, 1.0, 30.0), (size, 4)).astype(np.float64)
        board_statistics.add(
            VoteColumns(
                position=np.arange(start + 1, start + size + 1, dtype=np.int64),
                model_a=battles.model_a,
                model_b=battles.model_b,
                winner=LABELS[np.rint(battles.outcome * 2).astype(int)],
                category=np.full(size, category, dtype=object),
                prompt_categories=np.full(size, None, dtype=object),
                webdev_stack=np.full(size, None, dtype=object),
                style=np.hstack([battles.features_a, battles.features_b, code]),
            )
        )

    for start in range(0, votes, BATCH):
        add(start, min(BATCH, votes - start), start // BATCH)
    gc.collect()
    # The filling's freed memory goes back to the system, so that the peak counts only what
    # taking and fitting the board allocate, not what they reuse of the filling's heap.
    release_freed_memory()
    held = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS from here on
    wall, cpu = time.perf_counter(), _cpu()
    board = board_statistics.board(category, style_control=True)
    taken = time.perf_counter() - wall
    leaderboard = compute_leaderboard_from_counts(
        board.battles, LeaderboardOptions(style_control=True, code_style=code_style)
    )
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    peak = _status("VmHWM")
    del board
    options = LeaderboardOptions(style_control=True, code_style=code_style)

    def fit() -> None:
        compute_leaderboard_from_counts(
            board_statistics.board(category, style_control=True).battles, options
        )

    rounds_wall = time.perf_counter()
    with ThreadPoolExecutor(4) as workers:
        for round_number in range(rounds):
            add(votes + 50 * round_number, 50, BATCH + round_number)
            for fitted in [workers.submit(fit) for _ in range(4)]:
                fitted.result()
            if release:
                release_freed_memory()
    rounds_wall = time.perf_counter() - rounds_wall
    return {
        "after_rounds_mib": _status("VmRSS") / 2**20,
        "rounds_s": rounds_wall,
        "held_mib": held / 2**20,
        "peak_mib": peak / 2**20,
        "extra_mib": (peak - held) / 2**20,
        "board_s": taken,
        "wall_s": wall,
        "cpu_s": cpu,
        "top_rating": leaderboard.rows[0].rating,
        "style_coef_0": leaderboard.style[0].coefficient,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code-style", action="store_true", help="fit a WebDev board")
    parser.add_argument(
        "--src",
        nargs="+",
        default=[str(Path(__file__).resolve().parents[1] / "src")],
        help="source trees to compare (PYTHONPATH of the children)",
    )
    parser.add_argument("--rounds", type=int, default=0, help="rounds of votes and refits")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-release", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        result = child(
            arguments.votes[0],
            arguments.models,
            arguments.code_style,
            arguments.rounds,
            not arguments.no_release,
        )
        print(json.dumps(result))
        return
    print(f"load average at start: {os.getloadavg()}")
    releases = (True, False) if arguments.rounds else (True,)
    for votes, src, release in itertools.product(arguments.votes, arguments.src, releases):
        results = []
        for _ in range(arguments.repeats):
            command = [sys.executable, __file__, "--child", "--votes", str(votes)]
            command += ["--models", str(arguments.models), "--rounds", str(arguments.rounds)]
            command += ["--code-style"] if arguments.code_style else []
            command += [] if release else ["--no-release"]
            environment = {**os.environ, "PYTHONPATH": src}
            output = subprocess.run(
                command, check=True, capture_output=True, text=True, env=environment
            ).stdout
            results.append(json.loads(output.splitlines()[-1]))
            print(f"  {votes:,} votes, {src}: {results[-1]}", flush=True)
        median = {key: statistics.median(run[key] for run in results) for key in results[0]}
        label = "" if not arguments.rounds else (", released" if release else ", not released")
        rounds = (
            f"; after {arguments.rounds} rounds {median['after_rounds_mib']:.0f} MiB "
            f"in {median['rounds_s']:.1f} s"
            if arguments.rounds
            else ""
        )
        print(
            f"{votes:,} votes, {src}{label}, median of {len(results)}: held "
            f"{median['held_mib']:.0f} MiB, peak {median['peak_mib']:.0f} MiB, extra "
            f"{median['extra_mib']:.0f} MiB; board {median['board_s']:.2f} s, "
            f"wall {median['wall_s']:.2f} s, CPU {median['cpu_s']:.2f} s{rounds} "
            f"(load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Peak memory and time of a live style-controlled board, as the arena's refresher fits it.

Run: python benchmarks/bench_style_memory.py [--votes 1000000 10000000] [--repeats 3]
     [--src DIR ...]

Each run is a child process that fills `BoardStatistics` (one `text` board) with seeded
synthetic votes of 100 models, 12 style counts each, held as float32 rows like the arena's,
then takes the board as the refresher does (`statistics.board(category, style_control=True)`)
and fits it (`compute_leaderboard_from_counts`, style control, sandwich intervals). Measured
from /proc/self/status and `resource`: the resident set once the votes are held (VmRSS), the
peak while taking and fitting the board (VmHWM, reset just before through
/proc/self/clear_refs), and the wall and CPU time of taking and fitting. `--src` names the
source trees to compare (e.g. main's src against a branch's), each run with PYTHONPATH set to
it; reported are the medians of the repeats.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
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


def child(votes: int, models: int, code_style: bool) -> dict[str, float]:
    """Fill the statistics, then take and fit the style-controlled board once."""
    from glassarena.arena.board_statistics import BoardStatistics
    from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard_from_counts
    from glassarena.storage.vote_columns import VoteColumns

    category = "webdev" if code_style else "text"
    board_statistics = BoardStatistics([category])
    board_statistics.reserve(votes)
    for start in range(0, votes, BATCH):
        size = min(BATCH, votes - start)
        battles = make_style_battles(size, models, seed=start // BATCH)
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
        del battles, code
    gc.collect()
    # The filling's freed memory goes back to the system, so that the peak counts only what
    # taking and fitting the board allocate, not what they reuse of the filling's heap.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    held = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS from here on
    wall, cpu = time.perf_counter(), _cpu()
    board = board_statistics.board(category, style_control=True)
    taken = time.perf_counter() - wall
    options = LeaderboardOptions(style_control=True, code_style=code_style)
    leaderboard = compute_leaderboard_from_counts(board.battles, options)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    return {
        "held_mib": held / 2**20,
        "peak_mib": _status("VmHWM") / 2**20,
        "extra_mib": (_status("VmHWM") - held) / 2**20,
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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.votes[0], arguments.models, arguments.code_style)))
        return
    print(f"load average at start: {os.getloadavg()}")
    for votes in arguments.votes:
        for src in arguments.src:
            results = []
            for _ in range(arguments.repeats):
                command = [sys.executable, __file__, "--child", "--votes", str(votes)]
                command += ["--models", str(arguments.models)]
                command += ["--code-style"] if arguments.code_style else []
                environment = {**os.environ, "PYTHONPATH": src}
                output = subprocess.run(
                    command, check=True, capture_output=True, text=True, env=environment
                ).stdout
                results.append(json.loads(output.splitlines()[-1]))
                print(f"  {votes:,} votes, {src}: {results[-1]}", flush=True)
            median = {key: statistics.median(run[key] for run in results) for key in results[0]}
            print(
                f"{votes:,} votes, {src}, median of {len(results)}: held "
                f"{median['held_mib']:.0f} MiB, peak {median['peak_mib']:.0f} MiB, extra "
                f"{median['extra_mib']:.0f} MiB; board {median['board_s']:.2f} s, "
                f"wall {median['wall_s']:.2f} s, CPU {median['cpu_s']:.2f} s "
                f"(load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )


if __name__ == "__main__":
    main()

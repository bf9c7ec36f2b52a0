"""What vote screening adds to the live arena's background leaderboard refresh.

Run: python benchmarks/bench_screening.py [--votes N] [--cycles C] [--database PATH]

1. The detectors alone, on an honest synthetic crowd (`synthetic_crowd`: voters, IP hashes,
   times): one full screening pass (`screen`) against one Bradley-Terry refit.
2. The live arena: the same crowd's votes chained into a real vote log (SQLite; bulk-written
   straight into `vote_log`, as bench_server.py does, with answer styles), then C cycles of
   what a busy arena does: `--new-votes` more votes arrive, the refresher recomputes every
   leaderboard (each category, with and without style control) from the log, and live
   screening (arena/live_screening.py) runs when its budget says so. Per cycle the refresh
   and the screening are timed apart; the ratio of their totals is what screening adds to
   the refresh time (target: at most 0.5 at 1,000,000 votes). The first pass, which reads
   the whole log once, is reported on its own.

`--database PATH` keeps the bulk-written log between runs (it takes minutes to write); the
cycles run on a copy. Its vote ids are made up (only the log is read).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from glassarena.arena.leaderboard_refresher import LeaderboardRefresher
from glassarena.arena.live_screening import LiveScreening
from glassarena.battles.style import side_style
from glassarena.ratings import BradleyTerry
from glassarena.screening import ScreeningSettings, VoteTable, screen
from glassarena.screening.simulation import synthetic_crowd
from glassarena.storage.database import Database, create_database_engine, open_database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.verdict_log import VerdictLog
from glassarena.storage.vote_chain import chain_entry, entry_hash

_START = datetime(2026, 10, 1, tzinfo=UTC)
_WINNERS = {1.0: "model_a", 0.0: "model_b", 0.5: "tie"}


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


def _styles(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Style metadata of `count` made-up answer pairs (headers, lists, bold, words)."""
    pairs = []
    for _ in range(count):
        texts = []
        for _ in range(2):
            parts = ["# Title\n"] * rng.randint(0, 2) + ["- item\n"] * rng.randint(0, 4)
            parts += ["**bold** "] * rng.randint(0, 3) + ["word "] * rng.randint(1, 80)
            rng.shuffle(parts)
            texts.append("".join(parts))
        style_a = side_style([{"role": "assistant", "content": texts[0]}], "a")
        style_b = side_style([{"role": "assistant", "content": texts[1]}], "b")
        pairs.append((json.dumps(style_a), json.dumps(style_b)))
    return pairs


class LogWriter:
    """Appends votes straight into the vote log of an arena database, chained as the arena
    chains them (vote ids are made up: the refresher and screening read only the log)."""

    def __init__(self, path: Path, table: VoteTable, seed: int = 5) -> None:
        self._path = path
        self._table = table
        self._rng = random.Random(seed)
        self._styles = _styles(self._rng, 64)
        repository = ArenaRepository(self.open())
        self._versions = {
            str(name): repository.ensure_version(str(name), "scripted", {}, f"fp-{name}")
            for name in table.models
        }
        repository.database.dispose()

    def open(self) -> Database:
        """The database, migrated when new. Opened without `open_database` once it holds
        entries: its check that every row has its parent would refuse the made-up vote ids."""
        url = f"sqlite:///{self._path}"
        if not self._path.exists():
            open_database(url).dispose()
        return Database(create_database_engine(url))

    def append(self, rows: np.ndarray) -> None:
        table = self._table
        assert table.time is not None and table.ip is not None and table.ip_names is not None
        with sqlite3.connect(self._path) as connection:
            position, head = connection.execute(
                "SELECT position, entry_hash FROM vote_log_head WHERE id = 1"
            ).fetchone()
            log = []
            for row in rows.tolist():
                a = self._versions[str(table.models[table.model_a[row]])]
                b = self._versions[str(table.models[table.model_b[row]])]
                winner = _WINNERS[float(table.outcome[row])]
                voted_at = _START + timedelta(seconds=float(table.time[row]))
                style_a, style_b = self._rng.choice(self._styles)
                position += 1
                public_id = f"bench-{position}"
                entry = chain_entry(
                    position=position,
                    prev_hash=head,
                    battle_id=public_id,
                    category="text",
                    model_a={"name": a.name, "version": a.version, "organization": "unknown"},
                    model_b={"name": b.name, "version": b.version, "organization": "unknown"},
                    winner=winner,
                    counted=True,
                    not_counted_reason=None,
                    voted_at=voted_at,
                    style_a=json.loads(style_a),
                    style_b=json.loads(style_b),
                )
                digest = entry_hash(entry)
                log.append(
                    (position, public_id, "text", a.name, a.version, "unknown", b.name,
                     b.version, "unknown", winner, 1,
                     str(table.voter_names[table.voter[row]]),
                     str(table.ip_names[table.ip[row]]),
                     voted_at.strftime("%Y-%m-%d %H:%M:%S.%f"), style_a, style_b, position,
                     head, digest)
                )  # fmt: skip
                head = digest
            connection.executemany(
                "INSERT INTO vote_log (vote_id, battle_public_id, category, model_a, "
                "model_a_version, organization_a, model_b, model_b_version, organization_b, "
                "winner, counted, voter_id, ip_hash, created_at, style_a, style_b, position, "
                "prev_hash, entry_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                log,
            )
            connection.execute(
                "UPDATE vote_log_head SET position = ?, entry_hash = ? WHERE id = 1",
                (position, head),
            )


def detectors_alone(table: VoteTable, repeats: int) -> None:
    refit = _median_seconds(lambda: _refit(table), repeats)
    screening = _median_seconds(lambda: screen(table), repeats)
    print(f"## 1. The detectors alone ({table.n_votes:,} votes, {table.n_voters:,} voters)")
    print(f"  refit (Bradley-Terry, sandwich): median {refit:.3f} s")
    print(f"  screening (all detectors):       median {screening:.3f} s")
    print(f"  screening / refit:               {screening / refit:.2f}")


def live_arena(
    table: VoteTable, prepared: Path, workdir: Path, cycles: int, new_votes: int
) -> None:
    """The cycles run on a copy of `prepared` (the log up to the cycles' votes), so that a
    kept log can serve the next run."""
    print(f"\n## 2. The live arena's refresh, {table.n_votes:,} votes in the log")
    initial = table.n_votes - cycles * new_votes
    writer = LogWriter(prepared, table)
    kept = writer.open()
    head = ArenaRepository(kept).log_head().position
    kept.dispose()
    if head == 0:
        started = time.perf_counter()
        for offset in range(0, initial, 50_000):
            writer.append(np.arange(offset, min(offset + 50_000, initial)))
        print(f"  wrote {initial:,} chained log entries in {time.perf_counter() - started:.0f} s")
    elif head != initial:
        raise SystemExit(f"{prepared} holds another log; delete it or pick another path")
    database = workdir / "cycles.db"
    with closing(sqlite3.connect(prepared)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(prepared, database)
    writer = LogWriter(database, table)
    written = writer.open()
    repository = ArenaRepository(written)
    screening = LiveScreening(VerdictLog(written), ScreeningSettings())
    refresher = LeaderboardRefresher(repository)
    started = time.perf_counter()
    first = screening.run(repository.log_head())
    print(
        f"  first screening pass (reads the whole log once): {time.perf_counter() - started:.1f} s,"
        f" {len(first.uncounted):,} votes uncounted"
    )
    refresh_times, screening_times, passes = [], [], 0
    for cycle in range(cycles):
        start = initial + cycle * new_votes
        writer.append(np.arange(start, start + new_votes))
        head = repository.log_head()
        began = time.perf_counter()
        refresher.refresh(head)
        refreshed = time.perf_counter() - began
        began = time.perf_counter()
        outcome = screening.after_refresh(head, refreshed)
        screened = time.perf_counter() - began
        passes += outcome is not None
        refresh_times.append(refreshed)
        screening_times.append(screened)
        print(
            f"  cycle {cycle + 1}: {head.position:,} entries, refresh {refreshed:.1f} s, "
            f"screening {screened:.1f} s" + (" (pass)" if outcome else " (not due)")
        )
    refresh_total, screening_total = sum(refresh_times), sum(screening_times)
    print(
        f"  refresh without screening: median {statistics.median(refresh_times):.1f} s, "
        f"total {refresh_total:.1f} s over {cycles} refreshes"
    )
    print(
        f"  refresh with screening:    median "
        f"{statistics.median(np.add(refresh_times, screening_times)):.1f} s, total "
        f"{refresh_total + screening_total:.1f} s ({passes} passes)"
    )
    print(
        f"  screening adds {screening_total / refresh_total:.0%} to the refresh time "
        f"(target <= 50 %)"
    )
    written.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--new-votes", type=int, default=2_000)
    parser.add_argument("--database", type=Path, help="keep the bulk-written log here")
    parser.add_argument("--skip-detectors", action="store_true", help="only part 2")
    parser.add_argument("--detectors-only", action="store_true", help="only part 1")
    arguments = parser.parse_args()
    table, _ = synthetic_crowd(arguments.models, arguments.votes, n_voters=arguments.voters, seed=0)
    assert table.time is not None
    table = table.subset(np.argsort(table.time, kind="stable"))  # the log is in time order
    if not arguments.skip_detectors:
        detectors_alone(table, arguments.repeats)
    if arguments.detectors_only:
        return
    with TemporaryDirectory() as directory:
        workdir = Path(directory)
        prepared = arguments.database or workdir / "prepared.db"
        live_arena(table, prepared, workdir, arguments.cycles, arguments.new_votes)


if __name__ == "__main__":
    main()

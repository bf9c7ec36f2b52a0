"""Benchmark of the live board at scale. Not part of the tests: run it by hand.

    .venv/bin/python benchmarks/bench_scale.py [--votes 1000000 3000000 10000000]
        [--databases sqlite postgres] [--postgres-url postgresql+psycopg://...]
        [--keep DIR] [--keep-postgres PREFIX] [--double-port PORT]

For each database and size, a fresh arena (16 contestants played by the OpenAI-protocol
TEST DOUBLE of tests/openai_test_server.py) gets 40 real battles and votes through its API,
then N more votes cloned from their shape (battles, votes and vote log entries with a valid
hash chain, bulk-inserted; the fill is not measured). Then `glassarena serve` (one worker,
the leaderboard refresh interval at its default) is started on it and measured:

1. first leaderboard after a cold start: until /leaderboard.json?category=text shows the N
   votes (and until the style-controlled text board does), at the first start after the
   fill (no stored board segments yet: the whole log is read) and at a restart;
2. server memory (RSS) once the boards are up, and its peak (VmHWM);
3. vote-to-board delay: votes cast one at a time through the API, each timed until the text
   board's watermark reaches the vote's log position (p50, p95), and, for a few, until the
   style-controlled text board's does;
4. leaderboard page latency (p50, p95) of /leaderboard, its style view and /leaderboard.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from serve_process import ServeProcess

from bench_server import (
    ANSWER,
    UPSTREAM_MODEL,
    cast_votes,
    create_battles,
    milliseconds,
    percentile,
    write_config,
)
from glassarena.storage.schema import (
    BattleRow,
    ModelVersion,
    ScreeningRun,
    Vote,
    VoteLogHead,
)
from glassarena.storage.vote_chain import chain_entry, entry_hash
from openai_test_server import ModelServerDouble, ScriptedModel

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
THROUGHPUT_VOTES = 400
THROUGHPUT_CONNECTIONS = 8
TARGETS = {"cold start": 10.0, "delay p95": 2.0, "rss": 2 * 1024**3, "page p95": 0.1}
# Votes a fill transaction writes. Smaller on PostgreSQL: the log's trigger updates the head
# row once per entry, and each entry's check walks that row's versions of the transaction.
FILL_CHUNK = {"sqlite": 100_000, "postgresql": 20_000}
# During the fill only: SQLite keeps no rollback journal and does not sync, and caches 1 GiB
# of pages (a fill that dies leaves a database to delete, --keep included).
SQLITE_FILL_PRAGMAS = ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576")


def table(mapped: type[Any]) -> sa.Table:
    return mapped.__table__  # type: ignore[no-any-return]


@contextmanager
def postgres_schema(url: str, kept: str | None = None) -> Iterator[tuple[str, bool]]:
    """A fresh schema on the PostgreSQL server, dropped afterwards; yields its URL and False.

    With `kept`, that schema instead, created if missing and never dropped; yields True when
    it was there already (filled by an earlier run, as `--keep` reuses a SQLite file).
    """
    schema = kept or f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        existed = connection.execute(
            sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
            {"name": schema},
        ).first()
        if not existed:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}", existed is not None
    finally:
        if kept is None:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fill(url: str, count: int, seed: int = 7) -> None:
    """`count` more voted battles shaped like the stored ones, extending the hash chain.

    Written through the driver (executemany on SQLite, COPY on PostgreSQL): the ORM would
    take hours at these sizes, and the fill is not what is measured. The rows are made in a
    child process (the chain's hashing is most of the work) while this one writes them.
    """
    engine = sa.create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    battles, votes, head_table = table(BattleRow), table(Vote), table(VoteLogHead)
    versions = table(ModelVersion)
    with engine.begin() as connection:
        models = connection.execute(
            sa.select(versions.c.id, versions.c.name, versions.c.version, versions.c.organization)
        ).all()
        templates = [
            (style_a, style_b, tags, *(json_text(value) for value in (style_a, style_b, tags)))
            for style_a, style_b, tags in connection.execute(
                sa.select(battles.c.style_a, battles.c.style_b, battles.c.prompt_categories).where(
                    battles.c.status == "voted"
                )
            )
        ]
        position, head = connection.execute(
            sa.select(head_table.c.position, head_table.c.entry_hash)
        ).one()
        battle_start = connection.execute(sa.select(sa.func.max(battles.c.id))).scalar() or 0
        vote_start = connection.execute(sa.select(sa.func.max(votes.c.id))).scalar() or 0
    start = FillStart(
        [tuple(model) for model in models], templates, position, head, battle_start, vote_start
    )
    chunks: multiprocessing.Queue = multiprocessing.get_context("fork").Queue(maxsize=2)
    maker = multiprocessing.get_context("fork").Process(
        target=make_chunks,
        args=(chunks, start, count, FILL_CHUNK[engine.dialect.name], seed),
        daemon=True,
    )
    maker.start()
    raw = engine.raw_connection()
    try:
        indexes = [] if postgres else sqlite_fill_mode(raw.cursor())
        written = 0
        while (chunk := chunks.get()) is not None:
            battle_rows, vote_rows, log_rows, position, head = chunk
            write = copy_rows if postgres else insert_rows
            cursor = raw.cursor()
            write(cursor, "battles", BATTLE_COLUMNS, battle_rows)
            write(cursor, "votes", VOTE_COLUMNS, vote_rows)
            write(cursor, "vote_log", LOG_COLUMNS, log_rows)
            parameter = "%s" if postgres else "?"  # the drivers' parameter styles
            cursor.execute(
                f"UPDATE vote_log_head SET position = {parameter}, entry_hash = {parameter}",
                (position, head),
            )
            raw.commit()
            written += len(vote_rows)
            print(f"  filled {written:,} votes", flush=True)
        maker.join()
        if not postgres:
            sqlite_normal_mode(raw.cursor(), indexes)
            raw.commit()
        if postgres:
            # The rows were given their ids; the server's next ones must come after them.
            cursor = raw.cursor()
            for name in ("battles", "votes", "vote_log"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), MAX(id)) FROM {name}"
                )
            raw.commit()
    finally:
        raw.close()
        if maker.is_alive():
            maker.kill()
    if postgres:
        # What autovacuum does to a database grown by votes over months: the planner's
        # statistics (without them it guesses a few hundred rows for any range of the log)
        # and the visibility map. The test server here runs with autovacuum off.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in ("battles", "votes", "vote_log"):
                connection.execute(sa.text(f"VACUUM ANALYZE {name}"))
    engine.dispose()


@dataclass(frozen=True)
class FillStart:
    """What the fill continues from: the models (id, name, version, organization), the voted
    battles' style and category templates, the log head and the last ids."""

    models: list[tuple[int, str, int, str]]
    templates: list[tuple]
    position: int
    head: str
    battle_start: int
    vote_start: int


def make_chunks(
    chunks: multiprocessing.Queue, start: FillStart, count: int, chunk: int, seed: int
) -> None:
    """Put the rows of `count` voted battles on `chunks`, `chunk` at a time (battles,
    votes, log entries, and the log head after them), then None."""
    generator = random.Random(seed)
    models = [
        SimpleNamespace(id=m[0], name=m[1], version=m[2], organization=m[3]) for m in start.models
    ]
    strength = {model.id: generator.gauss(0.0, 1.0) for model in models}
    side = {
        model.id: {"name": model.name, "version": model.version, "organization": model.organization}
        for model in models
    }
    position, head = start.position, start.head
    moment = datetime(2026, 1, 1)
    for offset in range(0, count, chunk):
        battle_rows, vote_rows, log_rows = [], [], []
        for index in range(offset, min(offset + chunk, count)):
            model_a, model_b = generator.sample(models, 2)
            style_a, style_b, tags, text_a, text_b, text_tags = generator.choice(start.templates)
            battle_id, vote_id = start.battle_start + index + 1, start.vote_start + index + 1
            public_id = secrets.token_urlsafe(18)
            voter, ip_hash = f"bulk-voter-{index % 50_000}", f"{index % 20_000:064x}"
            gap = strength[model_a.id] - strength[model_b.id]
            draw = generator.random()
            winner = (
                "tie"
                if draw < 0.1
                else "model_a"
                if draw < 0.1 + 0.9 / (1 + 10 ** (-gap / 2))
                else "model_b"
            )
            moment += timedelta(milliseconds=3)
            stamp = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
            battle_rows.append(
                (battle_id, public_id, "anonymous", "text", "text", model_a.id, model_b.id,
                 "voted", voter, ip_hash, text_a, text_b, text_tags, stamp, stamp)
            )  # fmt: skip
            vote_rows.append((vote_id, battle_id, winner, voter, ip_hash, True, stamp))
            position += 1
            digest = entry_hash(
                chain_entry(
                    position=position,
                    prev_hash=head,
                    battle_id=public_id,
                    category="text",
                    model_a=side[model_a.id],
                    model_b=side[model_b.id],
                    winner=winner,
                    counted=True,
                    not_counted_reason=None,
                    voted_at=moment,
                    style_a=style_a,
                    style_b=style_b,
                    prompt_categories=tags,
                )
            )
            log_rows.append(
                (vote_id, public_id, "text", model_a.name, model_a.version,
                 model_a.organization, model_b.name, model_b.version, model_b.organization,
                 winner, True, voter, ip_hash, stamp, text_a, text_b, text_tags, position,
                 head, digest)
            )  # fmt: skip
            head = digest
        chunks.put((battle_rows, vote_rows, log_rows, position, head))
    chunks.put(None)


BATTLE_COLUMNS = (
    "id", "public_id", "mode", "kind", "category", "model_a_id", "model_b_id", "status",
    "voter_id", "ip_hash", "style_a", "style_b", "prompt_categories", "created_at", "updated_at",
)  # fmt: skip
VOTE_COLUMNS = ("id", "battle_id", "winner", "voter_id", "ip_hash", "counted", "created_at")
LOG_COLUMNS = (
    "vote_id", "battle_public_id", "category", "model_a", "model_a_version", "organization_a",
    "model_b", "model_b_version", "organization_b", "winner", "counted", "voter_id", "ip_hash",
    "created_at", "style_a", "style_b", "prompt_categories", "position", "prev_hash",
    "entry_hash",
)  # fmt: skip


def sqlite_fill_mode(cursor: Any) -> list[str]:
    """Fill pragmas on, and the secondary indexes dropped (rebuilt by one sort each after the
    fill instead of millions of random inserts); returns their definitions. The indexes
    behind UNIQUE constraints cannot be dropped and stay."""
    for pragma in SQLITE_FILL_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('battles', 'votes', 'vote_log')"
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes]


def sqlite_normal_mode(cursor: Any, indexes: list[str]) -> None:
    """The dropped indexes rebuilt, and the write-ahead log the arena runs with."""
    started = time.perf_counter()
    for definition in indexes:
        cursor.execute(definition)
    cursor.execute("PRAGMA journal_mode=WAL")
    print(f"  indexes rebuilt in {time.perf_counter() - started:.0f} s", flush=True)


def json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def insert_rows(cursor: Any, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", rows)


def copy_rows(cursor: Any, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def log_position(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        position: int = connection.execute(sa.select(table(VoteLogHead).c.position)).scalar_one()
    engine.dispose()
    return position


def screened_position(url: str) -> int:
    """The log position the newest screening pass reached (0 before the first)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        runs = table(ScreeningRun)
        position: int | None = connection.execute(sa.select(sa.func.max(runs.c.position))).scalar()
    engine.dispose()
    return position or 0


def memory(pid: int) -> tuple[int, int]:
    """RSS and peak RSS (bytes) of the process and its children (the live screening runs in
    one), each child's shown apart."""
    rss = peak = 0
    # Children of any of its threads (the screening process is started from a worker thread).
    pids = [pid] + [
        int(child)
        for task in Path(f"/proc/{pid}/task").glob("*")
        for child in (task / "children").read_text().split()
    ]
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        own, own_peak = (int(fields[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM"))
        rss, peak = rss + own, peak + own_peak
        if each != pid:
            print(f"  (child {each}: RSS {own / 2**20:.0f} MiB, peak {own_peak / 2**20:.0f} MiB)")
    return rss, peak


def board(url: str, style: bool) -> dict[str, Any]:
    query = "category=text" + ("&style=on" if style else "")
    response = httpx.get(f"{url}/leaderboard.json?{query}", timeout=60)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def wait_for(url: str, style: bool, done: Any, limit: float) -> float:
    started = time.perf_counter()
    while True:
        try:
            if done(board(url, style)):
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > limit:
            return float("inf")
        time.sleep(0.05)


def votes_per_second(url: str) -> float:
    """Votes acknowledged per second through the API, THROUGHPUT_CONNECTIONS at a time, on
    THROUGHPUT_VOTES battles made beforehand."""
    battle_ids, cookies = asyncio.run(create_battles(url, THROUGHPUT_VOTES, concurrency=8))
    started = time.perf_counter()
    acknowledged, _, failures = asyncio.run(
        cast_votes(url, cookies, battle_ids, THROUGHPUT_CONNECTIONS)
    )
    if failures:
        print(f"  {failures} votes failed")
    return len(acknowledged) / (time.perf_counter() - started)


def bench(
    name: str,
    url: str,
    votes: int,
    workdir: Path,
    double: ModelServerDouble,
    filled: bool,
    empty_url: str,
) -> dict:
    """`url` holds (or gets) the N votes; `empty_url` is an empty database of the same kind,
    on which the vote throughput is measured too, in the same run, for comparison."""
    print(f"\n## {name}, {votes:,} votes")
    directory = workdir / f"{name}-{votes}"
    directory.mkdir(exist_ok=True)
    config = write_config(directory, double.openai_base_url, 16)

    def serve(database_url: str = url) -> ServeProcess:
        return ServeProcess(
            config,
            "--no-access-log",
            "--database-url",
            database_url,
            data_dir=directory,
            log=directory / "server.log",
            start_seconds=3600,
        )

    if not filled:
        arena = serve()
        try:  # real battles give the bulk rows their real shape (style counts, categories)
            battle_ids, cookies = asyncio.run(create_battles(arena.url, 40, concurrency=4))
            asyncio.run(cast_votes(arena.url, cookies, battle_ids, 4))
        finally:
            arena.stop()
        started = time.perf_counter()
        fill(url, votes)
        print(f"filled {votes:,} votes in {time.perf_counter() - started:.0f} s (not measured)")
    total = log_position(url)

    def start() -> tuple[ServeProcess, float, float, float]:
        """A server, and how long after its start the text board showed every vote, then
        the `/leaderboard` page was served, then the style-controlled view showed them."""
        started = time.perf_counter()
        arena = serve()
        reached = lambda body: body["watermark"] >= total  # noqa: E731
        plain = (time.perf_counter() - started) + wait_for(arena.url, False, reached, 3600)
        httpx.get(f"{arena.url}/leaderboard", timeout=600).raise_for_status()
        page = time.perf_counter() - started
        style = (time.perf_counter() - started) + wait_for(arena.url, True, reached, 3600)
        return arena, plain, page, style

    results: dict[str, float] = {}
    # The first start after the fill finds no stored segments and reads the whole log; it
    # stores them, so the restart after it is what a running arena's restart costs.
    arena, results["first start"], results["first start page"], results["first start style"] = (
        start()
    )
    rss, peak = memory(arena.process.pid)
    print(
        f"first start{'' if filled else ' (no stored segments)'}: text board after "
        f"{results['first start']:.1f} s, /leaderboard page after "
        f"{results['first start page']:.1f} s, style-controlled after "
        f"{results['first start style']:.1f} s; server RSS {rss / 2**20:.0f} MiB, "
        f"peak {peak / 2**20:.0f} MiB"
    )
    arena.stop()
    arena, results["cold start"], results["cold start page"], results["cold start style"] = start()
    try:
        rss, peak = memory(arena.process.pid)
        results["rss"], results["rss peak"] = rss, peak
        print(
            f"restart: text board after {results['cold start']:.1f} s, /leaderboard page "
            f"after {results['cold start page']:.1f} s, style-controlled after "
            f"{results['cold start style']:.1f} s; "
            f"server RSS {rss / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB"
        )
        # The live screening's first pass after the start (a child process) reads and screens
        # every vote: what follows is measured once it has run, its memory included.
        began = time.perf_counter()
        while screened_position(url) < total and time.perf_counter() - began < 3600:
            time.sleep(1.0)
        results["first pass"] = time.perf_counter() - began + results["cold start"]
        rss, peak = memory(arena.process.pid)
        results["rss"], results["rss peak"] = max(results["rss"], rss), peak
        print(
            f"first screening pass done {results['first pass']:.0f} s after the start; "
            f"RSS {rss / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB (server and its children)"
        )

        battle_ids, cookies = asyncio.run(create_battles(arena.url, 30, concurrency=4))
        delays, style_delays = [], []
        with httpx.Client(base_url=arena.url, cookies=cookies, timeout=60) as session:
            for number, battle_id in enumerate(battle_ids):
                session.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})
                voted = time.perf_counter()
                position = log_position(url)
                reached = lambda body, at=position: body["watermark"] >= at  # noqa: E731
                wait_for(arena.url, False, reached, 120)
                delays.append(time.perf_counter() - voted)
                if number < 3:
                    wait_for(arena.url, True, reached, 600)
                    style_delays.append(time.perf_counter() - voted)
        results["delay p50"] = percentile(delays, 0.5)
        results["delay p95"] = percentile(delays, 0.95)
        results["style delay max"] = max(style_delays)
        print(
            f"vote to text board: p50 {milliseconds(results['delay p50'])}, "
            f"p95 {milliseconds(results['delay p95'])} over {len(delays)} votes; "
            f"to the style-controlled board: up to {results['style delay max']:.1f} s"
        )

        with httpx.Client(base_url=arena.url, timeout=60) as session:
            for path in (
                "/leaderboard",
                "/leaderboard?category=text&style=on",
                "/leaderboard.json",
            ):
                for _ in range(10):
                    session.get(path)
                latencies = []
                for _ in range(100):
                    began = time.perf_counter()
                    session.get(path).raise_for_status()
                    latencies.append(time.perf_counter() - began)
                results[f"page p95 {path}"] = percentile(latencies, 0.95)
                print(
                    f"GET {path}: p50 {milliseconds(percentile(latencies, 0.5))}, "
                    f"p95 {milliseconds(percentile(latencies, 0.95))}"
                )
        results["page p95"] = max(value for key, value in results.items() if "page p95 " in key)
        results["votes/s"] = votes_per_second(arena.url)
        rss, peak = memory(arena.process.pid)
        results["rss"], results["rss peak"] = max(results["rss"], rss), peak
        print(
            f"after the votes and pages: server RSS {rss / 2**20:.0f} MiB, "
            f"peak {peak / 2**20:.0f} MiB"
        )
    finally:
        arena.stop()
    empty = serve(empty_url)
    try:
        results["votes/s empty"] = votes_per_second(empty.url)
    finally:
        empty.stop()
    print(
        f"votes/s through the API ({THROUGHPUT_CONNECTIONS} at a time, httpx client on the same "
        f"cores): {results['votes/s']:.0f} at {votes:,} votes, {results['votes/s empty']:.0f} "
        f"on an empty arena"
    )
    for key, target in TARGETS.items():
        value = results[key]
        shown = f"{value / 2**20:.0f} MiB" if key == "rss" else f"{value:.3f} s"
        print(f"  {key}: {shown} (target {'met' if value <= target else 'NOT met'})")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument(
        "--keep",
        type=Path,
        help=(
            "keep the SQLite databases and the servers' logs (NAME-VOTES/server.log) in this "
            "folder, and reuse the databases already filled"
        ),
    )
    parser.add_argument(
        "--double-port",
        type=int,
        default=0,
        help=(
            "the port of the model server double (default: any free one); give the same one "
            "when rerunning on a kept fill, or the contestants' base URL changes and the "
            "first start retires every version"
        ),
    )
    parser.add_argument(
        "--keep-postgres",
        metavar="PREFIX",
        help="keep each PostgreSQL fill in schema PREFIX_<votes>, and reuse the ones there",
    )
    arguments = parser.parse_args()
    print("# glassarena board at scale")
    with (
        tempfile.TemporaryDirectory(prefix="glassarena-scale-") as temporary,
        ModelServerDouble(
            {UPSTREAM_MODEL: ScriptedModel(answer=ANSWER)}, port=arguments.double_port
        ) as double,
    ):
        work = arguments.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        for votes in arguments.votes:
            for name in arguments.databases:
                if name == "sqlite":
                    path = work / f"arena-{votes}.db"
                    filled = path.exists()
                    empty = work / f"empty-{votes}.db"
                    empty.unlink(missing_ok=True)
                    bench(
                        name, f"sqlite:///{path}", votes, work, double, filled, f"sqlite:///{empty}"
                    )
                    empty.unlink(missing_ok=True)
                    if arguments.keep is None:
                        path.unlink()
                else:
                    kept = arguments.keep_postgres and f"{arguments.keep_postgres}_{votes}"
                    with (
                        postgres_schema(arguments.postgres_url, kept) as (url, filled),
                        postgres_schema(arguments.postgres_url) as (empty, _),
                    ):
                        bench(name, url, votes, work, double, filled, empty)


if __name__ == "__main__":
    main()

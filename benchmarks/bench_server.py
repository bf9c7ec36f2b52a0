"""Benchmark of the arena server. Not part of the tests: run it by hand.

    .venv/bin/python benchmarks/bench_server.py [--battles 2000] [--leaderboard-votes 1000000]

The models are played by the OpenAI-protocol TEST DOUBLE in tests/openai_test_server.py (a
scripted HTTP server, not a model), so the numbers measure the arena alone. Each part runs
`glassarena serve` (SQLite; one worker unless said) as a separate process:

1. votes per second sustained: battles are created through the API, then voted on, each
   once, by a Python httpx client and by `wrk` (a C load generator that leaves the server
   most of the 2 cores; `apt-get install wrk`, else only the httpx figure is given), with
   one and with two server workers, checking that every vote is stored exactly once;
2. latency added to the first token: the first answer token through the arena's battle
   stream versus straight from the test double;
3. leaderboard page latency with 1,000,000 stored votes, bulk-inserted into the database;
4. kill -9 of the server during vote load: every acknowledged vote must be stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from serve_process import ServeProcess

from glassarena.storage.vote_chain import chain_entry, entry_hash
from openai_test_server import ModelServerDouble, ScriptedModel

UPSTREAM_MODEL = "double"
ANSWER = "Paris is the capital of **France**.\n\n- It lies on the Seine.\n- Population: 2.1M."
UNLIMITED = 10_000_000
WRK_SCRIPT = Path(__file__).with_name("wrk_votes.lua")
WRK_TIME_LIMIT_SECONDS = 120


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def write_config(directory: Path, base_url: str, models: int) -> Path:
    config = {
        "limits": {"max_prompt_chars": 8000, "answer_timeout_seconds": 60},
        "rate_limits": {
            key: UNLIMITED
            for key in (
                "battles_per_minute_per_voter",
                "battles_per_minute_per_ip",
                "new_voters_per_hour_per_ip",
                "new_voters_per_day_per_ip",
                "votes_per_minute_per_voter",
                "votes_per_minute_per_ip",
                "votes_per_day_per_voter",
                "votes_per_day_per_ip",
            )
        },
        "contestants": [
            {
                "name": f"model-{index:02d}",
                "organization": f"lab-{index % 3}",
                "provider": {"kind": "openai", "model": UPSTREAM_MODEL, "base_url": base_url},
                "generation": {"temperature": round(0.05 * index, 2)},
            }
            for index in range(models)
        ],
    }
    path = directory / "arena.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def arena_process(directory: Path, config: Path, workers: int = 1) -> ServeProcess:
    """`glassarena serve` over `directory/arena.db` with `workers` workers and a leaderboard
    refreshed every 2 s."""
    return ServeProcess(
        config,
        "--no-access-log",
        "--workers",
        str(workers),
        data_dir=directory,
        log=directory / "server.log",
        database=directory / "arena.db",
        environment={"GLASSARENA_LEADERBOARD_INTERVAL_SECONDS": "2"},
    )


def client(url: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        timeout=60,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def start_battle(session: httpx.AsyncClient, prompt: str) -> str:
    response = await session.post("/api/battles", json={"prompt": prompt})
    response.raise_for_status()
    events = [
        json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")
    ]
    if events[-1] != {"type": "complete", "voting_open": True}:
        raise RuntimeError(f"battle did not complete: {events[-1]}")
    return events[0]["battle_id"]


async def create_battles(url: str, count: int, concurrency: int = 16) -> tuple[list[str], dict]:
    async with client(url, concurrency) as session:
        await session.get("/")  # the voter cookie every battle and vote will carry
        queue = list(range(count))
        battle_ids: list[str] = []

        async def worker() -> None:
            while queue:
                number = queue.pop()
                battle_ids.append(await start_battle(session, f"Question number {number}?"))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return battle_ids, dict(session.cookies)


async def cast_votes(
    url: str, cookies: dict, battle_ids: list[str], concurrency: int
) -> tuple[list[str], list[float], int]:
    """Vote on every battle; returns the acknowledged ids, per-vote latencies, failures."""
    acknowledged: list[str] = []
    latencies: list[float] = []
    failures = 0
    pending = list(battle_ids)
    async with client(url, concurrency) as session:
        session.cookies.update(cookies)

        async def worker() -> None:
            nonlocal failures
            while pending:
                battle_id = pending.pop()
                started = time.perf_counter()
                try:
                    response = await session.post(
                        f"/api/battles/{battle_id}/vote",
                        json={"choice": random.choice(("a", "b", "tie"))},
                    )
                except httpx.TransportError:
                    failures += 1
                    continue
                if response.status_code == 200:
                    acknowledged.append(battle_id)
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return acknowledged, latencies, failures


# --- 1. votes per second --------------------------------------------------------------------


def stored_votes(database: Path) -> tuple[int, int]:
    """Votes stored, and battles holding more than one (which must never happen)."""
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        doubled = connection.execute(
            "SELECT COUNT(*) FROM (SELECT battle_id FROM votes GROUP BY battle_id "
            "HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    return stored, doubled


def httpx_votes(url: str, cookies: dict, battle_ids: list[str], concurrency: int) -> float:
    started = time.perf_counter()
    acknowledged, latencies, failures = asyncio.run(
        cast_votes(url, cookies, battle_ids, concurrency)
    )
    rate = len(acknowledged) / (time.perf_counter() - started)
    print(
        f"  httpx client, {concurrency:>2} connections: {len(acknowledged):,} votes = "
        f"{rate:,.0f} votes/s; latency p50 {milliseconds(percentile(latencies, 0.5))}, "
        f"p99 {milliseconds(percentile(latencies, 0.99))}; refused or failed {failures}"
    )
    return rate


def wrk_votes(
    url: str, cookies: dict, battle_ids: list[str], connections: int, workdir: Path
) -> dict[str, float]:
    """One wrk run voting once on each battle; wrk's own summary, parsed."""
    ids_file = workdir / "battle-ids.txt"
    ids_file.write_text("\n".join(battle_ids) + "\n")
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{WRK_TIME_LIMIT_SECONDS}s", "--timeout", "30s",
        "-s", str(WRK_SCRIPT), "-H", f"Cookie: {cookie}", url,
    ]  # fmt: skip
    environment = {**os.environ, "BATTLE_IDS": str(ids_file)}
    load = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert load.stderr is not None
    # wrk runs for its whole -d unless interrupted: the script says when every vote is in.
    for line in load.stderr:
        if line.startswith("wrk_votes: every battle has an answer"):
            load.send_signal(signal.SIGINT)
            break
    output, errors = load.communicate(timeout=30)
    if load.returncode != 0:
        raise RuntimeError(f"wrk failed ({load.returncode}): {errors}")
    summary = json.loads(output.strip().splitlines()[-1])
    if summary["voted"] + summary["refused"] != len(battle_ids):
        raise RuntimeError(f"wrk stopped before every battle had an answer: {summary}")
    return summary


def bench_votes(
    workdir: Path,
    double: ModelServerDouble,
    battles: int,
    repeats: int,
    connections: Sequence[int],
    worker_counts: Sequence[int],
) -> None:
    use_wrk = shutil.which("wrk") is not None
    print(f"\n## 1. Votes per second on SQLite ({battles:,} votes a run, median of {repeats})")
    if not use_wrk:
        print("wrk is not installed (Debian: `apt-get install wrk`): httpx client figures only")
    for workers in worker_counts:
        directory = workdir / f"votes-{workers}-workers"
        directory.mkdir()
        arena = arena_process(
            directory, write_config(directory, double.openai_base_url, 8), workers=workers
        )
        print(f"### {workers} server worker(s)")
        try:
            votes_expected = 0
            for concurrency in connections:
                rates: dict[str, list[float]] = {"httpx": [], "wrk": []}
                p50s: list[float] = []
                p99s: list[float] = []
                for _ in range(repeats):
                    battle_ids, cookies = asyncio.run(create_battles(arena.url, battles))
                    rates["httpx"].append(httpx_votes(arena.url, cookies, battle_ids, concurrency))
                    votes_expected += len(battle_ids)
                    if not use_wrk:
                        continue
                    battle_ids, cookies = asyncio.run(create_battles(arena.url, battles))
                    summary = wrk_votes(arena.url, cookies, battle_ids, concurrency, directory)
                    votes_expected += len(battle_ids)
                    rate = summary["voted"] / summary["seconds"]
                    rates["wrk"].append(rate)
                    p50s.append(summary["p50_us"] / 1e6)
                    p99s.append(summary["p99_us"] / 1e6)
                    print(
                        f"  wrk,          {concurrency:>2} connections: {summary['voted']:,} "
                        f"votes = {rate:,.0f} votes/s; latency p50 {milliseconds(p50s[-1])}, "
                        f"p99 {milliseconds(p99s[-1])}; refused {summary['refused']} "
                        f"(HTTP {summary['refused_status']}), idle requests {summary['idle']}, "
                        f"socket errors {summary['socket_errors']}"
                    )
                httpx_rate = statistics.median(rates["httpx"])
                line = f"{concurrency:>2} connections: httpx client {httpx_rate:,.0f} votes/s"
                if use_wrk:
                    wrk_rate = statistics.median(rates["wrk"])
                    line += (
                        f", wrk {wrk_rate:,.0f} votes/s ({wrk_rate / httpx_rate:.2f}x the httpx "
                        f"figure; p50 {milliseconds(statistics.median(p50s))}, "
                        f"p99 {milliseconds(statistics.median(p99s))}; target >= 500: "
                        f"{'met' if wrk_rate >= 500 else 'NOT met'})"
                    )
                print(f"median, {line}")
            stored, doubled = stored_votes(arena.database)
            print(
                f"votes sent {votes_expected:,}, stored {stored:,}, battles voted twice {doubled}"
                f" -> {'OK' if stored == votes_expected and not doubled else 'MISMATCH'}"
            )
        finally:
            arena.stop()


# --- 2. latency added to the first token ----------------------------------------------------


async def direct_first_token(base_url: str) -> float:
    body = {
        "model": UPSTREAM_MODEL,
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "stream": True,
    }
    async with httpx.AsyncClient(timeout=30) as session:
        started = time.perf_counter()
        async with session.stream("POST", f"{base_url}/chat/completions", json=body) as stream:
            first = None
            async for line in stream.aiter_lines():
                if first is None and line.startswith("data:") and '"content"' in line:
                    first = time.perf_counter() - started
    # Read to the end, as the arena does, so that both paths leave the double in the same state.
    if first is None:
        raise RuntimeError("the test double sent no content")
    return first


async def arena_first_token(session: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    async with session.stream("POST", "/api/battles", json={"prompt": "Capital?"}) as stream:
        first = None
        async for line in stream.aiter_lines():
            if first is None and line.startswith("data:") and '"type":"delta"' in line:
                first = time.perf_counter() - started
        if first is None:
            raise RuntimeError("the arena streamed no answer text")
        return first


async def measure_first_tokens(
    url: str, base_url: str, samples: int
) -> tuple[list[float], list[float]]:
    direct: list[float] = []
    through_arena: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as session:
        await session.get("/")
        for _ in range(20):  # warm both paths: connections, caches
            await direct_first_token(base_url)
            await arena_first_token(session)
        for _ in range(samples):
            direct.append(await direct_first_token(base_url))
            through_arena.append(await arena_first_token(session))
    return direct, through_arena


def bench_first_token(workdir: Path, double: ModelServerDouble, samples: int) -> None:
    print(f"\n## 2. Latency added to the first token ({samples} sequential battles)")
    directory = workdir / "first-token"
    directory.mkdir()
    arena = arena_process(directory, write_config(directory, double.openai_base_url, 2))
    try:
        direct, through_arena = asyncio.run(
            measure_first_tokens(arena.url, double.openai_base_url, samples)
        )
    finally:
        arena.stop()
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        plain = percentile(direct, fraction)
        arena_time = percentile(through_arena, fraction)
        print(
            f"{label}: direct {milliseconds(plain)}, through the arena {milliseconds(arena_time)}"
            f" -> added {milliseconds(arena_time - plain)} (ratio {arena_time / plain:.2f}x)"
        )
    added_p99 = percentile(through_arena, 0.99) - percentile(direct, 0.99)
    print(f"target: added p99 <= 20 ms: {'met' if added_p99 <= 0.020 else 'NOT met'}")
    print(
        "(the arena's time includes checking the request and committing the new battle, "
        "which runs while the models start answering)"
    )


# --- 3. leaderboard page with a million votes -----------------------------------------------


def bulk_insert_votes(database: Path, count: int, seed: int = 7) -> None:
    """Clone the shape of real voted battles into `count` more, straight into SQLite."""
    generator = random.Random(seed)
    with sqlite3.connect(database) as connection:
        models = connection.execute(
            "SELECT id, name, version, organization FROM model_versions ORDER BY id"
        ).fetchall()
        templates = connection.execute(
            "SELECT style_a, style_b, created_at, updated_at FROM battles WHERE status = 'voted'"
        ).fetchall()
        strength = {model_id: generator.gauss(0.0, 1.0) for model_id, _, _, _ in models}
        # The bulk entries extend the vote log's hash chain, as real votes do.
        position, head = connection.execute(
            "SELECT position, entry_hash FROM vote_log_head WHERE id = 1"
        ).fetchone()
        battle_start = connection.execute("SELECT COALESCE(MAX(id), 0) FROM battles").fetchone()[0]
        vote_start = connection.execute("SELECT COALESCE(MAX(id), 0) FROM votes").fetchone()[0]
        chunk = 50_000
        for offset in range(0, count, chunk):
            battles, votes, log = [], [], []
            for index in range(offset, min(offset + chunk, count)):
                (a_id, a_name, a_version, a_org), (b_id, b_name, b_version, b_org) = (
                    generator.sample(models, 2)
                )
                style_a, style_b, created_at, updated_at = generator.choice(templates)
                battle_id = battle_start + index + 1
                vote_id = vote_start + index + 1
                public_id = secrets.token_urlsafe(18)
                voter = f"bulk-voter-{index % 50_000}"
                ip_hash = f"{index % 20_000:064x}"
                gap = strength[a_id] - strength[b_id]
                draw = generator.random()
                if draw < 0.1:
                    winner = "tie"
                elif draw < 0.1 + 0.9 / (1 + 10 ** (-gap / 2)):
                    winner = "model_a"
                else:
                    winner = "model_b"
                battles.append(
                    (battle_id, public_id, "anonymous", "text", "text", a_id, b_id, "voted",
                     voter, ip_hash, style_a, style_b, created_at, updated_at)
                )  # fmt: skip
                votes.append((vote_id, battle_id, winner, voter, ip_hash, 1, created_at))
                position += 1
                entry = chain_entry(
                    position=position,
                    prev_hash=head,
                    battle_id=public_id,
                    category="text",
                    model_a={"name": a_name, "version": a_version, "organization": a_org},
                    model_b={"name": b_name, "version": b_version, "organization": b_org},
                    winner=winner,
                    counted=True,
                    not_counted_reason=None,
                    voted_at=datetime.fromisoformat(created_at),
                    style_a=json.loads(style_a) if style_a else None,
                    style_b=json.loads(style_b) if style_b else None,
                )
                digest = entry_hash(entry)
                log.append(
                    (vote_id, public_id, "text", a_name, a_version, a_org, b_name, b_version,
                     b_org, winner, 1, voter, ip_hash, created_at, style_a, style_b, position,
                     head, digest)
                )  # fmt: skip
                head = digest
            connection.executemany(
                "INSERT INTO battles (id, public_id, mode, kind, category, model_a_id, "
                "model_b_id, status, voter_id, ip_hash, style_a, style_b, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                battles,
            )
            connection.executemany(
                "INSERT INTO votes (id, battle_id, winner, voter_id, ip_hash, counted, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                votes,
            )
            connection.executemany(
                "INSERT INTO vote_log (vote_id, battle_public_id, category, model_a, "
                "model_a_version, organization_a, model_b, model_b_version, organization_b, "
                "winner, counted, voter_id, ip_hash, created_at, style_a, style_b, position, "
                "prev_hash, entry_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                log,
            )  # the log's trigger checks each entry against the head and moves the head
            connection.commit()


def bench_leaderboard(workdir: Path, double: ModelServerDouble, votes: int, requests: int) -> None:
    print(f"\n## 3. Leaderboard page latency with {votes:,} stored votes")
    directory = workdir / "leaderboard"
    directory.mkdir()
    config = write_config(directory, double.openai_base_url, 16)
    arena = arena_process(directory, config)
    try:  # a few real battles give the bulk rows their real shape (style metadata, times)
        battle_ids, cookies = asyncio.run(create_battles(arena.url, 40, concurrency=4))
        asyncio.run(cast_votes(arena.url, cookies, battle_ids, 4))
    finally:
        arena.stop()
    started = time.perf_counter()
    bulk_insert_votes(arena.database, votes)
    print(f"bulk-inserted {votes:,} battles + votes + log entries in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    started = time.perf_counter()
    arena = arena_process(directory, config)
    try:
        while True:
            response = httpx.get(arena.url + "/leaderboard.json?category=text", timeout=30)
            if response.status_code == 200 and response.json()["votes"] >= votes:
                break
            if time.perf_counter() - started > 900:
                raise TimeoutError("the leaderboard was not computed within 15 minutes")
            time.sleep(1)
        board = response.json()
        print(
            f"first leaderboard computed {time.perf_counter() - started:.1f} s after start "
            f"(background refresher; {board['votes']:,} votes, "
            f"{len(board['leaderboard']['rows']) if board['leaderboard'] else 0} models)"
        )
        with httpx.Client(base_url=arena.url, timeout=30) as session:
            for path in (
                "/leaderboard",
                "/leaderboard?category=text&style=on",
                "/leaderboard.json",
            ):
                for _ in range(10):
                    session.get(path)
                latencies = []
                for _ in range(requests):
                    began = time.perf_counter()
                    response = session.get(path)
                    latencies.append(time.perf_counter() - began)
                    response.raise_for_status()
                p95 = percentile(latencies, 0.95)
                print(
                    f"GET {path}: p50 {milliseconds(percentile(latencies, 0.5))}, "
                    f"p95 {milliseconds(p95)}, p99 {milliseconds(percentile(latencies, 0.99))} "
                    f"(target p95 <= 100 ms: {'met' if p95 <= 0.1 else 'NOT met'})"
                )
    finally:
        arena.stop()


# --- 4. kill -9 during vote load ------------------------------------------------------------


def bench_kill(workdir: Path, double: ModelServerDouble, battles: int) -> None:
    print(f"\n## 4. kill -9 of the server during vote load ({battles:,} battles)")
    directory = workdir / "kill"
    directory.mkdir()
    arena = arena_process(directory, write_config(directory, double.openai_base_url, 4))
    battle_ids, cookies = asyncio.run(create_battles(arena.url, battles))

    async def vote_then_kill() -> tuple[list[str], int]:
        voting = asyncio.create_task(cast_votes(arena.url, cookies, battle_ids, 32))
        await asyncio.sleep(3.0)
        await asyncio.to_thread(arena.kill_hard)
        acknowledged, _, failures = await voting
        return acknowledged, failures

    acknowledged, failures = asyncio.run(vote_then_kill())
    with sqlite3.connect(arena.database) as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT battles.public_id FROM votes JOIN battles ON battles.id = votes.battle_id"
            )
        }
        logged = connection.execute("SELECT COUNT(*) FROM vote_log").fetchone()[0]
    lost = set(acknowledged) - stored
    print(
        f"acknowledged {len(acknowledged):,} votes before the kill; stored {len(stored):,} "
        f"(vote log {logged:,}); requests cut off by the kill {failures:,}; "
        f"acknowledged but lost: {len(lost)} -> {'OK' if not lost else 'VOTES LOST'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=2000)
    parser.add_argument("--vote-repeats", type=int, default=3)
    parser.add_argument("--vote-connections", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--server-workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--leaderboard-votes", type=int, default=1_000_000)
    parser.add_argument("--leaderboard-requests", type=int, default=200)
    parser.add_argument(
        "--only", choices=("votes", "first-token", "leaderboard", "kill"), action="append"
    )
    arguments = parser.parse_args()
    parts = set(arguments.only or ("votes", "first-token", "leaderboard", "kill"))
    print("# glassarena server benchmark")
    print("Models are played by the OpenAI-protocol TEST DOUBLE (tests/openai_test_server.py).")
    script = {UPSTREAM_MODEL: ScriptedModel(answer=ANSWER)}
    with (
        tempfile.TemporaryDirectory(prefix="glassarena-bench-") as workdir,
        ModelServerDouble(script) as double,
    ):
        if "votes" in parts:
            bench_votes(
                Path(workdir),
                double,
                arguments.battles,
                arguments.vote_repeats,
                arguments.vote_connections,
                arguments.server_workers,
            )
        if "first-token" in parts:
            bench_first_token(Path(workdir), double, arguments.latency_samples)
        if "leaderboard" in parts:
            bench_leaderboard(
                Path(workdir), double, arguments.leaderboard_votes, arguments.leaderboard_requests
            )
        if "kill" in parts:
            bench_kill(Path(workdir), double, arguments.battles)


if __name__ == "__main__":
    main()

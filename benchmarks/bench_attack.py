"""Load test: how many counted votes can one attacking machine cast? Run it by hand.

    .venv/bin/python benchmarks/bench_attack.py [--seconds 60] [--concurrency 8]
    .venv/bin/python benchmarks/bench_attack.py --source /path/to/other/checkout/src

`glassarena serve` runs as a separate process on 127.0.0.1 with the DEFAULT rate limits and
a PRIVATE recorded set written for the run (answers nobody can look up, so their votes
count). Every request goes to 127.0.0.1 only. One attacking client then, for a bounded time:

- sends each battle from another IPv6 /64 of one /56 (2001:db8:77:XX00::/56 style: all of
  them one home connection), as the client address a trusted reverse proxy reports in
  X-Forwarded-For; the server is told to trust 127.0.0.1 as that proxy;
- prepends a spoofed, random address to that header, as a client behind the proxy can;
- uses a fresh cookie for every battle (a new voter each time);
- votes on every battle it gets, and counts the votes the server says are counted.

It reports counted votes in the run, that rate per hour, and the configured per-IP budget.
`--source` runs the server from another checkout's `src` (e.g. the code before a change),
so both numbers come from the same attacker on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from serve_process import ServeProcess

# The default per-IP budget of the arena (arena.ratelimit.RateLimits); the run uses it.
VOTES_PER_MINUTE_PER_IP = 30
VOTES_PER_DAY_PER_IP = 1000
NEW_VOTERS_PER_HOUR_PER_IP = 20
ATTACKER_56 = "2001:db8:77:{subnet:02x}{host:02x}::{interface:x}"
PROMPTS = 12
MODELS = 4


def write_private_set(directory: Path) -> Path:
    """A recorded set of our own: private (not `builtin:`, not marked public)."""
    path = directory / "checkpoints.jsonl"
    lines = [
        json.dumps(
            {
                "prompt": f"Question number {prompt}?",
                "model": f"checkpoint-{model}",
                "answer": f"Answer {prompt} by checkpoint {model}.",
            }
        )
        for prompt in range(PROMPTS)
        for model in range(MODELS)
    ]
    path.write_text("\n".join(lines) + "\n")
    config = directory / "arena.yaml"
    config.write_text(
        "recorded_sets:\n  - {name: checkpoints, format: jsonl, path: checkpoints.jsonl}\n"
    )
    return config


def serve_from(directory: Path, config: Path, source: Path) -> ServeProcess:
    """`glassarena serve` from `source`, trusting 127.0.0.1 as the reverse proxy."""
    environment = {
        "PYTHONPATH": str(source),
        # uvicorn's own setting: the proxy whose X-Forwarded-For is believed.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    arguments = []
    if "--forwarded-allow-ips" in _serve_help({**os.environ, **environment}):
        arguments = ["--forwarded-allow-ips", "127.0.0.1"]
    return ServeProcess(
        config,
        "--no-access-log",
        *arguments,
        data_dir=directory,
        log=directory / "server.log",
        database=directory / "arena.db",
        environment=environment,
    )


def _serve_help(environment: dict[str, str]) -> str:
    command = [sys.executable, "-m", "glassarena", "serve", "--help"]
    return subprocess.run(command, env=environment, capture_output=True, text=True).stdout


def attacker_address(rng: random.Random) -> str:
    """One of the 256 /64s of the attacker's /56, with a random interface id."""
    return ATTACKER_56.format(subnet=0, host=rng.randrange(256), interface=rng.randrange(1, 2**16))


def spoofed_ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


async def attack_once(session: httpx.AsyncClient, rng: random.Random, tally: Counter[str]) -> int:
    """One battle from a fresh /64, voted on; the Retry-After if refused, else 0."""
    headers = {"X-Forwarded-For": f"{spoofed_ipv4(rng)}, {attacker_address(rng)}"}
    started = await session.post("/api/battles", json={"kind": "recorded"}, headers=headers)
    if started.status_code != 200:
        tally[f"battle {started.status_code}"] += 1
        return int(started.headers.get("retry-after", "1"))
    events = [
        json.loads(line[5:]) for line in started.text.splitlines() if line.startswith("data:")
    ]
    voted = await session.post(
        f"/api/battles/{events[0]['battle_id']}/vote",
        json={"choice": rng.choice("ab")},
        headers=headers,
    )
    if voted.status_code != 200:
        tally[f"vote {voted.status_code}"] += 1
        return int(voted.headers.get("retry-after", "1"))
    tally["counted" if voted.json()["counted"] else "stored, not counted"] += 1
    return 0


def session(url: str) -> httpx.AsyncClient:
    """A client with a cookie jar of its own: one voter."""
    return httpx.AsyncClient(base_url=url, headers={"Origin": url}, timeout=60)


async def attack(
    url: str, seconds: float, concurrency: int, cookies: int
) -> tuple[Counter[str], int]:
    """Attack until the time is up; the last Retry-After the server gave (0: none).

    `cookies` 0: a fresh cookie per battle; N: rotate among N cookies kept from the start.
    """
    tally: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    last_retry_after = 0
    voters = [session(url) for _ in range(cookies)]

    async def worker(number: int) -> None:
        nonlocal last_retry_after
        rng = random.Random(number)
        while time.monotonic() < deadline:
            if voters:
                retry_after = await attack_once(rng.choice(voters), rng, tally)
            else:
                async with session(url) as fresh_cookie:
                    retry_after = await attack_once(fresh_cookie, rng, tally)
            if retry_after:
                last_retry_after = retry_after
                await asyncio.sleep(0.05)  # keeps probing, so the first free moment is used

    try:
        await asyncio.gather(*(worker(number) for number in range(concurrency)))
    finally:
        for voter in voters:
            await voter.aclose()
    return tally, last_retry_after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--cookies",
        type=int,
        default=0,
        help="0: a fresh cookie per battle (default); N: rotate among N cookies",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "src",
        help="the src directory whose glassarena serves (default: this checkout)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="glassarena-attack-") as temporary:
        directory = Path(temporary)
        server = serve_from(directory, write_private_set(directory), args.source.resolve())
        try:
            began = time.monotonic()
            tally, retry_after = asyncio.run(
                attack(server.url, args.seconds, args.concurrency, args.cookies)
            )
            elapsed = time.monotonic() - began
        finally:
            server.stop()
    counted = tally["counted"]
    cookies = f"{args.cookies} cookies rotated" if args.cookies else "a fresh cookie per battle"
    print(f"server code: {args.source}")
    print(
        f"one attacker, {args.concurrency} connections, {elapsed:.0f} s: {cookies}, "
        "a random /64 of one /56 per battle, a spoofed X-Forwarded-For entry"
    )
    print(f"outcomes: {dict(sorted(tally.items()))}")
    print(
        f"counted votes: {counted} in {elapsed:.0f} s (linear: {counted / elapsed * 3600:,.0f}/h)"
    )
    if retry_after:
        # Windows are fixed: after the last refusal the attacker gets nothing for that long.
        blocked = elapsed + retry_after
        print(
            f"then refused for {retry_after} s: {counted} counted votes in {blocked:,.0f} s "
            f"= {counted * 3600 / blocked:,.0f} per hour"
        )
    print(
        f"configured per-IP budget: {VOTES_PER_MINUTE_PER_IP} votes a minute, "
        f"{VOTES_PER_DAY_PER_IP:,} a day; new voters per address: "
        f"{NEW_VOTERS_PER_HOUR_PER_IP} an hour (where the server has that limit)"
    )


if __name__ == "__main__":
    main()

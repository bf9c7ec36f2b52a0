"""Two `glassarena serve` nodes, two workers each, on the real PostgreSQL and one Redis.

Voters start battles on one node and vote on the other, as a load balancer would send them;
node A is killed with SIGKILL in the middle of that load, and of a battle it was streaming.
Then: every acknowledged vote is stored, none twice; every queued WebDev execution check is
stored exactly once (the nodes log each one they store); the reader of the killed node's
stream resumes on node B, which restarts the turn and says so; a new node A joins, and both
nodes serve the same board after the next refresh.

The models are the OpenAI-protocol test double over real HTTP. The nodes have no Chromium:
each check is run and stored through the shared queue as "not checked: this server has no
Chromium", which exercises the queue, not the browser (tests/webdev has those).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from arena_server import openai_contestant, sse_events, write_config
from redis_process import RedisProcess
from serve_process import ServeProcess

from openai_test_server import ModelServerDouble, ScriptedModel

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

APP_ANSWER = "An app:\n```html\n<!DOCTYPE html><html><body><p>hi</p></body></html>\n```\n"
SLOW_ANSWER = " ".join(f"word{n}" for n in range(40))
VOTERS = 4
ROUNDS = 6
LEASE_S = 3
NODE_WORKERS = 2
GENEROUS_TIMEOUTS = {"connect": 10.0, "first_token": 60.0, "idle": 60.0, "total": 300.0}


class Nodes:
    """The nodes of one deployment; `client(voter, n)` is a voter's connection to node n,
    falling over to the other node when n is down, as a load balancer does."""

    def __init__(self, tmp_path: Path, config: Path, database_url: str, redis_url: str) -> None:
        self._tmp_path = tmp_path
        self._config = config
        self._arguments = (
            "--workers",
            str(NODE_WORKERS),
            "--database-url",
            database_url,
            "--redis-url",
            redis_url,
        )
        self._environment = {
            "GLASSARENA_SECRET_KEY": "several-nodes-share-this-key-" + "k" * 32,
            "GLASSARENA_NODE_LEASE_SECONDS": str(LEASE_S),
            "GLASSARENA_LEADERBOARD_INTERVAL_SECONDS": "1",
            "GLASSARENA_CHROMIUM": str(tmp_path / "no-chromium"),
        }
        self.logs: list[Path] = []
        self.nodes: list[ServeProcess] = []

    def start(self, name: str) -> ServeProcess:
        log = self._tmp_path / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        node = ServeProcess(
            self._config,
            *self._arguments,
            data_dir=self._tmp_path / name,
            log=log,
            environment=self._environment,
            start_seconds=240,
        )
        self.nodes.append(node)
        return node

    def stop_all(self) -> None:
        for node in self.nodes:
            node.stop()


def _post_battle(client: httpx.Client) -> str:
    """Start a WebDev battle and read its stream to the end; its id if it can be voted on,
    else ""."""
    with client.stream("POST", "/api/battles", json={"kind": "webdev", "prompt": "An app"}) as r:
        if r.status_code != 200:
            return ""
        events = sse_events(r.read().decode())
    if events[-1] != {"type": "complete", "voting_open": True}:
        return ""
    return str(events[0]["battle_id"])


class Voter:
    def __init__(self, urls: list[str], cookies: httpx.Cookies) -> None:
        self.clients = [httpx.Client(base_url=url, cookies=cookies, timeout=60) for url in urls]

    def call(self, preferred: int, action):  # type: ignore[no-untyped-def]
        """`action(client)` on the preferred node, else on the other one (a dead node); None
        when neither answered (a connection cut mid-answer counts as no answer)."""
        for index in (preferred, 1 - preferred):
            try:
                return action(self.clients[index])
            except httpx.TransportError:
                continue
        return None

    def close(self) -> None:
        for client in self.clients:
            client.close()


def test_two_nodes_one_arena_through_a_sigkill(
    tmp_path: Path, postgres_url: str, redis_server: RedisProcess
) -> None:
    # The slow answer stops after a few words until node A is dead, so that A cannot finish
    # it before the kill however late the reader sees those words.
    killed = threading.Event()
    script = {
        "app": ScriptedModel(answer=APP_ANSWER, token_delay=0.01),
        "slow": ScriptedModel(answer=SLOW_ANSWER, token_delay=0.15, gate=killed, gate_after=8),
    }
    with ModelServerDouble(script) as double:
        quick = [openai_contestant(f"quick-{n}", double.openai_base_url, "app") for n in (1, 2)]
        slow = [openai_contestant(f"slow-{n}", double.openai_base_url, "slow") for n in (1, 2)]
        for entry in quick:
            entry["battle_kinds"] = ["webdev"]
        for entry in slow:
            entry["battle_kinds"] = ["text"]
        for entry in [*quick, *slow]:  # four workers and the test share two busy cores
            entry["provider"]["timeouts"] = GENEROUS_TIMEOUTS
        config = write_config(tmp_path, contestants=[*quick, *slow])
        nodes = Nodes(tmp_path, config, postgres_url, redis_server.url)
        try:
            node_a, node_b = nodes.start("a"), nodes.start("b")
            _run(nodes, node_a, node_b, postgres_url, killed)
        finally:
            nodes.stop_all()


def _run(
    nodes: Nodes,
    node_a: ServeProcess,
    node_b: ServeProcess,
    database_url: str,
    killed: threading.Event,
) -> None:
    urls = [node_a.url, node_b.url]
    cookie_jars = []
    for _ in range(VOTERS + 1):
        response = httpx.get(node_a.url + "/")
        cookie_jars.append(response.cookies)

    # A battle streaming from node A, whose reader will have to go on from node B.
    reader = Voter(urls, cookie_jars[-1])
    streamed: list[tuple[str | None, dict]] = []
    stream_started = threading.Event()

    def read_from_a() -> None:
        body = {"mode": "named", "models": ["slow-1", "slow-2"], "prompt": "Count"}
        try:
            with reader.clients[0].stream("POST", "/api/battles", json=body) as response:
                for block in _sse_blocks(response):
                    streamed.append(block)
                    if sum(event["type"] == "delta" for _, event in streamed) >= 4:
                        stream_started.set()
        except httpx.TransportError:
            pass  # node A died under it

    acknowledged: set[str] = set()  # votes the arena said 200 to
    already: set[str] = set()  # votes retried after a lost answer, found stored
    failed_starts = Counter[str]()
    lock = threading.Lock()
    votes_done = threading.Semaphore(0)

    def vote_rounds(voter_index: int) -> None:
        voter = Voter(urls, cookie_jars[voter_index])
        try:
            for round_index in range(ROUNDS):
                start_on = (voter_index + round_index) % 2
                battle_id = voter.call(start_on, _post_battle)
                if not battle_id:
                    with lock:
                        failed_starts["not acknowledged"] += 1
                    continue
                # A vote whose answer was lost is sent again until the arena answers: it is
                # then either stored now (200) or found stored already (409).
                response = None
                for _ in range(10):
                    response = voter.call(1 - start_on, partial(_vote, battle_id=battle_id))
                    if response is not None:
                        break
                assert response is not None, "no node took the vote"
                with lock:
                    if response.status_code == 200:
                        acknowledged.add(battle_id)
                    elif response.status_code == 409:
                        already.add(battle_id)
                    else:
                        raise AssertionError(f"vote refused: {response.text}")
                votes_done.release()
        finally:
            voter.close()

    with ThreadPoolExecutor(VOTERS + 1) as pool:
        loads = [pool.submit(vote_rounds, index) for index in range(VOTERS)]
        for _ in range(VOTERS):  # mid-load: a few votes in, most to come
            assert votes_done.acquire(timeout=120)
        streaming = pool.submit(read_from_a)
        assert stream_started.wait(120), "node A never streamed the slow battle"
        _kill_node(node_a)
        killed.set()
        streaming.result(timeout=60)
        for load in loads:
            load.result(timeout=600)

    # The stream read from A goes on from B, from the last event it had.
    last_id = next(identifier for identifier, _ in reversed(streamed) if identifier)
    battle_id = streamed[0][1]["battle_id"]
    with reader.clients[1].stream(
        "GET", f"/api/battles/{battle_id}/events", headers={"Last-Event-ID": last_id}
    ) as response:
        assert response.status_code == 200
        resumed = list(_sse_blocks(response))
    turn, position = (int(part) for part in last_id.split("-"))
    assert resumed[0][0] == f"{turn}-{position + 1}"  # nothing repeated, nothing skipped
    restart = next(event for _, event in resumed if event["type"] == "battle")
    assert restart["restarted"] is True and "stopped" in restart["notice"]
    after = [event for _, event in resumed][[e for _, e in resumed].index(restart) :]
    for side in "ab":
        text = "".join(e["text"] for e in after if e["type"] == "delta" and e["side"] == side)
        assert text == SLOW_ANSWER
    assert resumed[-1][1] == {"type": "complete", "voting_open": True}
    assert reader.clients[1].post(f"/api/battles/{battle_id}/vote", json={"choice": "b"}).is_success
    reader.close()

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            voted = Counter(
                connection.execute(
                    sa.text("SELECT b.public_id FROM votes v JOIN battles b ON b.id = v.battle_id")
                ).scalars()
            )
            logged = Counter(
                connection.execute(sa.text("SELECT battle_public_id FROM vote_log")).scalars()
            )
        # No acknowledged vote lost, none counted twice.
        assert acknowledged and acknowledged <= set(voted)
        assert already <= set(voted)
        assert max(voted.values()) == 1 and max(logged.values()) == 1
        assert len(logged) == len(voted)

        # A node replacing A joins; both serve the same board once it is refreshed.
        node_a2 = nodes.start("a")
        counted = _counted_webdev_votes(engine)
        boards = [_board_with(url, counted) for url in (node_a2.url, node_b.url)]
        assert boards[0] == boards[1]

        # Every queued execution check stored exactly once, whichever node ran it.
        _wait_for_empty_queue(engine)
        with engine.connect() as connection:
            answers = connection.execute(
                sa.text(
                    "SELECT count(*) FROM answers a JOIN turns t ON t.id = a.turn_id "
                    "JOIN battles b ON b.id = t.battle_id "
                    "WHERE b.category = 'webdev' AND a.status = 'done'"
                )
            ).scalar_one()
            checks = connection.execute(sa.text("SELECT count(*) FROM app_checks")).scalar_one()
        assert checks == answers >= 2 * len(acknowledged | already)
        stored_lines = Counter(
            match
            for log in nodes.logs
            for match in re.findall(r"execution check (\S+) stored by", log.read_text())
        )
        # Nothing stored twice. A node logs a check after committing it, so the SIGKILL can land
        # between the two: at most one check per worker of node A (no Chromium: one check at a
        # time per worker) may be stored without its line.
        assert set(stored_lines.values()) == {1}
        assert answers - NODE_WORKERS <= len(stored_lines) <= answers
    finally:
        engine.dispose()


def _kill_node(node: ServeProcess) -> None:
    """SIGKILL the node: its main process and its workers at once (killing the main process
    alone leaves the workers serving)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [node.process.pid]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    node.process.wait(timeout=30)


def _vote(client: httpx.Client, battle_id: str) -> httpx.Response:
    return client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"})


def _sse_blocks(response: httpx.Response) -> Iterator[tuple[str | None, dict]]:
    import json

    identifier: str | None = None
    for line in response.iter_lines():
        if line.startswith("id:"):
            identifier = line[3:].strip()
        elif line.startswith("data:"):
            yield identifier, json.loads(line[5:])
        elif not line:
            identifier = None


def _counted_webdev_votes(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM votes v JOIN battles b ON b.id = v.battle_id "
                    "WHERE v.counted AND b.category = 'webdev'"
                )
            ).scalar_one()
        )


def _board_with(url: str, votes: int, timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        response = httpx.get(url + "/leaderboard.json?category=webdev", timeout=30)
        if response.status_code == 200 and response.json().get("votes") == votes:
            return response.json()
        assert time.monotonic() < deadline, f"{url} never showed {votes} votes: {response.text}"
        time.sleep(0.5)


def _wait_for_empty_queue(engine: sa.Engine, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as connection:
            queued = connection.execute(
                sa.text("SELECT count(*) FROM app_check_queue")
            ).scalar_one()
        if not queued:
            return
        assert time.monotonic() < deadline, f"{queued} execution checks still queued"
        time.sleep(0.5)

"""The vote log is a hash chain: appended in the vote's transaction, safe with many writers,
and published without anything that identifies a voter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import glassarena
from glassarena.arena.log_audit import check_chain, read_log
from glassarena.arena.log_export import VoterPseudonyms, export_lines
from glassarena.storage.database import Database, open_database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.vote_chain import GENESIS_HASH, chain_entry, entry_hash
from vote_seeding import seed_votes

PUBLISHED_FIELDS = {
    "position",
    "prev_hash",
    "hash",
    "battle_id",
    "category",
    "model_a",
    "model_b",
    "winner",
    "counted",
    "not_counted_reason",
    "voted_at",
    "style_a",
    "style_b",
    "voter",
}


def _lines(repository: ArenaRepository, **options: Any) -> list[str]:
    return [line.decode("utf-8") for line in export_lines(repository, **options)]


def test_each_vote_is_chained_to_the_one_before(database: Database) -> None:
    repository = ArenaRepository(database)
    assert repository.log_head().position == 0
    assert repository.log_head().entry_hash == GENESIS_HASH
    seed_votes(repository, 10)
    lines = _lines(repository)
    entries = read_log(lines, "export")
    head = check_chain(entries, "export")
    assert head == repository.log_head()
    assert [entry.position for entry in entries] == list(range(1, 11))
    assert entries[0].fields["prev_hash"] == GENESIS_HASH
    assert [entry.fields["counted"] for entry in entries].count(False) == 2
    assert entries[4].fields["not_counted_reason"] == "named mode"
    assert entries[0].fields["style_a"]["sum_assistant_a_tokens"] > 0
    assert entries[0].fields["model_a"] == {
        "name": "alpha-seeded",
        "version": 1,
        "organization": "unknown",
    }


def test_concurrent_workers_extend_one_chain(database_url: str) -> None:
    """Four workers (separate engines, as separate processes have) voting at once."""
    workers = [open_database(database_url) for _ in range(4)]
    errors: list[BaseException] = []

    def vote(worker: int) -> None:
        try:
            seed_votes(ArenaRepository(workers[worker]), 8, prefix=f"w{worker}", seed=worker)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=vote, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    repository = ArenaRepository(workers[0])
    entries = read_log(_lines(repository), "export")
    assert check_chain(entries, "export").position == 32
    assert len({entry.fields["battle_id"] for entry in entries}) == 32
    for worker in workers:
        worker.dispose()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)
    else:
        yield str(value)


def test_the_export_never_carries_ip_hashes_voter_ids_or_prompts(database: Database) -> None:
    repository = ArenaRepository(database)
    seeded = seed_votes(repository, 12)
    secrets = (
        {vote.voter_id for vote in seeded}
        | {vote.ip_hash for vote in seeded}
        | {vote.prompt for vote in seeded}
    )
    lines = _lines(repository)
    for line in lines:
        entry = json.loads(line)
        assert set(entry) == PUBLISHED_FIELDS
        for text in _strings(entry):
            for secret in secrets:
                assert secret not in text, (secret, line)
        # nor anything shaped like one: no field holds a fragment of the ip hash or prompt
        assert "medical history" not in line and "cookie" not in line
    pseudonyms = [json.loads(line)["voter"] for line in lines]
    assert len(set(pseudonyms)) == 4  # one per voter within the export...
    again = [json.loads(line)["voter"] for line in _lines(repository)]
    assert set(again).isdisjoint(pseudonyms)  # ...and unlinkable across exports


def test_prompts_are_published_only_when_the_deployment_opts_in(database: Database) -> None:
    repository = ArenaRepository(database)
    seeded = seed_votes(repository, 3)
    lines = _lines(repository, include_prompts=True, pseudonyms=VoterPseudonyms(b"k" * 32))
    entries = [json.loads(line) for line in lines]
    assert [entry["prompts"] for entry in entries] == [[vote.prompt] for vote in seeded]
    # prompts sit outside the chained fields: the chain is the same with or without them
    assert check_chain(read_log(lines, "export"), "export") == repository.log_head()


def test_the_migration_chains_the_entries_logged_before_it(database_url: str) -> None:
    """An arena that voted on the schema before the chain keeps its votes, now chained."""
    import sqlalchemy as sa

    from older_schema import migrated_only_to

    with migrated_only_to(database_url, "0003") as connection:
        for number, counted in enumerate((True, False, True)):
            at = f"2026-11-2{number} 10:00:00.123456"
            model_ids = [
                connection.execute(
                    sa.text(
                        "INSERT INTO model_versions (name, version, provider_kind, settings,"
                        " settings_fingerprint, created_at) VALUES (:name, 1, 'scripted', '{}',"
                        " :name, :at) RETURNING id"
                    ),
                    {"name": f"{side}{number}", "at": at},
                ).scalar_one()
                for side in "ab"
            ]
            battle_id = connection.execute(
                sa.text(
                    "INSERT INTO battles (public_id, mode, kind, category, model_a_id,"
                    " model_b_id, status, voter_id, ip_hash, style_a, style_b, created_at,"
                    " updated_at) VALUES (:public_id, 'anonymous', 'text', 'text', :a, :b,"
                    " 'voted', 'raw-voter', 'ip', :style_a, NULL, :at, :at) RETURNING id"
                ),
                {
                    "public_id": f"old-{number}",
                    "a": model_ids[0],
                    "b": model_ids[1],
                    "style_a": json.dumps({"sum_assistant_a_tokens": 5 + number}),
                    "at": at,
                },
            ).scalar_one()
            vote_id = connection.execute(
                sa.text(
                    "INSERT INTO votes (battle_id, winner, voter_id, ip_hash, counted,"
                    " not_counted_reason, created_at) VALUES (:battle, 'tie', 'raw-voter',"
                    " 'ip', :counted, :reason, :at) RETURNING id"
                ),
                {
                    "battle": battle_id,
                    "counted": counted,
                    "reason": None if counted else "named mode",
                    "at": at,
                },
            ).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO vote_log (vote_id, battle_public_id, category, model_a,"
                    " model_a_version, model_b, model_b_version, winner, counted, voter_id,"
                    " ip_hash, created_at) VALUES (:vote, :public_id, 'text', :a, 1, :b, 1,"
                    " 'tie', :counted, 'raw-voter', 'ip', :at)"
                ),
                {
                    "vote": vote_id,
                    "public_id": f"old-{number}",
                    "a": f"a{number}",
                    "b": f"b{number}",
                    "counted": counted,
                    "at": at,
                },
            )
    database = open_database(database_url)
    repository = ArenaRepository(database)
    entries = read_log(_lines(repository), "export")
    assert check_chain(entries, "export") == repository.log_head()
    assert repository.log_head().position == 3
    assert entries[1].fields["not_counted_reason"] == "named mode"
    assert entries[2].fields["style_a"] == {"sum_assistant_a_tokens": 7}
    seed_votes(repository, 2)  # new votes continue the migrated chain
    assert check_chain(read_log(_lines(repository), "export"), "export").position == 5
    database.dispose()


_WORKER_SCRIPT = """
import sys
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository
from vote_seeding import seed_votes

url, worker, votes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
database = open_database(url)
seed_votes(ArenaRepository(database), votes, prefix=f"p{worker}", seed=worker)
database.dispose()
"""


def test_worker_processes_extend_one_chain(database_url: str) -> None:
    """Separate processes (as `serve --workers` and several nodes run) voting at once: every
    vote is chained, none onto the same entry as another, no position skipped."""
    open_database(database_url).dispose()  # migrated once, before the workers race
    tests = Path(__file__).resolve().parents[1]
    source = Path(glassarena.__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(tests)])}
    processes, votes = 3, 12
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER_SCRIPT, database_url, str(worker), str(votes)],
            env=environment,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(processes)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors
    database = open_database(database_url)
    repository = ArenaRepository(database)
    entries = read_log(_lines(repository), "export")
    assert check_chain(entries, "export").position == processes * votes
    assert [entry.position for entry in entries] == list(range(1, processes * votes + 1))
    assert len({entry.fields["battle_id"] for entry in entries}) == processes * votes
    database.dispose()


def test_the_database_refuses_an_entry_that_does_not_extend_the_head(database: Database) -> None:
    """The log's trigger is the last guard: whatever writes to the table, an entry must sit
    one past the head and carry the head's hash, so the chain cannot fork or skip."""
    import sqlalchemy as sa

    repository = ArenaRepository(database)
    seed_votes(repository, 2)
    head = repository.log_head()
    insert = sa.text(
        "INSERT INTO vote_log (vote_id, battle_public_id, category, model_a, model_a_version,"
        " organization_a, winner, counted, voter_id, ip_hash, created_at, position, prev_hash,"
        " entry_hash) VALUES ((SELECT MIN(id) FROM votes), 'forged', 'text', 'x', 1, 'unknown',"
        " 'tie', true, 'v', 'h', '2026-11-30 00:00:00', :position, :prev_hash, :entry_hash)"
    )
    attempts = [
        (head.position + 1, GENESIS_HASH),  # a fork: chained onto an older entry
        (head.position + 2, head.entry_hash),  # a skipped position
        (head.position, head.entry_hash),  # a second entry at the head's position
    ]
    for position, prev_hash in attempts:
        with pytest.raises(sa.exc.DBAPIError), database.engine.begin() as connection:
            connection.execute(
                insert, {"position": position, "prev_hash": prev_hash, "entry_hash": "f" * 64}
            )
    assert repository.log_head() == head
    seed_votes(repository, 1, prefix="after")  # the honest writer carries on
    assert check_chain(read_log(_lines(repository), "export"), "export").position == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [("prompt_categories", {"categories": {"math": True}}), ("webdev_stack", "react")],
)
def test_a_field_newer_than_a_log_leaves_its_older_entries_hashing_as_before(
    field: str, value: Any
) -> None:
    # Entries of a log written before the field existed must keep their hashes.
    fields: dict[str, Any] = {
        "position": 1,
        "prev_hash": GENESIS_HASH,
        "battle_id": "b",
        "category": "webdev" if field == "webdev_stack" else "text",
        "model_a": {"name": "x", "version": 1, "organization": "o"},
        "model_b": {"name": "y", "version": 1, "organization": "o"},
        "winner": "model_a",
        "counted": True,
        "not_counted_reason": None,
        "voted_at": datetime(2026, 11, 1, tzinfo=UTC),
        "style_a": None,
        "style_b": None,
    }
    old = chain_entry(**fields)
    assert field not in old
    newer = chain_entry(**fields, **{field: value})
    assert newer[field] == value
    assert entry_hash(newer) != entry_hash(old)

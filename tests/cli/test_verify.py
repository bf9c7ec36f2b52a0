"""`glassarena verify` names the first entry where a tampered log stops being the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from glassarena.arena.log_export import export_lines
from glassarena.cli import main
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.vote_chain import canonical_bytes, entry_hash
from vote_seeding import seed_votes

ENTRIES = 12


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    directory = tmp_path_factory.mktemp("log")
    database = open_database(f"sqlite:///{directory / 'arena.db'}")
    repository = ArenaRepository(database)
    seed_votes(repository, ENTRIES)
    lines = list(export_lines(repository))
    database.dispose()
    return lines


def _verify(tmp_path: Path, lines: list[bytes], *options: str) -> Result:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"".join(lines))
    return CliRunner().invoke(main, ["verify", str(log), *options])


def test_an_untouched_log_verifies(tmp_path: Path, exported: list[bytes]) -> None:
    result = _verify(tmp_path, exported)
    assert result.exit_code == 0, result.output
    head = json.loads(exported[-1])["hash"]
    assert f"chain intact: {ENTRIES} entries, head {head}" in result.output


def test_one_changed_byte_is_named(tmp_path: Path, exported: list[bytes]) -> None:
    lines = list(exported)
    line = lines[4]
    offset = line.index(b'"battle_id":"') + len(b'"battle_id":"') + 2
    lines[4] = line[:offset] + bytes([line[offset] ^ 0x01]) + line[offset + 1 :]
    assert lines[4] != line and len(lines[4]) == len(line)
    result = _verify(tmp_path, lines)
    assert result.exit_code == 1
    assert "log.jsonl:5: chain broken at entry 5: its hash does not match its contents" in (
        result.output
    )


def test_a_deleted_entry_is_named(tmp_path: Path, exported: list[bytes]) -> None:
    result = _verify(tmp_path, exported[:6] + exported[7:])
    assert result.exit_code == 1
    assert "log.jsonl:7: chain broken at entry 7: position 8 where 7 was expected" in (
        result.output
    )


def test_two_swapped_entries_are_named(tmp_path: Path, exported: list[bytes]) -> None:
    lines = list(exported)
    lines[2], lines[3] = lines[3], lines[2]
    result = _verify(tmp_path, lines)
    assert result.exit_code == 1
    assert "log.jsonl:3: chain broken at entry 3: position 4 where 3 was expected" in (
        result.output
    )


def _forged_after(last: bytes, *, rehash: bool) -> bytes:
    entry = json.loads(last)
    forged = entry | {
        "position": entry["position"] + 1,
        "prev_hash": entry["hash"],
        "battle_id": "forged-battle",
        "winner": "model_a",
        "counted": True,
        "not_counted_reason": None,
    }
    if rehash:
        forged["hash"] = entry_hash(forged)
    return canonical_bytes(forged) + b"\n"


def test_an_appended_forged_entry_is_named(tmp_path: Path, exported: list[bytes]) -> None:
    careless = _verify(tmp_path, [*exported, _forged_after(exported[-1], rehash=False)])
    assert careless.exit_code == 1
    assert f"log.jsonl:{ENTRIES + 1}: chain broken at entry {ENTRIES + 1}: its hash" in (
        careless.output
    )
    # A forger who recomputes the hash makes a valid chain; it no longer ends at the head the
    # arena publishes, and checking against that head names the first appended line.
    head = json.loads(exported[-1])["hash"]
    careful = _verify(
        tmp_path, [*exported, _forged_after(exported[-1], rehash=True)], "--head", head
    )
    assert careful.exit_code == 1
    assert f"log.jsonl:{ENTRIES + 1}: entries after the expected head" in careful.output


def test_a_malformed_line_is_named(tmp_path: Path, exported: list[bytes]) -> None:
    lines = list(exported)
    lines[2] = b'{"position": 3, "prev_hash": \n'
    result = _verify(tmp_path, lines)
    assert result.exit_code == 1
    assert "log.jsonl:3: not valid JSON" in result.output

    lines = list(exported)
    lines[5] = json.dumps({**json.loads(lines[5]), "position": "6"}).encode() + b"\n"
    result = _verify(tmp_path, lines)
    assert "log.jsonl:6: field 'position' has the wrong type" in result.output

    lines = list(exported)
    entry = json.loads(lines[7])
    del entry["winner"]
    lines[7] = json.dumps(entry).encode() + b"\n"
    result = _verify(tmp_path, lines)
    assert "log.jsonl:8: missing field 'winner'" in result.output


def test_a_truncated_log_is_named(tmp_path: Path, exported: list[bytes]) -> None:
    cut = b"".join(exported)[:-40]
    result = _verify(tmp_path, [cut])
    assert result.exit_code == 1
    assert f"log.jsonl:{ENTRIES}: truncated: the last line has no line end" in result.output

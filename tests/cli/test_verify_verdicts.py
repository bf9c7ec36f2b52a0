"""`glassarena verify` on a log with screening verdicts: they are chained like votes, applied
in log order, and a verdict that names no earlier vote (or counts a vote that was not
counted when accepted) is refused, naming its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from glassarena.arena.log_audit import counted_votes, read_log
from glassarena.arena.log_export import export_lines
from glassarena.cli import main
from glassarena.storage.database import open_database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.verdict_log import Verdict, VerdictLog
from glassarena.storage.vote_chain import canonical_bytes, entry_hash
from vote_seeding import seed_votes

VOTES = 10  # every 5th uncounted when accepted: positions 5 and 10


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    directory = tmp_path_factory.mktemp("log")
    database = open_database(f"sqlite:///{directory / 'arena.db'}")
    repository = ArenaRepository(database)
    seeded = seed_votes(repository, VOTES)
    verdicts = VerdictLog(database)
    verdicts.append([Verdict(2, seeded[1].battle_id, False, "disagreement")], "1:test")
    seed_votes(repository, 2, prefix="later")  # positions 12, 13
    verdicts.append(
        [
            Verdict(3, seeded[2].battle_id, False, "voter-cap"),
            Verdict(2, seeded[1].battle_id, True, None),
        ],
        "1:test",
    )
    lines = list(export_lines(repository))
    database.dispose()
    return lines


def _verify(tmp_path: Path, lines: list[bytes], *options: str) -> Result:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"".join(lines))
    return CliRunner().invoke(main, ["verify", str(log), *options])


def test_verdicts_are_chained_between_the_votes(exported: list[bytes]) -> None:
    kinds = [json.loads(line).get("kind", "vote") for line in exported]
    assert kinds == ["vote"] * VOTES + ["verdict"] + ["vote"] * 2 + ["verdict"] * 2
    verdict = json.loads(exported[VOTES])
    assert verdict["vote_position"] == 2 and verdict["counted"] is False
    assert verdict["reason"] == "disagreement" and verdict["screening"] == "1:test"
    assert "voter" not in verdict


def test_the_latest_verdict_on_a_vote_decides(exported: list[bytes]) -> None:
    entries = read_log([line.decode() for line in exported], "log.jsonl")
    before = counted_votes(entries[: VOTES + 1])
    after = counted_votes(entries)
    # accepted: 8 + 2 counted; the first verdict takes vote 2 out, the later ones take
    # vote 3 out and put vote 2 back
    assert len(before) == 7
    assert len(after) == 9


def test_a_log_with_verdicts_verifies(tmp_path: Path, exported: list[bytes]) -> None:
    result = _verify(tmp_path, exported)
    assert result.exit_code == 0, result.output
    assert f"chain intact: {len(exported)} entries" in result.output
    assert "3 screening verdict(s)" in result.output


def _rehashed(lines: list[bytes], index: int, **changes: object) -> list[bytes]:
    """The log with entry `index` changed and every hash from there on recomputed (a forger
    rewriting the chain; only a published head could tell)."""
    changed = list(lines)
    previous = json.loads(changed[index - 1])["hash"]
    for number in range(index, len(changed)):
        entry = json.loads(changed[number])
        if number == index:
            entry |= changes
        entry["prev_hash"] = previous
        entry["hash"] = previous = entry_hash(entry)
        changed[number] = canonical_bytes(entry) + b"\n"
    return changed


def test_a_changed_verdict_breaks_the_chain(tmp_path: Path, exported: list[bytes]) -> None:
    lines = list(exported)
    lines[VOTES] = lines[VOTES].replace(b'"counted":false', b'"counted":true')
    result = _verify(tmp_path, lines)
    assert result.exit_code == 1
    assert f"log.jsonl:{VOTES + 1}: chain broken at entry {VOTES + 1}" in result.output


def test_a_verdict_on_no_earlier_vote_is_refused(tmp_path: Path, exported: list[bytes]) -> None:
    result = _verify(tmp_path, _rehashed(exported, VOTES, vote_position=VOTES + 1))
    assert result.exit_code == 1
    assert (
        f"log.jsonl:{VOTES + 1}: verdict on position {VOTES + 1}, which is not an earlier vote"
        in (result.output)
    )


def test_a_verdict_naming_another_battle_is_refused(tmp_path: Path, exported: list[bytes]) -> None:
    result = _verify(tmp_path, _rehashed(exported, VOTES, battle_id="someone-else"))
    assert result.exit_code == 1
    assert "verdict names battle someone-else, but the vote at position 2" in result.output


def test_a_verdict_counting_an_uncounted_vote_is_refused(
    tmp_path: Path, exported: list[bytes]
) -> None:
    battle = json.loads(exported[4])["battle_id"]  # position 5: not counted when accepted
    lines = _rehashed(exported, VOTES, vote_position=5, battle_id=battle, counted=True, reason=None)
    result = _verify(tmp_path, lines)
    assert result.exit_code == 1
    assert "verdict counts the vote at position 5, which was not counted when it was accepted" in (
        result.output
    )


def test_an_unknown_entry_kind_is_refused(tmp_path: Path, exported: list[bytes]) -> None:
    result = _verify(tmp_path, _rehashed(exported, VOTES, kind="amnesty"))
    assert result.exit_code == 1
    assert f"log.jsonl:{VOTES + 1}: unknown entry kind 'amnesty'" in result.output

"""A start serves the boards stored at the last stop while the statistics are read back.

At 10,000,000 votes reading the statistics back and fitting the style-controlled boards
takes minutes; the boards published before the stop are the boards of the log up to the
head each names, so a start serves them at once. Only boards of this log (the entry hash
at their watermark matches) computed with the same options are served; a vote after the
start gets the computed boards as before.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest

from glassarena.arena import leaderboard_refresher
from glassarena.arena.board_statistics import Board, BoardStatistics
from glassarena.arena.leaderboard_refresher import LeaderboardRefresher, LeaderboardSnapshot
from glassarena.leaderboard import LeaderboardOptions
from glassarena.storage.database import Database
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.schema import BoardSnapshotRow
from glassarena.storage.verdict_log import Verdict, VerdictLog
from glassarena.vocabulary import CATEGORIES, Winner
from vote_seeding import styled_text, vote_on_a_battle


def _arena(database: Database, votes: int, seed: int = 3) -> tuple[ArenaRepository, list[int]]:
    repository = ArenaRepository(database)
    ids = [
        repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in ("one", "two", "three", "four")
    ]
    _vote(repository, ids, votes, seed)
    return repository, ids


def _vote(repository: ArenaRepository, ids: list[int], votes: int, seed: int) -> None:
    rng = random.Random(seed)
    for number in range(votes):
        model_a, model_b = rng.sample(ids, 2)
        vote_on_a_battle(
            repository,
            f"stored-{seed}-{number}",
            model_a,
            model_b,
            list(Winner)[rng.randrange(3)],
            answers=(styled_text(rng), styled_text(rng)),
        )


def _served(refresher: LeaderboardRefresher) -> dict[tuple[str, bool], dict[str, object]]:
    boards = {}
    for category in CATEGORIES:
        for style_control in (False, True):
            snapshot = refresher.snapshot(category, style_control)
            assert snapshot is not None, (category, style_control)
            boards[(category, style_control)] = snapshot.to_dict()
    return boards


def _stopped(repository: ArenaRepository) -> dict[tuple[str, bool], dict[str, object]]:
    """The boards of a refresher that computed every board, then stored them at its stop."""
    refresher = LeaderboardRefresher(repository)
    refresher.refresh()
    assert refresher.save_boards() == 2 * len(CATEGORIES)
    assert refresher.save_boards() == 0  # nothing changed since
    return _served(refresher)


def test_a_start_serves_the_stored_boards_before_reading_the_statistics(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository, _ = _arena(database, 40)
    before = _stopped(repository)

    restarted = LeaderboardRefresher(repository)
    served_while_reading: list[dict[tuple[str, bool], dict[str, object]]] = []
    cold_start = restarted._cold_start

    def reading(head: object) -> object:
        served_while_reading.append(_served(restarted))
        return cold_start(head)  # type: ignore[arg-type]

    monkeypatch.setattr(restarted, "_cold_start", reading)
    fitted: list[str] = []
    board_snapshot = leaderboard_refresher.board_snapshot

    def snapshot_of(board: Board, *rest: Any) -> LeaderboardSnapshot:
        if board.style_control:
            fitted.append(board.category)
        return board_snapshot(board, *rest)

    monkeypatch.setattr(leaderboard_refresher, "board_snapshot", snapshot_of)
    assert restarted.refresh_if_needed(style_control=False)
    assert served_while_reading == [before]
    # The style-controlled boards stored at this very head are not fitted again.
    assert restarted.refresh_style_boards() == 0 and fitted == []
    after = _served(restarted)
    assert {key: {**board, "computed_at": ""} for key, board in after.items()} == {
        key: {**board, "computed_at": ""} for key, board in before.items()
    }


def test_a_vote_after_the_start_gets_boards_computed_from_every_vote(
    database: Database,
) -> None:
    repository, ids = _arena(database, 30)
    _stopped(repository)
    _vote(repository, ids, 5, seed=4)
    restarted = LeaderboardRefresher(repository)
    restarted.refresh()
    fresh = LeaderboardRefresher(repository)
    fresh._restored = {}  # a refresher that never saw stored boards
    fresh.refresh()
    head = repository.log_head().position
    for key, board in _served(restarted).items():
        assert board["watermark"] == head
        assert {**board, "computed_at": ""} == {**_served(fresh)[key], "computed_at": ""}


def test_boards_of_another_log_or_other_options_are_not_served(database: Database) -> None:
    repository, _ = _arena(database, 20)
    _stopped(repository)
    other_options = LeaderboardRefresher(repository, options=LeaderboardOptions(level=0.9))
    other_options._restore_boards()
    assert other_options.snapshot("text") is None

    with database.transaction() as connection:
        connection.execute(BoardSnapshotRow.__table__.update().values(log_head="f" * 64))
    another_log = LeaderboardRefresher(repository)
    another_log._restore_boards()
    assert another_log.snapshot("text") is None


def test_the_stored_boards_are_what_was_published(database: Database) -> None:
    repository, _ = _arena(database, 20)
    before = _stopped(repository)
    stored = repository.stored_boards(
        leaderboard_refresher.stored_board_options(LeaderboardOptions(), CATEGORIES)
    )
    assert len(stored) == 2 * len(CATEGORIES)
    for board in stored:
        snapshot = LeaderboardSnapshot.from_json(zlib.decompress(board.payload))
        assert snapshot.to_dict() == before[(board.category, board.style_control)]


def test_boards_and_segments_that_end_on_a_verdict_are_read_back(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A screening verdict takes a log position like a vote: boards stored at a head that is
    a verdict, and a segment whose last entry is one, are this log's too."""
    monkeypatch.setattr(leaderboard_refresher, "SEGMENT_ENTRIES", 8)
    repository, ids = _arena(database, 7)
    verdicts = VerdictLog(database)
    [battle] = verdicts.battle_ids([3]).values()
    assert verdicts.append([Verdict(3, battle, False, "disagreement")], "test") == 1
    assert repository.log_head().position == 8  # the verdict ends the first segment
    _vote(repository, ids, 4, seed=5)
    head = repository.log_head()
    last = Verdict(head.position, verdicts.battle_ids([head.position])[head.position], False, "x")
    assert verdicts.append([last], "test") == 1  # and the head is a verdict
    before = _stopped(repository)
    layout = BoardStatistics(CATEGORIES).layout
    assert [segment.last_position for segment in repository.board_segments(layout)] == [8]

    restarted = LeaderboardRefresher(repository)
    restarted._restore_boards()
    served = restarted.snapshot("text")
    assert served is not None and served.to_dict() == before[("text", False)]

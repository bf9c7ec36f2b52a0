"""The board kept incrementally equals the board recomputed from every counted vote.

Votes (counted and not), votes un-counted and counted again later (as a screening verdict
does), and a retirement (a contestant's settings change: the old version keeps its votes,
the new one starts from none) arrive in a random order; at checkpoints every board, each
category with and without style control, is compared with `compute_leaderboard` run on the
battle table of the votes counted at that moment, to 1e-9, intervals included.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from glassarena.arena import leaderboard_refresher
from glassarena.arena.board_statistics import BoardStatistics
from glassarena.arena.leaderboard_refresher import (
    LeaderboardRefresher,
    LeaderboardSnapshot,
    battle_table,
    compute_snapshots,
    on_board,
    statistics_snapshots,
)
from glassarena.arena.model_record import model_records
from glassarena.battles.errors import BattleDataError
from glassarena.battles.prompt_categories import classify_prompt
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard
from glassarena.ratings.errors import RatingError
from glassarena.storage.database import Database
from glassarena.storage.repository import ArenaRepository, LogHead
from glassarena.storage.vote_columns import VoteColumns
from glassarena.vocabulary import CATEGORIES, WEBDEV_CATEGORIES, Winner
from vote_seeding import styled_text, vote_on_a_battle

PROMPTS = (
    "Write a python function that sorts a list",
    "Solve the integral of x^2 dx and prove it",
    "Write a short poem about the sea",
    "Explain photosynthesis in exactly three bullet points, no more than 50 words",
    "What is the capital of France?",
)
OPTIONS = LeaderboardOptions()


def _answer(rng: random.Random, webdev: bool) -> str:
    text = styled_text(rng)
    if webdev:
        lines = "\n".join("<p>line</p>" for _ in range(rng.randint(1, 6)))
        text += f"\n```html\n{lines}\n```\n" * rng.randint(0, 2)
    return text


def _reference(
    repository: ArenaRepository, head: LogHead, uncounted: set[int]
) -> dict[tuple[str, bool], dict[str, Any]]:
    """Every board from the counted votes as a battle table: the full recomputation."""
    votes = repository.counted_votes_in_log(head.position)
    positions = np.concatenate(
        [columns.position for columns in repository.vote_columns(0, head.position)] or [[]]
    )
    assert len(positions) == len(votes)
    kept = [vote for vote, at in zip(votes, positions, strict=True) if int(at) not in uncounted]
    table = battle_table(kept)
    boards = {}
    for category in CATEGORIES:
        battles = table[on_board(table, category)] if len(table) else table
        for style in (False, True):
            options = LeaderboardOptions(
                style_control=style, code_style=style and category in WEBDEV_CATEGORIES
            )
            board: dict[str, Any] = {"votes": len(battles), "record": model_records(battles)}
            try:
                board["leaderboard"] = compute_leaderboard(
                    battles.reset_index(drop=True), options
                ).to_dict()
            except (RatingError, BattleDataError, np.linalg.LinAlgError):
                # Too few votes for a fit yet (the refresher shows the reason instead).
                board["leaderboard"] = None
            boards[category, style] = board
    return boards


def _close(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected):
            assert math.isnan(actual), where
            return
        assert math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9), where
    elif isinstance(expected, dict):
        assert expected.keys() == actual.keys(), where
        for key in expected:
            _close(expected[key], actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(expected) == len(actual), where
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            _close(left, right, f"{where}[{index}]")
    else:
        assert expected == actual, where


def _compare(
    reference: dict[tuple[str, bool], dict[str, Any]], snapshots: list[LeaderboardSnapshot]
) -> int:
    """Asserts every board matches; returns how many boards had ratings."""
    rated = 0
    for snapshot in snapshots:
        expected = reference[snapshot.category, snapshot.style_control]
        where = f"{snapshot.category} style={snapshot.style_control}"
        assert snapshot.votes == expected["votes"], where
        assert snapshot.record == expected["record"], where
        if expected["leaderboard"] is None:
            assert snapshot.leaderboard is None, where
            continue
        assert snapshot.leaderboard is not None, (where, snapshot.message)
        _close(expected["leaderboard"], snapshot.leaderboard, where)
        rated += 1
    return rated


def test_incremental_boards_equal_a_full_recomputation(database: Database) -> None:
    repository = ArenaRepository(database)
    rng = random.Random(11)
    names = ["alpha", "beta", "gamma", "delta"]
    versions = {
        name: repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in names
    }
    statistics = BoardStatistics(CATEGORIES)
    folded = LogHead(0, repository.log_head().entry_hash)
    added: dict[int, VoteColumns] = {}  # each counted vote's columns, by log position
    uncounted: set[int] = set()
    rated = 0
    for step in range(1, 241):
        if step == 120:
            # A retirement: "delta" changes its settings, so a new version takes its place;
            # the old version's votes stay counted and on the board.
            versions["delta"] = repository.ensure_version(
                "delta", "scripted", {"name": "delta", "temperature": 0.3}, "fp-delta-2"
            ).version_id
        action = rng.random()
        if action < 0.12 and added:
            # A verdict un-counts an earlier vote.
            position = rng.choice(sorted(set(added) - uncounted) or [0])
            if position:
                assert statistics.remove([position]) == 1
                uncounted.add(position)
        elif action < 0.18 and uncounted:
            # ... and a later one counts it again.
            position = rng.choice(sorted(uncounted))
            columns = added[position]
            statistics.add(columns.take(np.flatnonzero(columns.position == position)))
            uncounted.discard(position)
        else:
            webdev = rng.random() < 0.3
            model_a, model_b = rng.sample(names, 2)
            prompt = rng.choice(PROMPTS)
            vote_on_a_battle(
                repository,
                f"battle-{step}",
                versions[model_a],
                versions[model_b],
                rng.choice(list(Winner)),
                kind="webdev" if webdev else "text",
                category="webdev" if webdev else "text",
                counted=rng.random() > 0.15,
                answers=(_answer(rng, webdev), _answer(rng, webdev)),
                prompt_categories=None if webdev else classify_prompt(prompt).category_tag(),
            )
            head = repository.log_head()
            for columns in repository.vote_columns(folded.position, head.position):
                statistics.add(columns)
                for position in columns.position:
                    added[int(position)] = columns
            folded = head
        if step % 60 == 0:
            head = repository.log_head()
            snapshots = statistics_snapshots(statistics, head, OPTIONS, "now")
            rated += _compare(_reference(repository, head, uncounted), snapshots)
    assert uncounted, "the random mix un-counted no vote"
    assert rated >= 6, "too few boards had ratings to compare"


def test_the_refresher_folds_new_votes_into_what_verify_replays(database: Database) -> None:
    """Refreshes after a cold start and after new votes store what `compute_snapshots`
    (the function `glassarena verify` replays) gives on every counted vote, bit for bit."""
    repository = ArenaRepository(database)
    rng = random.Random(5)
    ids = [
        repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in ("one", "two", "three")
    ]
    refresher = LeaderboardRefresher(repository)

    def vote(number: int) -> None:
        model_a, model_b = rng.sample(ids, 2)
        vote_on_a_battle(
            repository,
            f"refresh-{number}",
            model_a,
            model_b,
            list(Winner)[number % 4],
            answers=(styled_text(rng), styled_text(rng)),
            prompt_categories=classify_prompt(rng.choice(PROMPTS)).category_tag(),
        )

    for number in range(30):
        vote(number)
    for batch in range(3):
        refresher.refresh()
        head = repository.log_head()
        expected = compute_snapshots(
            repository.counted_votes_in_log(head.position), head, CATEGORIES, OPTIONS, "x"
        )
        for snapshot in expected:
            stored = refresher.snapshot(snapshot.category, snapshot.style_control)
            assert stored is not None
            assert stored.watermark == head.position
            assert {**stored.to_dict(), "computed_at": "x"} == snapshot.to_dict()
        for number in range(10):
            vote(100 * (batch + 1) + number)
    assert refresher.snapshot("text", False).leaderboard is not None  # type: ignore[union-attr]


def test_stored_segments_give_the_same_statistics(database: Database) -> None:
    """Segments written as the log passes their end, with votes un-counted and counted
    again in between, load into statistics whose boards are the ones they were cut from."""
    repository = ArenaRepository(database)
    rng = random.Random(8)
    ids = [
        repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in ("one", "two", "three")
    ]
    for number in range(40):
        model_a, model_b = rng.sample(ids, 2)
        vote_on_a_battle(
            repository,
            f"segment-{number}",
            model_a,
            model_b,
            list(Winner)[number % 4],
            answers=(styled_text(rng), styled_text(rng)),
            prompt_categories=classify_prompt(rng.choice(PROMPTS)).category_tag(),
        )
    statistics = BoardStatistics(CATEGORIES)
    segments = []
    third = next(repository.vote_columns(0, 3))
    third = third.take(np.flatnonzero(third.position == 3))
    statistics.add(next(repository.vote_columns(0, 16)))
    statistics.remove([3, 15])
    segments.append(statistics.segment(0, 16))
    statistics.add(next(repository.vote_columns(16, 32)))
    statistics.add(third)  # counted again: an earlier segment's vote, carried by the next
    statistics.remove([31])
    segments.append(statistics.segment(16, 32))
    statistics.add(next(repository.vote_columns(32, 40)))  # after the last segment
    statistics.remove([20, 3])
    restarted = BoardStatistics(CATEGORIES)
    for payload in segments:
        restarted.load_segment(payload)
    # A restart folds the log after the last segment again, with the verdicts logged there.
    restarted.add(next(repository.vote_columns(32, 40)))
    restarted.remove([20, 3])
    head = repository.log_head()
    assert statistics_snapshots(restarted, head, OPTIONS, "x") == statistics_snapshots(
        statistics, head, OPTIONS, "x"
    )


def test_a_restart_reads_the_segments_the_refresher_stored(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leaderboard_refresher, "SEGMENT_ENTRIES", 8)
    repository = ArenaRepository(database)
    _vote_on_three_models(repository, 30, "restart")
    first = LeaderboardRefresher(repository)
    first.refresh()
    layout = BoardStatistics(CATEGORIES).layout
    assert [segment.last_position for segment in repository.board_segments(layout)] == [
        8,
        16,
        24,
    ]
    restarted = LeaderboardRefresher(repository)
    restarted.refresh()
    for category in CATEGORIES:
        for style_control in (False, True):
            before = first.snapshot(category, style_control)
            after = restarted.snapshot(category, style_control)
            assert before is not None and after is not None
            assert {**after.to_dict(), "computed_at": ""} == {**before.to_dict(), "computed_at": ""}


def test_votes_after_a_cold_start_do_not_copy_the_held_votes(database: Database) -> None:
    """A cold start reserves room beyond the log it read: the first votes after a restart
    fill that room instead of copying every held array (at ten million votes, a copy of the
    style rows alone is a gigabyte held twice)."""
    repository = ArenaRepository(database)
    _vote_on_three_models(repository, 24, "room")
    statistics = BoardStatistics(CATEGORIES)
    statistics.reserve(20)  # as a cold start at log position 20 does
    statistics.add(next(repository.vote_columns(0, 20)))
    before = statistics.battles("text", style=True).style
    statistics.add(next(repository.vote_columns(20, 24)))
    after = statistics.battles("text", style=True).style
    assert before is not None and after is not None
    assert len(after.totals) == 24
    assert np.shares_memory(before.totals, after.totals)


def _vote_on_three_models(repository: ArenaRepository, votes: int, prefix: str) -> None:
    """`votes` text battles between models one, two and three, with styled answers."""
    rng = random.Random(9)
    ids = [
        repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in ("one", "two", "three")
    ]
    for number in range(votes):
        model_a, model_b = rng.sample(ids, 2)
        vote_on_a_battle(
            repository,
            f"{prefix}-{number}",
            model_a,
            model_b,
            list(Winner)[number % 3],
            answers=(styled_text(rng), styled_text(rng)),
        )

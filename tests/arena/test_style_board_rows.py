"""The style rows a live board hands to its style-controlled fit: views where they can be,
copies where they must be, and the fit's numbers either way those of the battle table."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest

from glassarena.arena.board_statistics import BoardStatistics, vote_columns
from glassarena.arena.leaderboard_refresher import battle_table, on_board
from glassarena.battles.style import answer_style, side_columns
from glassarena.leaderboard import (
    Leaderboard,
    LeaderboardOptions,
    compute_leaderboard,
    compute_leaderboard_from_counts,
)
from glassarena.storage.repository import CountedVote
from vote_seeding import styled_text

VOTED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
MODELS = ("alpha", "beta", "gamma", "delta")
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")


def _votes(seed: int, count: int, webdev_share: float = 0.0) -> list[CountedVote]:
    rng = random.Random(seed)
    votes = []
    for _ in range(count):
        model_a, model_b = rng.sample(MODELS, 2)
        webdev = rng.random() < webdev_share
        styles = []
        for side in ("a", "b"):
            text = styled_text(rng)
            for _ in range(rng.randint(0, 3) if webdev else 0):
                text += "\n```html\n" + "<p>line</p>\n" * rng.randint(1, 5) + "```\n"
            styles.append(side_columns(answer_style([text]), side))  # type: ignore[arg-type]
        votes.append(
            CountedVote(
                model_a,
                model_b,
                rng.choice(WINNERS),
                "webdev" if webdev else "text",
                styles[0],
                styles[1],
                VOTED_AT,
            )
        )
    return votes


def _assert_same(counted: Leaderboard, table: Leaderboard) -> None:
    assert counted.models == table.models
    for left, right in ((counted.rows, table.rows), (counted.style, table.style)):
        for row, other in zip(left, right, strict=True):
            for name in ("rating", "lower", "upper", "coefficient"):
                if hasattr(row, name):
                    assert getattr(row, name) == pytest.approx(getattr(other, name), rel=1e-9)


@pytest.mark.parametrize("both_bad", ["tie", "drop"])
def test_a_board_of_every_held_vote_fits_a_view_of_the_held_counts(both_bad: str) -> None:
    votes = _votes(1, 1000)
    columns = vote_columns(votes)
    # Position 10 comes last, after the board is taken (a vote counted late).
    late = columns.position == 10
    statistics = BoardStatistics(["text"])
    statistics.add(columns.take(np.flatnonzero(~late[:400])))
    early = [vote for position, vote in enumerate(votes[:400], 1) if position != 10]
    board = statistics.board("text", style_control=True)
    rows = board.battles.style
    assert rows is not None and rows.totals.dtype == np.float32
    assert not rows.totals.flags.writeable and not rows.totals.flags.owndata
    held = rows.totals.copy()
    # More votes, past the held arrays' capacity, and the late one before the others: the
    # board taken before them keeps its rows (a fit may be running on them).
    statistics.add(columns.take(np.arange(400, 1000)))
    statistics.add(columns.take(np.flatnonzero(late)))
    assert statistics.votes("text") == 1000
    np.testing.assert_array_equal(rows.totals, held)
    options = LeaderboardOptions(style_control=True, both_bad=both_bad)  # type: ignore[arg-type]
    _assert_same(
        compute_leaderboard_from_counts(board.battles, options),
        compute_leaderboard(battle_table(early), options),
    )


@pytest.mark.parametrize("both_bad", ["tie", "drop"])
def test_boards_of_some_held_votes_fit_copies_of_their_rows(both_bad: str) -> None:
    votes = _votes(3, 600, webdev_share=0.4)
    statistics = BoardStatistics.from_votes(votes, ["text", "webdev"])
    table = battle_table(votes)
    for category, code_style in (("text", False), ("webdev", True), ("webdev", False)):
        board = statistics.board(category, style_control=True)
        rows = board.battles.style
        assert rows is not None and rows.totals.flags.owndata
        options = LeaderboardOptions(
            style_control=True,
            code_style=code_style,
            both_bad=both_bad,  # type: ignore[arg-type]
        )
        battles = table[on_board(table, category)].reset_index(drop=True)
        _assert_same(
            compute_leaderboard_from_counts(board.battles, options),
            compute_leaderboard(battles, options),
        )

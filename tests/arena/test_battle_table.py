"""The refresher's battle table goes through the same check as every battle file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from glassarena.arena.leaderboard_refresher import battle_table
from glassarena.battles.errors import BattleDataError
from glassarena.storage.repository import CountedVote

VOTED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _vote(model_a: str, model_b: str, winner: str, **style: int) -> CountedVote:
    style_a = {key: value for key, value in style.items() if key.endswith("_a_tokens")}
    style_b = {key: value for key, value in style.items() if key.endswith("_b_tokens")}
    return CountedVote(model_a, model_b, winner, "text", style_a, style_b, VOTED_AT)


def test_counted_votes_become_a_canonical_battle_table() -> None:
    table = battle_table(
        [
            _vote("alpha", "beta", "model_a", sum_assistant_a_tokens=3, sum_assistant_b_tokens=4),
            _vote("beta", "alpha", "both_bad"),
        ]
    )
    assert list(table.columns[:3]) == ["model_a", "model_b", "winner"]
    assert table["winner"].tolist() == ["model_a", "tie (bothbad)"]  # canonical labels
    assert table["anony"].tolist() == [True, True]
    assert table["tstamp"].tolist() == [VOTED_AT.timestamp()] * 2
    assert table["sum_assistant_a_tokens"].iloc[0] == 3
    assert battle_table([]).empty


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        # Before, the table skipped this check: an unknown label surfaced as "row N" of one
        # category's fit, and a self-battle as a rating error shown as "not enough votes".
        ([_vote("a", "b", "tie"), _vote("a", "b", "left")], r"counted votes, vote 2: unknown"),
        ([_vote("a", "b", "tie"), _vote("c", "c", "tie")], r"vote 2: model 'c' battles itself"),
        ([_vote("", "b", "tie")], r"counted votes, vote 1: model_a is empty"),
    ],
)
def test_a_bad_counted_vote_is_named(votes: list[CountedVote], message: str) -> None:
    with pytest.raises(BattleDataError, match=message):
        battle_table(votes)

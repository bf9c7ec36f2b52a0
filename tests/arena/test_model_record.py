"""Each model's wins, ties and losses, and what it lacks for a rating."""

from __future__ import annotations

import pandas as pd

from glassarena.arena.model_record import model_records


def test_records_count_both_kinds_of_tie_and_name_what_is_missing() -> None:
    battles = pd.DataFrame(
        {
            "model_a": ["x", "x", "y", "z"],
            "model_b": ["y", "z", "z", "x"],
            "winner": ["model_a", "tie", "model_b", "tie (bothbad)"],
        }
    )
    assert model_records(battles) == [
        {"model": "x", "battles": 3, "wins": 1, "ties": 2, "losses": 0, "needs": "a loss"},
        {"model": "z", "battles": 3, "wins": 1, "ties": 2, "losses": 0, "needs": "a loss"},
        {"model": "y", "battles": 2, "wins": 0, "ties": 0, "losses": 2, "needs": "a win"},
    ]


def test_a_model_with_only_ties_needs_a_win_and_a_loss() -> None:
    battles = pd.DataFrame({"model_a": ["x"], "model_b": ["y"], "winner": ["tie"]})
    assert [record["needs"] for record in model_records(battles)] == ["a win and a loss"] * 2
    assert model_records(pd.DataFrame()) == []

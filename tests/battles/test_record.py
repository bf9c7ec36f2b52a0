"""Winner labels, the outcome mapping and the both-bad policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassarena.battles.errors import BattleDataError
from glassarena.battles.record import Battle, Winner, normalize_winners, outcomes, parse_winner


def test_lmarena_labels_and_the_hugging_face_spelling_of_both_bad() -> None:
    assert [parse_winner(label) for label in ("model_a", "model_b", "tie", "tie (bothbad)")] == [
        Winner.MODEL_A,
        Winner.MODEL_B,
        Winner.TIE,
        Winner.BOTH_BAD,
    ]
    assert parse_winner("both_bad") is Winner.BOTH_BAD
    assert Winner.BOTH_BAD == "tie (bothbad)"


@pytest.mark.parametrize("label", ["left", "Tie", "", None, "model_c"])
def test_an_unknown_label_is_an_error_naming_it(label: object) -> None:
    with pytest.raises(BattleDataError, match="unknown winner label") as caught:
        parse_winner(label, "votes.jsonl, line 7")
    assert repr(label) in str(caught.value)
    assert str(caught.value).startswith("votes.jsonl, line 7: ")


def test_normalize_names_the_row_of_the_first_unknown_label() -> None:
    labels = pd.Series(["model_a", "both_bad", "draw", "nope"])
    with pytest.raises(BattleDataError, match=r"row 3: unknown winner label 'draw'.*1 more"):
        normalize_winners(labels)
    good = normalize_winners(pd.Series(["both_bad", "tie"]))
    assert good.tolist() == ["tie (bothbad)", "tie"]


def test_outcomes_with_both_bad_as_tie_and_dropped() -> None:
    winners = pd.Series(["model_a", "model_b", "tie", "tie (bothbad)", "both_bad"])
    outcome, kept = outcomes(winners, "tie")
    np.testing.assert_array_equal(outcome, [1.0, 0.0, 0.5, 0.5, 0.5])
    assert kept.all()
    outcome, kept = outcomes(winners, "drop")
    np.testing.assert_array_equal(outcome, [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(kept, [True, True, True, False, False])


def test_outcomes_refuse_unknown_labels_and_policies() -> None:
    with pytest.raises(BattleDataError, match="row 2"):
        outcomes(["model_a", "left"])
    with pytest.raises(ValueError, match="both-bad policy"):
        outcomes(["model_a"], "ignore")  # type: ignore[arg-type]


def test_a_battle_is_frozen_checks_itself_and_becomes_a_record() -> None:
    battle = Battle("alpha", "beta", "both_bad", judge="ann", turn=2)  # type: ignore[arg-type]
    assert battle.winner is Winner.BOTH_BAD
    assert battle.outcome == 0.5
    assert battle.to_record() == {
        "model_a": "alpha",
        "model_b": "beta",
        "winner": "tie (bothbad)",
        "judge": "ann",
        "turn": 2,
    }
    with pytest.raises(AttributeError):
        battle.judge = "bob"  # type: ignore[misc]
    with pytest.raises(BattleDataError, match="cannot battle itself"):
        Battle("alpha", "alpha", Winner.TIE)

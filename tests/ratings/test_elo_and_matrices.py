"""Online Elo and the pairwise matrices."""

from __future__ import annotations

import numpy as np
import pytest

from glassarena.ratings import (
    BradleyTerry,
    OnlineElo,
    UnknownModelError,
    battle_count_matrix,
    predicted_win_matrix,
    win_fraction_matrix,
)

MODEL_A = ["x", "y", "x", "z", "y"]
MODEL_B = ["y", "x", "z", "x", "z"]
OUTCOME = [1.0, 0.5, 0.0, 0.0, 1.0]


def test_online_elo_follows_the_sequential_update() -> None:
    elo = OnlineElo(k=32.0).fit(["x", "y"], ["y", "x"], [1.0, 1.0])
    first = 1000.0 + 32.0 * 0.5
    expected_y = 1.0 / (1.0 + 10 ** ((first - (2000.0 - first)) / 400.0))
    second_change = 32.0 * (1.0 - expected_y)
    assert elo.models_.tolist() == ["x", "y"]
    np.testing.assert_allclose(
        elo.ratings_, [first - second_change, 2000.0 - first + second_change]
    )
    assert elo.ratings_.sum() == pytest.approx(2000.0)
    assert elo.predict_proba(["y"], ["x"])[0] > 0.5


def test_online_elo_depends_on_order_unlike_bradley_terry() -> None:
    forward = OnlineElo(k=32).fit(MODEL_A, MODEL_B, OUTCOME).ratings_
    backward = OnlineElo(k=32).fit(MODEL_A[::-1], MODEL_B[::-1], OUTCOME[::-1]).ratings_
    assert not np.allclose(forward, backward)


def test_matrices() -> None:
    models = ["z", "y", "x"]
    counts = battle_count_matrix(MODEL_A, MODEL_B, models)
    np.testing.assert_array_equal(counts, [[0, 1, 2], [1, 0, 2], [2, 2, 0]])
    fraction = win_fraction_matrix(MODEL_A, MODEL_B, OUTCOME, models)
    # x vs y: x won once, tied once -> 0.75; x vs z: one win each; y vs z: y won.
    assert fraction[2, 1] == pytest.approx(0.75)
    assert fraction[1, 2] == pytest.approx(0.25)
    assert fraction[2, 0] == 0.5 and fraction[0, 2] == 0.5
    assert fraction[1, 0] == 1.0 and fraction[0, 1] == 0.0
    assert np.isnan(fraction[0, 0])
    with pytest.raises(UnknownModelError, match="x"):
        battle_count_matrix(MODEL_A, MODEL_B, ["y", "z"])


def test_predicted_win_matrix_matches_predict_proba() -> None:
    a = ["x", "y", "x", "z", "y", "z", "x", "y"]
    b = ["y", "x", "z", "x", "z", "y", "y", "z"]
    outcome = [1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 0.5, 0.0]
    fitted = BradleyTerry().fit(a, b, outcome)
    matrix = predicted_win_matrix(fitted.ratings_)
    assert matrix[0, 2] == pytest.approx(fitted.predict_proba(["x"], ["z"])[0])
    np.testing.assert_allclose(matrix + matrix.T, 1.0)

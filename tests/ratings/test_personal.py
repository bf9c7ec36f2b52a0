"""The personal board's shrunk ratings: the public board without votes, moved by a few."""

from __future__ import annotations

import numpy as np
import pytest

from glassarena.ratings.errors import RatingError
from glassarena.ratings.personal import rank_correlation, shrunk_ratings

PUBLIC = np.array([1100.0, 1000.0, 900.0, 950.0])


def _fit(votes: list[tuple[int, int, float]], **options: float) -> np.ndarray:
    first, second, outcome = (np.array(column) for column in zip(*votes, strict=True))
    return shrunk_ratings(PUBLIC, first.astype(np.intp), second.astype(np.intp), outcome, **options)


def test_without_votes_the_public_board_is_kept() -> None:
    empty = np.array([], dtype=np.intp)
    assert np.allclose(shrunk_ratings(PUBLIC, empty, empty, np.array([])), PUBLIC)


def test_ten_votes_against_the_public_order_reverse_it_and_leave_the_rest() -> None:
    # The voter prefers model 2 over model 0 every time: ten votes turn the pair around, a
    # model never seen (3) does not move, and a perfect record stays finite.
    personal = _fit([(2, 0, 1.0)] * 10)
    assert personal[2] > personal[0]
    assert personal[3] == pytest.approx(950.0)
    assert np.isfinite(personal).all()
    assert rank_correlation(personal, PUBLIC) < 1.0


def test_a_vote_agreeing_with_the_board_changes_little_and_ties_pull_together() -> None:
    agreeing = _fit([(0, 2, 1.0)])
    assert 0 < agreeing[0] - PUBLIC[0] < 40
    tied = _fit([(0, 2, 0.5)] * 20)
    assert tied[0] - tied[2] < PUBLIC[0] - PUBLIC[2]


def test_a_stronger_prior_moves_less() -> None:
    weak = _fit([(2, 0, 1.0)] * 5, strength=0.5)
    strong = _fit([(2, 0, 1.0)] * 5, strength=8.0)
    assert abs(strong[2] - PUBLIC[2]) < abs(weak[2] - PUBLIC[2])


def test_rank_correlation() -> None:
    assert rank_correlation(PUBLIC, PUBLIC) == pytest.approx(1.0)
    assert rank_correlation(PUBLIC, -PUBLIC) == pytest.approx(-1.0)
    assert rank_correlation(PUBLIC[:2], PUBLIC[:2]) is None


def test_a_prior_without_strength_is_an_error() -> None:
    empty = np.array([], dtype=np.intp)
    with pytest.raises(RatingError, match="strength must be positive"):
        shrunk_ratings(PUBLIC, empty, empty, np.array([]), strength=0.0)

"""Agreement with LMArena's arena-rank (JAX) on synthetic battles with known truth."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from arena_rank.models.bradley_terry import BradleyTerry as ArenaBradleyTerry
from arena_rank.utils.data_utils import PairDataset

from glassarena.ratings import BradleyTerry

pytestmark = pytest.mark.slow  # JAX compiles on first use: more than 10 s


def _arena_rank(battles: object, hessian_reg: float = 1e-5) -> dict[str, np.ndarray]:
    frame = pd.DataFrame(
        {
            "model_a": battles.model_a,
            "model_b": battles.model_b,
            "winner": np.select(
                [battles.outcome == 1.0, battles.outcome == 0.0], ["model_a", "model_b"], "tie"
            ),
        }
    )
    dataset = PairDataset.from_pandas(frame)
    model = ArenaBradleyTerry(n_competitors=len(dataset.competitors), hessian_reg=hessian_reg)
    result = model.compute_ratings_and_cis(dataset, significance_level=0.05)
    return {key: np.asarray(value) for key, value in result.items()}


def test_ratings_and_sandwich_intervals_agree(synthetic: ModuleType) -> None:
    battles = synthetic.make_battles(30_000, 15, seed=11)
    ours = BradleyTerry().fit(battles.model_a, battles.model_b, battles.outcome)
    theirs = _arena_rank(battles)

    assert theirs["competitors"].tolist() == ours.models_.tolist()
    np.testing.assert_allclose(ours.ratings_, theirs["ratings"], atol=0.01)
    our_width = ours.upper_ - ours.lower_
    their_width = theirs["rating_upper"] - theirs["rating_lower"]
    np.testing.assert_allclose(our_width, their_width, rtol=0.01)
    # Both estimate the known truth (a sanity check on the generator, not on agreement).
    assert (
        np.mean((ours.lower_ <= battles.true_ratings) & (battles.true_ratings <= ours.upper_)) > 0.8
    )


def test_thin_model_interval_differs_only_by_arena_rank_ridge(synthetic: ModuleType) -> None:
    """arena-rank adds 1e-5 * battles to the Hessian diagonal; a thin model's interval shrinks.

    With that ridge made negligible its sandwich is ours; we use the exact pseudo-inverse.
    (Far smaller ridges break arena-rank's plain inverse numerically, hence 1e-8.)
    """
    battles = synthetic.make_battles(20_000, 12, seed=3, thin_battles=40)
    ours = BradleyTerry().fit(battles.model_a, battles.model_b, battles.outcome)
    thin = ours.models_.tolist().index("model-000")
    default = _arena_rank(battles)
    negligible = _arena_rank(battles, hessian_reg=1e-8)

    our_width = ours.upper_ - ours.lower_
    default_width = default["rating_upper"] - default["rating_lower"]
    negligible_width = negligible["rating_upper"] - negligible["rating_lower"]
    assert default_width[thin] < 0.985 * our_width[thin]
    np.testing.assert_allclose(our_width, negligible_width, rtol=0.01)
    np.testing.assert_allclose(ours.ratings_, negligible["ratings"], atol=0.01)

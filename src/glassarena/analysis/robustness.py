"""Rank fragility of a leaderboard's battles, with the leaderboard's own filters and policy.

`board_robustness(battles, options)` is what `glassarena rank --robustness` prints and what
the leaderboard JSON can carry (`Robustness.to_dict()`).
"""

from __future__ import annotations

import pandas as pd

from glassarena.battles.filters import filter_battles
from glassarena.battles.record import outcomes
from glassarena.leaderboard import LeaderboardOptions
from glassarena.ratings.fragility import Robustness, rank_fragility


def board_robustness(
    battles: pd.DataFrame, options: LeaderboardOptions, top: int = 10
) -> Robustness:
    if options.style_control or options.elo or options.reweight:
        raise ValueError(
            "rank robustness is measured on the plain Bradley-Terry board; drop "
            "--style-control, --elo and --reweight to use --robustness"
        )
    chosen = filter_battles(battles, options.where, options.category)
    outcome, kept = outcomes(chosen["winner"], options.both_bad)
    return rank_fragility(
        chosen["model_a"].to_numpy()[kept],
        chosen["model_b"].to_numpy()[kept],
        outcome,
        top=top,
        prior=options.prior,
    )

"""Pure rating statistics: numpy arrays in, numbers out (see docs/ratings.md)."""

from glassarena.ratings.bradley_terry import BradleyTerry
from glassarena.ratings.elo import OnlineElo
from glassarena.ratings.errors import (
    DisconnectedGraphError,
    EmptyInputError,
    InvalidInputError,
    InvalidOutcomeError,
    NotFittedError,
    PerfectSeparationError,
    RatingError,
    SelfBattleError,
    UnknownModelError,
)
from glassarena.ratings.matrices import (
    battle_count_matrix,
    predicted_win_matrix,
    win_fraction_matrix,
)
from glassarena.ratings.ranking import rank_from_intervals
from glassarena.ratings.style_control import StyleControlledBradleyTerry

__all__ = [
    "BradleyTerry",
    "DisconnectedGraphError",
    "EmptyInputError",
    "InvalidInputError",
    "InvalidOutcomeError",
    "NotFittedError",
    "OnlineElo",
    "PerfectSeparationError",
    "RatingError",
    "SelfBattleError",
    "StyleControlledBradleyTerry",
    "UnknownModelError",
    "battle_count_matrix",
    "predicted_win_matrix",
    "rank_from_intervals",
    "win_fraction_matrix",
]

"""Pure rating statistics: numpy arrays in, numbers out (see docs/ratings.md)."""

from glassarena.ratings.bradley_terry import BradleyTerry
from glassarena.ratings.errors import (
    DisconnectedGraphError,
    EmptyInputError,
    InvalidInputError,
    InvalidOutcomeError,
    PerfectSeparationError,
    RatingError,
    SelfBattleError,
    UnknownModelError,
)

__all__ = [
    "BradleyTerry",
    "DisconnectedGraphError",
    "EmptyInputError",
    "InvalidInputError",
    "InvalidOutcomeError",
    "PerfectSeparationError",
    "RatingError",
    "SelfBattleError",
    "UnknownModelError",
]

"""Vote screening: which votes count, decided by statistics on who voted how (pure, no I/O).

Votes are never deleted. `screen` takes a `VoteTable` (voter, IP hash, time, models,
outcome) and returns, for every vote, whether it is counted and, if not, why.
"""

from glassarena.screening.result import REASONS, ModelShift, ScreeningResult, VoterFlag
from glassarena.screening.screen import screen
from glassarena.screening.settings import ScreeningSettings
from glassarena.screening.table import ScreeningInputError, VoteTable

__all__ = [
    "REASONS",
    "ModelShift",
    "ScreeningInputError",
    "ScreeningResult",
    "ScreeningSettings",
    "VoteTable",
    "VoterFlag",
    "screen",
]

"""A voter's own board: their counted votes, shrunk toward the public board.

The public ratings are the prior's centre (ratings/personal.py), so ten votes give a sensible
order: models the voter never judged keep their public place, and each vote moves only the
two models it was about. The board covers the models of the public board; a vote involving a
model not on it (too few votes there yet) has nothing to be shrunk toward and is left out.

It is computed on request for the voter behind the cookie, never stored, and never read by
the public board. Only voted battles enter it: a battle in progress adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassarena.ratings.personal import DEFAULT_STRENGTH, rank_correlation, shrunk_ratings
from glassarena.ratings.ranking import rank_by_rating
from glassarena.storage.personal_votes import OwnVote
from glassarena.vocabulary import Winner

_OUTCOMES = {Winner.MODEL_A: 1.0, Winner.MODEL_B: 0.0, Winner.TIE: 0.5, Winner.BOTH_BAD: 0.5}


@dataclass(frozen=True, slots=True)
class PersonalRow:
    model: str
    rating: float
    rank: int
    public_rating: float
    public_rank: int
    votes: int  # the voter's votes involving this model


@dataclass(frozen=True, slots=True)
class PersonalBoard:
    category: str
    votes: int  # the voter's counted votes used
    left_out: int  # the voter's votes about a model not on the public board
    rows: tuple[PersonalRow, ...]  # best first
    rank_correlation: float | None  # Spearman, personal against public
    strength: float

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "votes": self.votes,
            "left_out": self.left_out,
            "rank_correlation": self.rank_correlation,
            "prior_strength": self.strength,
            "rows": [
                {
                    "model": row.model,
                    "rating": row.rating,
                    "rank": row.rank,
                    "public_rating": row.public_rating,
                    "public_rank": row.public_rank,
                    "votes": row.votes,
                }
                for row in self.rows
            ],
        }


def personal_board(
    category: str,
    public: Mapping[str, float],
    votes: Sequence[OwnVote],
    strength: float = DEFAULT_STRENGTH,
) -> PersonalBoard:
    """The board from `votes`, shrunk toward the `public` ratings (by model label)."""
    models = sorted(public)
    index = {model: position for position, model in enumerate(models)}
    used = [vote for vote in votes if vote.model_a in index and vote.model_b in index]
    prior = np.array([public[model] for model in models], dtype=np.float64)
    ratings = shrunk_ratings(
        prior,
        np.array([index[vote.model_a] for vote in used], dtype=np.intp),
        np.array([index[vote.model_b] for vote in used], dtype=np.intp),
        np.array([_OUTCOMES[vote.winner] for vote in used], dtype=np.float64),
        strength=strength,
    )
    involved = Counter(model for vote in used for model in (vote.model_a, vote.model_b))
    ranks, public_ranks = rank_by_rating(ratings), rank_by_rating(prior)
    rows = sorted(
        (
            PersonalRow(
                model,
                float(ratings[i]),
                int(ranks[i]),
                float(prior[i]),
                int(public_ranks[i]),
                involved[model],
            )
            for i, model in enumerate(models)
        ),
        key=lambda row: (-row.rating, row.model),
    )
    return PersonalBoard(
        category=category,
        votes=len(used),
        left_out=len(votes) - len(used),
        rows=tuple(rows),
        rank_correlation=rank_correlation(ratings, prior),
        strength=strength,
    )

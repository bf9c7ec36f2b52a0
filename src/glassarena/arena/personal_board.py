"""A voter's own board: their counted votes, shrunk toward the public board.

The public ratings are the prior's centre (ratings/personal.py), so ten votes give a sensible
order: models the voter never judged keep their public place, and each vote moves only the
two models it was about. The board covers the models of the public board; a vote involving a
model not on it (too few votes there yet) has nothing to be shrunk toward and is left out.

It is computed on request for the voter behind the cookie, never stored, and never read by
the public board. Only voted battles enter it: a battle in progress adds nothing.

The category mix (`category_mix_board`) re-weights the public per-category boards by the
voter's own mix of prompt categories: each category's weight is its share of the voter's
category tags (a counted text vote adds one to every prompt category its battle is tagged
with, so a coding prompt that is also a hard prompt counts in both), over the categories
that have a public board; each model's rating is the weighted mean of its ratings on those
boards (ratings/personal.py, `mixed_ratings`). It answers "which model suits the prompts I
actually send", from the crowd's votes: the voter's own picks do not enter it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassarena.battles.categories import category_names
from glassarena.ratings.personal import (
    DEFAULT_STRENGTH,
    mixed_ratings,
    rank_correlation,
    shrunk_ratings,
)
from glassarena.ratings.ranking import rank_by_rating
from glassarena.storage.personal_votes import OwnVote
from glassarena.vocabulary import PromptCategory, Winner

_PROMPT_CATEGORIES = frozenset(PromptCategory)
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


@dataclass(frozen=True, slots=True)
class MixRow:
    model: str
    rating: float
    rank: int
    public_rating: float | None  # on the whole text board; None when not on it
    public_rank: int | None


@dataclass(frozen=True, slots=True)
class CategoryMix:
    votes: int  # the voter's counted text votes with at least one prompt category
    weights: tuple[tuple[str, float], ...]  # (category, weight), heaviest first; sum 1
    unrated: tuple[str, ...]  # categories of the voter's votes with no public board yet
    rows: tuple[MixRow, ...]  # best first
    rank_correlation: float | None  # Spearman, against the whole text board

    def to_json(self) -> dict[str, Any]:
        return {
            "votes": self.votes,
            "weights": dict(self.weights),
            "unrated_categories": list(self.unrated),
            "rank_correlation": self.rank_correlation,
            "rows": [
                {
                    "model": row.model,
                    "rating": row.rating,
                    "rank": row.rank,
                    "public_rating": row.public_rating,
                    "public_rank": row.public_rank,
                }
                for row in self.rows
            ],
        }


def category_counts(tags: Iterable[Mapping[str, Any] | None]) -> tuple[Counter[str], int]:
    """How many of the tags put a vote in each prompt category, and how many tags name any."""
    counts: Counter[str] = Counter()
    tagged = 0
    for tag in tags:
        names = category_names(tag) & _PROMPT_CATEGORIES
        counts.update(names)
        tagged += bool(names)
    return counts, tagged


def category_mix_board(
    boards: Mapping[str, Mapping[str, float]],
    counts: Mapping[str, int],
    public: Mapping[str, float],
    votes: int,
) -> CategoryMix | None:
    """The public category `boards` (category -> model -> rating) weighted by the voter's
    category `counts`, next to the whole `public` text board; None when none of the voter's
    categories has a board."""
    usable = {category: n for category, n in counts.items() if n > 0 and category in boards}
    if not usable:
        return None
    total = sum(usable.values())
    weights = tuple(
        (category, n / total)
        for category, n in sorted(usable.items(), key=lambda item: (-item[1], item[0]))
    )
    models = sorted({model for category, _ in weights for model in boards[category]})
    matrix = np.array(
        [[boards[category].get(model, np.nan) for model in models] for category, _ in weights],
        dtype=np.float64,
    )
    mixed = mixed_ratings(matrix, np.array([weight for _, weight in weights]))
    ranks = rank_by_rating(mixed)
    on_public = [model for model in models if model in public]
    public_ranks = dict(
        zip(
            on_public,
            rank_by_rating(np.array([public[model] for model in on_public], dtype=np.float64)),
            strict=True,
        )
    )
    rows = sorted(
        (
            MixRow(
                model,
                float(mixed[i]),
                int(ranks[i]),
                public.get(model),
                int(public_ranks[model]) if model in public_ranks else None,
            )
            for i, model in enumerate(models)
        ),
        key=lambda row: (-row.rating, row.model),
    )
    both = [i for i, model in enumerate(models) if model in public]
    return CategoryMix(
        votes=votes,
        weights=weights,
        unrated=tuple(
            sorted(category for category, n in counts.items() if n and category not in boards)
        ),
        rows=tuple(rows),
        rank_correlation=rank_correlation(
            mixed[both], np.array([public[models[i]] for i in both], dtype=np.float64)
        ),
    )

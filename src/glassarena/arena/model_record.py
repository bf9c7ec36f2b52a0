"""Each model's record of wins, ties and losses: what a small arena can show from its first
votes, before ratings exist.

Bradley-Terry ratings are finite only when every model has both won and lost (a model that
never lost has a rating that grows without bound), so until then the board shows the record
and names what each model still lacks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from glassarena.vocabulary import Winner

NEEDS_WIN_AND_LOSS = "Each model needs at least one win and one loss before ratings exist."


def model_records(battles: pd.DataFrame) -> list[dict[str, Any]]:
    """Per model: battles, wins, ties (both kinds), losses, and what it still needs for a
    rating ("a win", "a loss", "a win and a loss", or None); most battles first."""
    if battles.empty:
        return []
    wins: Counter[str] = Counter()
    losses: Counter[str] = Counter()
    ties: Counter[str] = Counter()
    for model_a, model_b, winner in zip(
        battles["model_a"], battles["model_b"], battles["winner"], strict=True
    ):
        if winner == Winner.MODEL_A:
            wins[model_a] += 1
            losses[model_b] += 1
        elif winner == Winner.MODEL_B:
            wins[model_b] += 1
            losses[model_a] += 1
        else:
            ties[model_a] += 1
            ties[model_b] += 1
    models = set(battles["model_a"]) | set(battles["model_b"])
    return record_rows({model: (wins[model], ties[model], losses[model]) for model in models})


def record_rows(tallies: Mapping[str, tuple[int, int, int]]) -> list[dict[str, Any]]:
    """`model_records` from each model's (wins, ties, losses)."""
    records = [
        {
            "model": model,
            "battles": wins + ties + losses,
            "wins": wins,
            "ties": ties,
            "losses": losses,
            "needs": _needs(wins, losses),
        }
        for model, (wins, ties, losses) in tallies.items()
    ]
    return sorted(records, key=lambda record: (-record["battles"], record["model"]))


def _needs(wins: int, losses: int) -> str | None:
    missing = [name for name, count in (("a win", wins), ("a loss", losses)) if count == 0]
    return " and ".join(missing) or None

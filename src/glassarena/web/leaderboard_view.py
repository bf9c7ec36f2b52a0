"""Leaderboard snapshots as the pages show them: the table, the CSV, and the figures.

The refresher keeps each leaderboard as a JSON-ready dict (so Redis can share it between
workers); the figures need the Leaderboard object back, so it is rebuilt here from the dict.
Figures are drawn once per snapshot and kept, since drawing takes far longer than serving.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Literal

import numpy as np

from glassarena.arena.leaderboard_refresher import LeaderboardSnapshot
from glassarena.leaderboard import (
    Leaderboard,
    LeaderboardOptions,
    LeaderboardRow,
    StyleCoefficient,
)
from glassarena.vocabulary import CATEGORY_LABELS

PlotName = Literal["ci", "win-fraction", "battle-count", "predicted-win"]
PLOT_NAMES: tuple[str, ...] = ("ci", "win-fraction", "battle-count", "predicted-win")


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


def _matrix(values: list[list[float | None]]) -> np.ndarray:
    return np.array(
        [[np.nan if value is None else value for value in row] for row in values], dtype=float
    ).reshape(len(values), len(values))


def rebuild_leaderboard(snapshot: LeaderboardSnapshot) -> Leaderboard:
    data: dict[str, Any] = snapshot.leaderboard or {}
    return Leaderboard(
        method=data["method"],
        options=LeaderboardOptions(style_control=snapshot.style_control),
        rows=tuple(LeaderboardRow(**row) for row in data["rows"]),
        style=tuple(StyleCoefficient(**coefficient) for coefficient in data["style"]),
        battle_count=np.array(data["battle_count"], dtype=np.int64).reshape(
            len(data["models"]), len(data["models"])
        ),
        win_fraction=_matrix(data["win_fraction"]),
        predicted_win=_matrix(data["predicted_win"]),
        battles_used=data["battles_used"],
        battles_dropped=data["battles_dropped"],
        hidden_models=tuple(data["hidden_models"]),
    )


def draw_plot(snapshot: LeaderboardSnapshot, name: str) -> bytes:
    from glassarena.plots import heatmap, rating_plot

    leaderboard = rebuild_leaderboard(snapshot)
    if name == "ci":
        return rating_plot(leaderboard, "svg")
    matrix = name.replace("-", "_")
    return heatmap(leaderboard, matrix, "svg")  # type: ignore[arg-type]


class PlotCache:
    """The last few figures drawn, keyed by what they show."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._figures: OrderedDict[tuple[str, bool, int, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def figure(self, snapshot: LeaderboardSnapshot, name: str) -> bytes:
        key = (
            snapshot.category,
            snapshot.style_control,
            snapshot.watermark,
            snapshot.computed_at,
            name,
        )
        with self._lock:
            if key in self._figures:
                self._figures.move_to_end(key)
                return self._figures[key]
        figure = draw_plot(snapshot, name)
        with self._lock:
            self._figures[key] = figure
            while len(self._figures) > self._size:
                self._figures.popitem(last=False)
        return figure

"""Leaderboard snapshots as the pages show them: the table, the CSV, and the figures.

The refresher keeps each leaderboard as a JSON-ready dict (so Redis can share it between
workers); the CSV and the figures need the Leaderboard object back (`Leaderboard.from_dict`).
Figures are drawn once per snapshot and kept, since drawing takes far longer than serving.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Literal

from glassarena.arena.leaderboard_refresher import LeaderboardSnapshot
from glassarena.leaderboard import (
    Leaderboard,
)
from glassarena.vocabulary import CATEGORY_LABELS, Theme

PlotName = Literal["ci", "win-fraction", "battle-count", "predicted-win"]
PLOT_NAMES: tuple[str, ...] = ("ci", "win-fraction", "battle-count", "predicted-win")


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize())


def draw_plot(snapshot: LeaderboardSnapshot, name: str, theme: Theme) -> bytes:
    from glassarena.plots import heatmap, rating_plot

    if snapshot.leaderboard is None:
        raise ValueError(f"no leaderboard to draw: {snapshot.message}")
    leaderboard = Leaderboard.from_dict(snapshot.leaderboard)
    if name == "ci":
        return rating_plot(leaderboard, "svg", theme)
    matrix = name.replace("-", "_")
    return heatmap(leaderboard, matrix, "svg", theme)  # type: ignore[arg-type]


class PlotCache:
    """The last few figures drawn, keyed by what they show."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._figures: OrderedDict[tuple[str, bool, int, str, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def figure(self, snapshot: LeaderboardSnapshot, name: str, theme: Theme) -> bytes:
        key = (
            snapshot.category,
            snapshot.style_control,
            snapshot.watermark,
            snapshot.computed_at,
            name,
            theme,
        )
        with self._lock:
            if key in self._figures:
                self._figures.move_to_end(key)
                return self._figures[key]
        figure = draw_plot(snapshot, name, theme)
        with self._lock:
            self._figures[key] = figure
            while len(self._figures) > self._size:
                self._figures.popitem(last=False)
        return figure

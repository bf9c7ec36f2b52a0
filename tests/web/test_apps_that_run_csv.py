"""The WebDev leaderboard CSV carries the run shares as columns of the one rendering."""

from __future__ import annotations

import csv
import io

import pandas as pd

from glassarena.leaderboard import Leaderboard, LeaderboardOptions, compute_leaderboard
from glassarena.leaderboard_render import render_csv
from glassarena.web.apps_that_run import run_columns
from glassarena.webdev.summary import RunShare


def test_run_share_columns_join_the_rows_by_model() -> None:
    battles = pd.DataFrame(
        {
            "model_a": ["alpha", "beta", "gamma", "alpha", "beta", "gamma"],
            "model_b": ["beta", "gamma", "alpha", "gamma", "alpha", "beta"],
            "winner": ["model_a", "model_a", "model_b", "tie", "model_b", "tie"],
        }
    )
    board = compute_leaderboard(battles, LeaderboardOptions(ci=None))
    # The page serves the board from its JSON snapshot.
    served = Leaderboard.from_dict(board.to_dict())
    shares = {"alpha": RunShare("alpha", 4, 3, 0.75, 0.3, 0.95)}
    rows = {
        row["model"]: row
        for row in csv.DictReader(io.StringIO(render_csv(served, run_columns(shares))))
    }
    assert set(rows) == {"alpha", "beta", "gamma"}
    alpha = rows["alpha"]
    assert (alpha["apps_checked"], alpha["apps_that_run"]) == ("4", "0.75")
    assert (alpha["apps_that_run_lower"], alpha["apps_that_run_upper"]) == ("0.3", "0.95")
    assert rows["beta"]["apps_checked"] == rows["beta"]["apps_that_run"] == ""
    assert float(alpha["rating"]) == next(r.rating for r in board.rows if r.model == "alpha")

"""Leaderboards from battle tables: numbers, filters, style control and every rendering."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats import build_mapping, read_battles
from glassarena.battles.table import validate_battles
from glassarena.leaderboard import Leaderboard, LeaderboardOptions, compute_leaderboard
from glassarena.leaderboard_render import (
    json_records,
    render_csv,
    render_json,
    render_markdown,
    rich_table,
)
from glassarena.ratings import RatingError


@pytest.fixture(scope="module")
def crowd(llmfao_dir: Path) -> pd.DataFrame:
    return read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"))


def test_ratings_match_the_golden_bradley_terry_scores(
    crowd: pd.DataFrame, llmfao_dir: Path
) -> None:
    golden = pd.read_csv(llmfao_dir / "golden-scores.csv")
    strengths = golden[golden["algorithm"] == "bradley_terry"].set_index("item")["score"]
    board = compute_leaderboard(crowd, LeaderboardOptions(ci=None))
    points = 400.0 / math.log(10.0)
    top = board.rows[0]
    for row in board.rows:
        expected = points * math.log(strengths[row.model] / strengths[top.model])
        assert row.rating - top.rating == pytest.approx(expected, abs=0.05)
    assert np.mean([row.rating for row in board.rows]) == pytest.approx(1000.0)


def test_rows_counts_and_matrices_agree(crowd: pd.DataFrame) -> None:
    board = compute_leaderboard(crowd)
    assert board.battles_used == len(crowd) and board.battles_dropped == 0
    assert sum(row.battles for row in board.rows) == 2 * len(crowd)
    for row in board.rows:
        assert row.wins + row.ties + row.losses == row.battles
        assert row.lower < row.rating < row.upper
    ratings = [row.rating for row in board.rows]
    assert ratings == sorted(ratings, reverse=True)
    n = len(board.rows)
    assert (
        board.battle_count.shape == board.win_fraction.shape == board.predicted_win.shape == (n, n)
    )
    np.testing.assert_array_equal(board.battle_count, board.battle_count.T)
    assert board.battle_count.sum() == 2 * len(crowd)
    met = board.battle_count > 0
    np.testing.assert_allclose((board.win_fraction + board.win_fraction.T)[met], 1.0)
    gpt4 = board.models.index("GPT 4")
    assert board.rows[gpt4].wins == int(
        ((crowd["model_a"] == "GPT 4") & (crowd["winner"] == "model_a")).sum()
        + ((crowd["model_b"] == "GPT 4") & (crowd["winner"] == "model_b")).sum()
    )


def _toy(winners: list[str]) -> pd.DataFrame:
    pairs = [("a", "b"), ("b", "c"), ("c", "a")] * (len(winners) // 3 + 1)
    return validate_battles(
        pd.DataFrame(
            {
                "model_a": [p[0] for p in pairs[: len(winners)]],
                "model_b": [p[1] for p in pairs[: len(winners)]],
                "winner": winners,
                "language": ["English", "German"] * (len(winners) // 2)
                + ["English"] * (len(winners) % 2),
            }
        )
    )


# Pairs cycle a-b, b-c, c-a, so every pair sees a win each way and a tie of some kind.
MIXED = [
    "model_a",
    "model_b",
    "tie",
    "model_b",
    "model_a",
    "model_a",
    "tie (bothbad)",
    "tie",
    "model_b",
]


def test_both_bad_policy() -> None:
    as_tie = compute_leaderboard(_toy(MIXED * 2), LeaderboardOptions(both_bad="tie"))
    dropped = compute_leaderboard(_toy(MIXED * 2), LeaderboardOptions(both_bad="drop"))
    assert as_tie.battles_used == 18 and as_tie.battles_dropped == 0
    assert dropped.battles_used == 16 and dropped.battles_dropped == 2
    assert sum(row.ties for row in as_tie.rows) == 2 * 6
    assert sum(row.ties for row in dropped.rows) == 2 * 4


def test_where_and_min_battles(crowd: pd.DataFrame) -> None:
    board = compute_leaderboard(crowd, LeaderboardOptions(min_battles=500, ci="sandwich"))
    assert all(row.battles >= 500 for row in board.rows)
    assert len(board.rows) + len(board.hidden_models) == 59
    assert min(row.rank for row in board.rows) == 1
    assert board.battle_count.shape == (len(board.rows), len(board.rows))
    english = compute_leaderboard(
        _toy(MIXED * 2), LeaderboardOptions(where={"language": "English"})
    )
    assert english.battles_used == 9
    with pytest.raises(BattleDataError, match="no model has at least 1000 battles"):
        compute_leaderboard(_toy(MIXED * 2), LeaderboardOptions(min_battles=1000))


def test_bootstrap_is_seeded_reports_progress_and_rank_intervals(crowd: pd.DataFrame) -> None:
    calls: list[tuple[int, int]] = []
    options = LeaderboardOptions(ci="bootstrap", rounds=40, seed=7)
    first = compute_leaderboard(
        crowd, options, progress=lambda done, total: calls.append((done, total))
    )
    second = compute_leaderboard(crowd, options)
    assert [row.lower for row in first.rows] == [row.lower for row in second.rows]
    assert calls and calls[-1] == (40, 40)
    assert all(row.rank_lower <= row.rank_upper for row in first.rows)


def test_anchor_pins_a_model(crowd: pd.DataFrame) -> None:
    board = compute_leaderboard(crowd, LeaderboardOptions(anchor=("Weaver 12k", 1200.0)))
    weaver = next(row for row in board.rows if row.model == "Weaver 12k")
    assert weaver.rating == pytest.approx(1200.0)


def test_style_control_finds_a_planted_length_effect() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    models = np.array(["m1", "m2", "m3", "m4"])
    first = rng.integers(0, 4, n)
    second = (first + rng.integers(1, 4, n)) % 4
    tokens_a, tokens_b = rng.integers(50, 800, n), rng.integers(50, 800, n)
    length = (tokens_a - tokens_b) / (tokens_a + tokens_b + 1)
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-3.0 * length))

    def counts(key: str, high: int) -> list[dict[str, int]]:
        return [{key: int(value)} for value in rng.integers(0, high, n)]

    frame = validate_battles(
        pd.DataFrame(
            {
                "model_a": models[first],
                "model_b": models[second],
                "winner": np.where(won, "model_a", "model_b"),
                "sum_assistant_a_tokens": tokens_a,
                "sum_assistant_b_tokens": tokens_b,
                "header_count_a": counts("h1", 3),
                "header_count_b": counts("h1", 3),
                "list_count_a": counts("ordered", 4),
                "list_count_b": counts("ordered", 4),
                "bold_count_a": counts("**", 5),
                "bold_count_b": counts("**", 5),
            }
        )
    )
    plain = compute_leaderboard(frame)
    controlled = compute_leaderboard(frame, LeaderboardOptions(style_control=True))
    assert controlled.method == "style-controlled Bradley-Terry" and not plain.style
    coefficients = {c.feature: c for c in controlled.style}
    assert list(coefficients) == ["tokens", "headers", "lists", "bold"]
    assert coefficients["tokens"].coefficient > 0.5
    assert coefficients["tokens"].lower > 0
    assert abs(coefficients["bold"].coefficient) < 0.15
    assert all("style_coefficients" in record for record in json_records(controlled))


def test_online_elo_view(crowd: pd.DataFrame) -> None:
    board = compute_leaderboard(crowd, LeaderboardOptions(elo=True))
    assert board.method == "online Elo"
    assert all(row.lower is None and row.rank_lower is None for row in board.rows)
    assert [row.rank for row in board.rows][:3] == [1, 2, 3]
    with pytest.raises(ValueError, match="cannot be combined with Elo"):
        LeaderboardOptions(elo=True, style_control=True)


def test_unratable_battles_raise_rating_errors() -> None:
    with pytest.raises(RatingError, match="infinite"):
        compute_leaderboard(_toy(["model_a", "model_a", "model_b"] * 2))


def test_renderings(crowd: pd.DataFrame) -> None:
    board = compute_leaderboard(crowd, LeaderboardOptions(ci="bootstrap", rounds=20, seed=1))
    records = json.loads(render_json(board))
    assert len(records) == 59
    assert {"model", "rating", "lower", "upper", "rank", "battles"} <= set(records[0])
    rows = list(csv.DictReader(io.StringIO(render_csv(board))))
    assert rows[0]["model"] == records[0]["model"] and float(rows[0]["rating"]) == pytest.approx(
        records[0]["rating"]
    )
    markdown = render_markdown(board).splitlines()
    assert markdown[0].startswith("| rank | model | rating | interval | rank interval |")
    assert len(markdown) == 2 + 59
    everything = json.loads(json.dumps(board.to_dict(), allow_nan=False))
    assert everything["models"] == board.models and everything["win_fraction"][0][0] is None
    console = Console(file=io.StringIO(), width=200)
    console.print(rich_table(board))
    assert "GPT 4" in console.file.getvalue()


def test_csv_takes_extra_columns_by_model(crowd: pd.DataFrame) -> None:
    board = compute_leaderboard(crowd, LeaderboardOptions(ci=None))
    best, second = board.models[:2]
    table = render_csv(board, {"apps_that_run": {best: 0.5}, "note": {second: "x"}})
    rows = list(csv.DictReader(io.StringIO(table)))
    assert list(rows[0])[-2:] == ["apps_that_run", "note"]
    assert (rows[0]["apps_that_run"], rows[0]["note"]) == ("0.5", "")
    assert (rows[1]["apps_that_run"], rows[1]["note"]) == ("", "x")
    assert rows[0]["lower"] == ""  # no interval: an empty cell, not "None"


def test_to_dict_and_back(crowd: pd.DataFrame) -> None:
    options = LeaderboardOptions(anchor=("GPT 4", 1200.0), where={"question_id": "8"}, prior=1.0)
    board = compute_leaderboard(crowd, options)
    again = Leaderboard.from_dict(json.loads(json.dumps(board.to_dict())))
    assert again.rows == board.rows and again.options == board.options
    np.testing.assert_array_equal(again.win_fraction, board.win_fraction)
    np.testing.assert_array_equal(again.battle_count, board.battle_count)

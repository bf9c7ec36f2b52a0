"""WebDev style control: code blocks and code lines join LMArena's four style features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassarena.battles.errors import BattleDataError
from glassarena.battles.style_features import (
    CODE_STYLE_FEATURES,
    STYLE_FEATURES,
    code_style_features,
)
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard


def webdev_battles(count: int = 400, seed: int = 7) -> pd.DataFrame:
    """Battles where the side with more code lines tends to win, whoever the model is."""
    rng = np.random.default_rng(seed)
    models = np.array(["alpha", "beta", "gamma"])
    pairs = rng.choice(3, size=(count, 2), replace=True)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    lines_a = rng.integers(5, 200, len(pairs))
    lines_b = rng.integers(5, 200, len(pairs))
    more_code_wins = rng.random(len(pairs)) < 1 / (1 + np.exp(-(lines_a - lines_b) / 40))
    frame = pd.DataFrame(
        {
            "model_a": models[pairs[:, 0]],
            "model_b": models[pairs[:, 1]],
            "winner": np.where(more_code_wins, "model_a", "model_b"),
        }
    )
    for side, lines in (("a", lines_a), ("b", lines_b)):
        frame[f"sum_assistant_{side}_tokens"] = rng.integers(100, 2000, len(pairs))
        frame[f"header_count_{side}"] = rng.integers(0, 4, len(pairs))
        frame[f"list_count_{side}"] = rng.integers(0, 6, len(pairs))
        frame[f"bold_count_{side}"] = rng.integers(0, 3, len(pairs))
        frame[f"code_block_count_{side}"] = rng.integers(1, 4, len(pairs))
        frame[f"code_line_count_{side}"] = lines
    return frame


def test_code_features_follow_the_four_lmarena_features() -> None:
    features_a, features_b, names = code_style_features(webdev_battles(50))
    assert names == (*STYLE_FEATURES, *CODE_STYLE_FEATURES)
    assert features_a.shape[1] == features_b.shape[1] == 6


def test_code_style_control_estimates_the_code_effect() -> None:
    board = compute_leaderboard(
        webdev_battles(), LeaderboardOptions(style_control=True, code_style=True)
    )
    effects = {coefficient.feature: coefficient for coefficient in board.style}
    assert set(effects) == {*STYLE_FEATURES, *CODE_STYLE_FEATURES}
    assert effects["code_lines"].coefficient > 0
    assert effects["code_lines"].lower is not None and effects["code_lines"].lower > 0


def test_battles_without_code_counts_are_a_clear_error() -> None:
    battles = webdev_battles(50).drop(columns=["code_line_count_b"])
    with pytest.raises(BattleDataError, match="code_line_count_b"):
        code_style_features(battles)

"""Style-control features of a battle table: LMArena's four, and WebDev's code size.

The style columns (see `table.STYLE_COLUMNS`) are counted from the conversations where a
file does not bring them; the features are raw counts, and scaling them is the estimator's
job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.style import conversation_style
from glassarena.battles.table import CODE_COLUMNS, STYLE_COLUMNS, is_missing
from glassarena.battles.tone import TONE_FEATURES, tone_columns

# The four style-control features, in LMArena's order.
STYLE_FEATURES = ("tokens", "headers", "lists", "bold")
# WebDev style control: the size of each side's code beside LMArena's four features, so that
# a rating is not just a reward for writing more code.
CODE_STYLE_FEATURES = ("code_blocks", "code_lines")
# Every style count a battle can carry, in the order the features read them: LMArena's four
# of side a and of side b (`style_features`), then the code counts (`code_style_features`).
STYLE_TOTALS: tuple[str, ...] = (*STYLE_COLUMNS, *CODE_COLUMNS)


def with_style(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with LMArena style columns computed from the conversations where absent."""
    if all(column in frame.columns for column in STYLE_COLUMNS):
        return frame
    if "conversation_a" not in frame.columns or "conversation_b" not in frame.columns:
        raise BattleDataError(
            "style control needs the style columns "
            f"({', '.join(STYLE_COLUMNS)}) or conversation_a/conversation_b to count them from"
        )
    styles = pd.DataFrame.from_records(
        [
            conversation_style(a, b)
            for a, b in zip(frame["conversation_a"], frame["conversation_b"], strict=True)
        ],
        index=frame.index,
    )
    frame = frame.copy()
    for column in styles.columns:
        frame[column] = styles[column]
    return frame


def style_features(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The four LMArena style features of each side: `(features_a, features_b, names)`.

    Features are raw counts: answer tokens, headers (h1..h6 summed), list items (ordered
    and unordered) and bold runs (`**` and `__`); scaling them is the estimator's job.
    """
    missing = [column for column in STYLE_COLUMNS if column not in frame.columns]
    if missing:
        raise BattleDataError(
            f"style control needs the style column(s) {', '.join(missing)}; "
            f"give battles with LMArena conv_metadata or with conversations to count them from"
        )
    sides = []
    for side in ("a", "b"):
        columns = (
            f"sum_assistant_{side}_tokens",
            f"header_count_{side}",
            f"list_count_{side}",
            f"bold_count_{side}",
        )
        # Battles x features in column order: each column is converted straight into its
        # place, and the estimator reads a feature's counts from contiguous memory.
        features = np.empty((len(frame), len(columns)), order="F")
        for index, column in enumerate(columns):
            features[:, index] = _totals(frame[column], column)
        sides.append(features)
    return sides[0], sides[1], STYLE_FEATURES


def _totals(values: pd.Series, column: str) -> np.ndarray:
    """A style column's counts: integers as they are (they cannot be missing), otherwise
    as floats, checked to be present."""

    def total(value: Any) -> float:
        if isinstance(value, Mapping):
            return float(sum(count or 0 for count in value.values()))
        return math.nan if is_missing(value) else float(value)

    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        # Counts already totalled (as a parquet file read for ranking gives them): no copy.
        return values.to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype):
        totals = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        totals = np.fromiter((total(value) for value in values), dtype=float, count=len(values))
    bad = np.flatnonzero(~np.isfinite(totals))
    if len(bad):
        raise BattleDataError(
            f"style column {column} is missing in {len(bad)} battle(s), "
            f"first at row {int(bad[0]) + 1}"
        )
    return totals


def with_tone(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with emoji and sentiment columns (battles/tone.py) counted where absent.

    Battles with no counts and no conversations to count them from are even in tone."""
    columns = [f"{name}_{side}" for side in ("a", "b") for name in ("emoji_count", "sentiment")]
    conversations = "conversation_a" in frame.columns and "conversation_b" in frame.columns
    if all(column in frame.columns for column in columns):
        if not frame[columns].isna().to_numpy().any():
            return frame
        if not conversations:
            # Battles whose tone was never counted, in a table without their texts (the
            # live boards once tone control is switched on): even in tone, no emoji and a
            # neutral sentiment on both sides, so they say nothing about the tone features.
            frame = frame.copy()
            for column in columns:
                frame[column] = frame[column].fillna(0).astype(float)
            return frame
    if not conversations:
        raise BattleDataError(
            f"tone control needs the columns {', '.join(columns)} or "
            f"conversation_a/conversation_b to count them from"
        )
    tones = pd.DataFrame.from_records(
        [
            tone_columns(a, "a") | tone_columns(b, "b")
            for a, b in zip(frame["conversation_a"], frame["conversation_b"], strict=True)
        ],
        index=frame.index,
    )
    frame = frame.copy()
    for column in tones.columns:
        frame[column] = tones[column]
    return frame


def with_tone_features(
    features: tuple[np.ndarray, np.ndarray, tuple[str, ...]], frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """`features` with each side's emoji count and sentiment added (from `with_tone`)."""
    features_a, features_b, names = features
    tone = [
        np.column_stack(
            [
                _totals(frame[f"emoji_count_{side}"], f"emoji_count_{side}"),
                # Shifted from [-1, 1] to [0, 2]: the estimator's (a - b) / (a + b + 1)
                # difference needs non-negative features (a = b = -0.5 would divide by 0).
                _totals(frame[f"sentiment_{side}"], f"sentiment_{side}") + 1.0,
            ]
        )
        for side in ("a", "b")
    ]
    return (
        np.hstack([features_a, tone[0]]),
        np.hstack([features_b, tone[1]]),
        (*names, *TONE_FEATURES),
    )


def code_style_features(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """LMArena's four style features plus code blocks and code lines of each side."""
    features_a, features_b, names = style_features(frame)
    missing = [column for column in CODE_COLUMNS if column not in frame.columns]
    if missing:
        raise BattleDataError(
            f"code style control needs the column(s) {', '.join(missing)}; "
            f"give battles with conversations to count them from"
        )
    code = [
        np.column_stack(
            [
                _totals(frame[f"code_block_count_{side}"], f"code_block_count_{side}"),
                _totals(frame[f"code_line_count_{side}"], f"code_line_count_{side}"),
            ]
        )
        for side in ("a", "b")
    ]
    return (
        np.hstack([features_a, code[0]]),
        np.hstack([features_b, code[1]]),
        (*names, *CODE_STYLE_FEATURES),
    )

"""Selecting battles: `--where column=value` conditions and `--category`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from glassarena.battles.categories import categories_present, in_category
from glassarena.battles.errors import BattleDataError


def parse_where(conditions: Sequence[str]) -> dict[str, str]:
    """`["language=English", "judge=ann"]` as a dict; a condition without `=` is an error."""
    parsed: dict[str, str] = {}
    for condition in conditions:
        key, equals, value = condition.partition("=")
        if not equals or not key.strip():
            raise BattleDataError(f"filter {condition!r} must look like column=value")
        parsed[key.strip()] = value.strip()
    return parsed


def filter_battles(
    frame: pd.DataFrame,
    where: Mapping[str, str] | None = None,
    category: str | None = None,
) -> pd.DataFrame:
    """The battles matching every `column=value` condition and the category, if given.

    Values compare as text, except in numeric and boolean columns (`turn=1`,
    `anony=true`). For the category rule see `categories.category_names`. A filter that matches
    no battle is an error listing values that do occur.
    """
    keep = np.ones(len(frame), dtype=bool)
    for column, value in (where or {}).items():
        if column not in frame.columns:
            raise BattleDataError(
                f"cannot filter on {column!r}: no such column; "
                f"columns are {', '.join(map(str, frame.columns))}"
            )
        matched = _equal(frame[column], value, column)
        if not (keep & matched).any():
            raise BattleDataError(
                f"no battle has {column}={value!r}; values there include "
                f"{_sample(frame.loc[keep, column].map(str))}"
            )
        keep &= matched
    if category is not None:
        matched = in_category(frame, category)
        if not (keep & matched).any():
            seen = sorted(categories_present(frame.loc[keep]))
            raise BattleDataError(
                f"no battle is in category {category!r}; categories there include "
                f"{', '.join(seen[:30]) or 'none'}"
            )
        keep &= matched
    return frame.loc[keep].reset_index(drop=True)


def _equal(values: pd.Series, value: str, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        wanted = value.lower()
        if wanted not in ("true", "false", "1", "0", "yes", "no"):
            raise BattleDataError(f"{column} is true/false, got {value!r}")
        return (values == (wanted in ("true", "1", "yes"))).to_numpy()
    if pd.api.types.is_numeric_dtype(values):
        try:
            number = float(value)
        except ValueError:
            raise BattleDataError(f"{column} is numeric, got {value!r}") from None
        return (values == number).to_numpy()
    return (values.notna() & (values.astype(str) == value)).to_numpy(dtype=bool)


def _sample(values: pd.Series, limit: int = 10) -> str:
    counts = values.value_counts()
    shown = ", ".join(repr(name) for name in counts.index[:limit])
    return shown + (f" and {len(counts) - limit} more" if len(counts) > limit else "")

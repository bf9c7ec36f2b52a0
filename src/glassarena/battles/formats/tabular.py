"""Comma-separated battles: one row per battle, nested values written as JSON text.

Any CSV of pairwise votes reads with a column mapping (`--preset llmfao` for the shipped
LLMFAO comparisons). Error locations count the header as line 1, so the first battle is
line 2; a quoted field spanning several lines shifts the numbers after it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats.records import jsonable
from glassarena.battles.table import RowLocator, is_missing

# Columns whose cells hold JSON objects or lists in a CSV file.
NESTED_COLUMNS = frozenset(
    {
        "category_tag",
        "conversation_a",
        "conversation_b",
        "conv_metadata",
        "dedup_tag",
        *(
            f"{name}_{side}"
            for name in ("header_count", "list_count", "bold_count")
            for side in "ab"
        ),
    }
)


def read_csv(path: Path) -> tuple[pd.DataFrame, RowLocator]:
    """Read battles from CSV; every cell is text until validation gives it a type."""
    locate = RowLocator(str(path), "line", first=2)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise BattleDataError("no battles found (the file is empty)", str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise BattleDataError(f"malformed CSV: {error}", str(path)) from None
    for column in frame.columns:
        if column in NESTED_COLUMNS:
            frame[column] = _decode_json_column(frame[column], column, locate)
    return frame, locate


def _decode_json_column(values: pd.Series, column: str, locate: RowLocator) -> pd.Series:
    decoded: list[Any] = []
    for position, text in enumerate(values):
        if is_missing(text):
            decoded.append(None)
            continue
        try:
            decoded.append(json.loads(text))
        except json.JSONDecodeError as error:
            raise BattleDataError(
                f"column {column} must hold JSON, got {text[:60]!r} ({error.msg})",
                locate(position),
            ) from None
    return pd.Series(decoded, index=values.index, dtype=object)


def write_csv(frame: pd.DataFrame, target: TextIO) -> None:
    """Write battles as CSV; style counts stay flat columns, dicts and lists become JSON."""
    table = frame.copy()
    for column in table.columns:
        values = table[column]
        if values.dtype == object and (column in NESTED_COLUMNS or values.map(_is_nested).any()):
            table[column] = values.map(_encode)
    table.to_csv(target, index=False, lineterminator="\n")


def _is_nested(value: Any) -> bool:
    return isinstance(value, dict | list | np.ndarray)


def _encode(value: Any) -> Any:
    if not _is_nested(value):
        return value
    return json.dumps(jsonable(value), ensure_ascii=False)

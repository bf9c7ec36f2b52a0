"""Between the flat battle table and LMArena's nested records.

LMArena keeps style counts inside a `conv_metadata` object; the table keeps them as
columns. Reading un-nests them, writing nests them back, and nested values (dicts, lists,
numpy arrays from parquet) are turned into plain JSON-ready Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from glassarena.battles.table import CONV_METADATA_KEYS, is_missing

_METADATA = "conv_metadata"


def unnest_metadata(frame: pd.DataFrame) -> pd.DataFrame:
    """Move every key of a `conv_metadata` column into a column of its own.

    A key that clashes with an existing column is kept as `conv_metadata.<key>`.
    """
    if _METADATA not in frame.columns:
        return frame
    metadata = pd.DataFrame.from_records(
        [value if isinstance(value, dict) else {} for value in frame[_METADATA]],
        index=frame.index,
    )
    frame = frame.drop(columns=[_METADATA])
    for key in metadata.columns:
        name = key if key not in frame.columns else f"{_METADATA}.{key}"
        frame[name] = metadata[key].astype(object)
    return frame


def jsonable(value: Any) -> Any:
    """A plain Python value for JSON: numpy values become numbers and lists, times ISO text."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _column_values(values: pd.Series) -> list[Any]:
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.tolist()
    if pd.api.types.is_float_dtype(values):
        # Whole numbers in float columns (a `turn` with gaps) go back to being integers.
        return [
            None if np.isnan(number) else int(number) if number.is_integer() else number
            for number in values.tolist()
        ]
    return [None if is_missing(value) else jsonable(value) for value in values]


def iter_records(frame: pd.DataFrame, nest_metadata: bool = True) -> Iterator[dict[str, Any]]:
    """Each battle as a dict, LMArena-style; missing values are left out.

    With `nest_metadata`, the conv_metadata columns are gathered into `conv_metadata`.
    """
    columns = [str(column) for column in frame.columns]
    nested = (
        {column for column in columns if column in CONV_METADATA_KEYS} if nest_metadata else set()
    )
    values = [_column_values(frame[column]) for column in frame.columns]
    for row in zip(*values, strict=True):
        record: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        for column, value in zip(columns, row, strict=True):
            if value is None:
                continue
            (metadata if column in nested else record)[column] = value
        if metadata:
            record[_METADATA] = metadata
        yield record

"""The Hugging Face `lmarena-ai/arena-human-preference-*` parquet layout.

Rows carry `model_a, model_b, winner` (where the both-bad verdict is spelled `both_bad`),
conversations, `category_tag`, `language`, and a `conv_metadata` struct with
`sum_assistant_a_tokens`, `header_count_a` {h1..h6}, `list_count_a` {ordered, unordered},
`bold_count_a` {`**`, `__`} and their `_b` twins. Writing produces the same layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from glassarena.battles.errors import BattleDataError
from glassarena.battles.record import Winner
from glassarena.battles.table import CONV_METADATA_KEYS, RowLocator

HF_BOTH_BAD = "both_bad"


def read_hf_parquet(path: Path) -> tuple[pd.DataFrame, RowLocator]:
    """Read a parquet file of battles (row numbers in errors count from 1)."""
    if path.stat().st_size == 0:
        raise BattleDataError("no battles found (the file is empty)", str(path))
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise BattleDataError(f"not a readable parquet file: {error}", str(path)) from None
    return table.to_pandas(), RowLocator(str(path), "row")


def write_hf_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write battles in the Hugging Face layout (`both_bad`, `conv_metadata` struct)."""
    metadata = [str(column) for column in frame.columns if column in CONV_METADATA_KEYS]
    winners = frame["winner"].astype(object).replace({Winner.BOTH_BAD.value: HF_BOTH_BAD})
    columns = {
        str(column): _arrow_column(winners if column == "winner" else frame[column], column)
        for column in frame.columns
        if column not in metadata
    }
    if metadata:
        columns["conv_metadata"] = pa.StructArray.from_arrays(
            [_arrow_column(frame[column], column) for column in metadata], names=metadata
        )
    pq.write_table(pa.table(columns), path)


def _arrow_column(values: pd.Series, column: object) -> pa.Array:
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise BattleDataError(
            f"column {column} cannot be stored in parquet, which needs one type per column: {error}"
        ) from None

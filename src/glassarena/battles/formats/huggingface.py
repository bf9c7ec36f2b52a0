"""The Hugging Face `lmarena-ai/arena-human-preference-*` parquet layout.

Rows carry `model_a, model_b, winner` (where the both-bad verdict is spelled `both_bad`),
conversations, `category_tag`, `language`, and a `conv_metadata` struct with
`sum_assistant_a_tokens`, `header_count_a` {h1..h6}, `list_count_a` {ordered, unordered},
`bold_count_a` {`**`, `__`} and their `_b` twins. Writing produces the same layout.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from glassarena.battles.errors import BattleDataError
from glassarena.battles.table import CONV_METADATA_KEYS, STYLE_COLUMNS, RowLocator
from glassarena.vocabulary import Winner

HF_BOTH_BAD = "both_bad"
_METADATA = "conv_metadata"
# Few distinct values in many rows: read as dictionary codes.
_CODED_COLUMNS = ("model_a", "model_b", "winner")
_BATCH_ROWS = 1 << 17


def read_hf_parquet(
    path: Path, columns: Collection[str] | None = None
) -> tuple[pd.DataFrame, RowLocator]:
    """Read a parquet file of battles (row numbers in errors count from 1).

    With `columns`, only those columns are read, and the `conv_metadata` keys among them
    come out as columns of their own, a count struct (`header_count_a`: h1..h6) summed into
    its total, as style control uses it. The conversations are then read only when the
    metadata lacks the style counts, since they are what the counts would be taken from.
    The model and winner columns arrive dictionary-encoded (categorical): a million names
    are decoded to a hundred distinct strings, not a million.
    """
    if path.stat().st_size == 0:
        raise BattleDataError("no battles found (the file is empty)", str(path))
    try:
        if columns is None:
            return pq.read_table(path).to_pandas(), RowLocator(str(path), "row")
        frame = _read_columns(path, set(columns)).to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise BattleDataError(f"not a readable parquet file: {error}", str(path)) from None
    # Arrow's pool keeps the decoding buffers for reuse, but what follows runs on numpy's
    # allocator: handed back, they do not stay resident (a million battles: about 90 MB).
    pa.default_memory_pool().release_unused()
    return frame, RowLocator(str(path), "row")


def _read_columns(path: Path, wanted: set[str]) -> pa.Table:
    parquet = pq.ParquetFile(path, read_dictionary=list(_CODED_COLUMNS))
    schema = parquet.schema_arrow
    metadata_type = schema.field(_METADATA).type if _METADATA in schema.names else pa.struct([])
    in_metadata = [field.name for field in metadata_type if field.name in wanted]
    has_style = all(column in in_metadata for column in STYLE_COLUMNS)
    keep = [
        name
        for name in schema.names
        if name in wanted and not (name.startswith("conversation_") and has_style)
    ]
    if not in_metadata:
        return parquet.read(columns=keep)
    # A batch of rows at a time: the metadata's counts (a million battles: 22 int64 columns,
    # 176 MB, and as much again in decoding buffers) never sit in memory all at once, only
    # the totals taken from them.
    parts = [
        _with_totals(pa.Table.from_batches([batch]), in_metadata)
        for batch in parquet.iter_batches(_BATCH_ROWS, columns=[*keep, _METADATA])
    ]
    if not parts:
        parts = [_with_totals(parquet.read(columns=[*keep, _METADATA]), in_metadata)]
    return pa.concat_tables(parts)


def _with_totals(table: pa.Table, names: list[str]) -> pa.Table:
    """The table with these metadata fields as columns of their own, the metadata dropped."""
    metadata = table.column(_METADATA).combine_chunks()
    for name in names:
        if name not in table.column_names:
            table = table.append_column(name, _total(metadata, name))
    return table.drop_columns([_METADATA])


def _total(metadata: pa.StructArray, name: str) -> pa.Array:
    """A metadata field; a struct of counts becomes their sum (missing counts are 0)."""
    field = metadata.field(name)
    if not pa.types.is_struct(field.type):
        return field
    total = pc.fill_null(field.field(0), 0)
    for index in range(1, field.type.num_fields):
        total = pc.add(total, pc.fill_null(field.field(index), 0))
    # A battle without this struct at all keeps no count, so style control names it.
    return pc.if_else(pc.is_valid(field), total, pa.scalar(None, total.type))


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

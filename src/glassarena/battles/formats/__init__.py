"""Reading and writing battle files.

Formats, detected from the file extension unless named:

* `json` (`.json`): LMArena's cleaned battle list;
* `jsonl` (`.jsonl`, `.ndjson`): one LMArena battle record per line;
* `parquet` (`.parquet`): the Hugging Face arena-human-preference layout;
* `csv` (`.csv`): one battle per row, nested values as JSON text.

Any of them can carry other column names and winner labels, given a ColumnMapping
(see `build_mapping` and the `llmfao` preset), and be joined to the answers the battles
judged where those live in files of their own (LLMFAO's results.jsonl).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats.huggingface import read_hf_parquet, write_hf_parquet
from glassarena.battles.formats.lmarena import (
    read_lmarena_json,
    read_lmarena_jsonl,
    write_lmarena_json,
    write_lmarena_jsonl,
)
from glassarena.battles.formats.mapping import PRESETS, ColumnMapping, build_mapping
from glassarena.battles.formats.records import unnest_metadata
from glassarena.battles.formats.tabular import read_csv, write_csv
from glassarena.battles.table import RowLocator, validate_battles

__all__ = [
    "FORMATS",
    "PRESETS",
    "ColumnMapping",
    "build_mapping",
    "detect_format",
    "read_battles",
    "write_battles",
    "write_lmarena_json",
    "write_lmarena_jsonl",
]

FORMATS = ("json", "jsonl", "parquet", "csv")
_EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".csv": "csv",
}
_READERS: dict[str, Callable[[Path], tuple[pd.DataFrame, RowLocator]]] = {
    "json": read_lmarena_json,
    "jsonl": read_lmarena_jsonl,
    "parquet": read_hf_parquet,
    "csv": read_csv,
}


def detect_format(path: Path | str, override: str | None = None) -> str:
    """The format named by `override`, else the one the file extension stands for."""
    if override is not None:
        if override not in FORMATS:
            raise BattleDataError(f"unknown format {override!r}; formats: {', '.join(FORMATS)}")
        return override
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise BattleDataError(
            f"cannot tell the format from the extension {suffix or '(none)'!r}; "
            f"name it with --from/--to ({', '.join(FORMATS)})",
            str(path),
        )
    return _EXTENSIONS[suffix]


def read_battles(
    path: Path | str,
    format: str | None = None,
    mapping: ColumnMapping | None = None,
    *,
    with_answers: bool = False,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and check a battle file; errors name the file and the line or row.

    `with_answers` joins each battle to the answers it judged where the mapping says how
    (the llmfao preset): conversations and style metadata, for style control. `columns`
    names the only columns the caller will use: a parquet file without a mapping then reads
    just those (see `read_hf_parquet`), which spares converting conversations and metadata
    nobody looks at.
    """
    path = Path(path)
    kind = detect_format(path, format)
    if not path.is_file():
        raise BattleDataError("no such file", str(path))
    if kind == "parquet" and mapping is None:
        frame, locate = read_hf_parquet(path, columns)
    else:
        frame, locate = _READERS[kind](path)
    if mapping is not None:
        frame = mapping.apply(frame, str(path))
    battles = validate_battles(unnest_metadata(frame), locate)
    if with_answers and mapping is not None and mapping.join_answers is not None:
        battles = mapping.join_answers(battles, path, locate)
    return battles


def write_battles(
    frame: pd.DataFrame,
    path: Path | str,
    format: str | None = None,
    mapping: ColumnMapping | None = None,
) -> None:
    """Write a battle table; with a mapping, in the mapping's column names and labels."""
    path = Path(path)
    kind = detect_format(path, format)
    if mapping is not None:
        frame = mapping.invert(frame)
    if kind == "parquet":
        write_hf_parquet(frame, path)
        return
    writer = {"json": write_lmarena_json, "jsonl": write_lmarena_jsonl, "csv": write_csv}[kind]
    with path.open("w", encoding="utf-8", newline="") as target:
        writer(frame, target)

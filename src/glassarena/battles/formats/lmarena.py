"""LMArena's cleaned battle files: a JSON list of records, or one record per line (JSONL).

A record holds `model_a, model_b, winner` and optionally `judge, turn, anony, language,
tstamp, question_id, category_tag, conversation_a, conversation_b` and a `conv_metadata`
object with the style counts. Any JSON-lines file of votes reads the same way, with a
column mapping for other names.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from glassarena.battles.errors import BattleDataError
from glassarena.battles.formats.records import iter_records
from glassarena.battles.table import RowLocator

_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def read_lmarena_json(path: Path) -> tuple[pd.DataFrame, RowLocator]:
    """Read a JSON list of battle records (LMArena's `clean_battle_*.json`)."""
    if path.stat().st_size == 0:
        raise BattleDataError("no battles found (the file is empty)", str(path))
    try:
        with path.open("rb") as stream:
            items = json.load(stream)
    except json.JSONDecodeError as error:
        raise BattleDataError(
            f"malformed JSON: {error.msg} (column {error.colno})", f"{path}, line {error.lineno}"
        ) from None
    except UnicodeDecodeError as error:
        raise BattleDataError(f"not UTF-8 text: {error.reason}", str(path)) from None
    if not isinstance(items, list):
        raise BattleDataError(
            f"expected a JSON list of battle records, found a {type(items).__name__}; "
            f"use --from jsonl for one record per line",
            str(path),
        )
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise BattleDataError(
                f"expected a battle record (JSON object), found {json.dumps(item)[:80]}",
                f"{path}, item {number}",
            )
    return pd.DataFrame.from_records(items), RowLocator(str(path), "item")


def read_lmarena_jsonl(path: Path) -> tuple[pd.DataFrame, RowLocator]:
    """Read one battle record per line; blank lines are skipped, line numbers kept.

    Flat files (no nested values) are parsed by Arrow, which reads a million votes in about
    a second; files with nested values are parsed record by record so nothing is reshaped.
    """
    data = path.read_bytes()
    if not data or data.isspace():
        raise BattleDataError("no battles found (the file is empty)", str(path))
    locate = RowLocator(str(path), "line", _record_line_numbers(data))
    try:
        table = pa_json.read_json(io.BytesIO(data))
    except pa.ArrowInvalid:
        table = None
    if table is not None and all(_is_flat(field.type) for field in table.schema):
        return table.to_pandas(), locate
    return pd.DataFrame.from_records(_parse_lines(path, data)), locate


def _is_flat(kind: pa.DataType) -> bool:
    return not (pa.types.is_nested(kind) or pa.types.is_null(kind))


def _record_line_numbers(data: bytes) -> np.ndarray | None:
    """1-based line numbers of the non-blank lines, or None when no line is blank."""
    # Blank lines at the very end shift no line number, so they need no table.
    end = len(data)
    while end and data[end - 1 : end].isspace():
        end -= 1
    if not (data[:1].isspace() or _BLANK_LINE.search(data, 0, end)):
        return None
    return np.array(
        [number for number, line in enumerate(data.split(b"\n"), start=1) if line.strip()],
        dtype=np.int64,
    )


def _parse_lines(path: Path, data: bytes) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8 text"
            raise BattleDataError(f"malformed JSON: {reason}", f"{path}, line {number}") from None
        if not isinstance(record, dict):
            shown = line[:80].decode(errors="replace")
            raise BattleDataError(
                f"expected a battle record (JSON object), found {shown}", f"{path}, line {number}"
            )
        records.append(record)
    return records


def write_lmarena_json(frame: pd.DataFrame, target: TextIO, indent: int | None = None) -> None:
    """Write battles as LMArena's JSON list, style counts nested in `conv_metadata`."""
    target.write("[")
    for number, record in enumerate(iter_records(frame)):
        target.write(",\n" if number else "\n")
        target.write(json.dumps(record, ensure_ascii=False, indent=indent))
    target.write("\n]\n")


def write_lmarena_jsonl(frame: pd.DataFrame, target: TextIO) -> None:
    """Write one LMArena battle record per line."""
    for record in iter_records(frame):
        target.write(json.dumps(record, ensure_ascii=False))
        target.write("\n")

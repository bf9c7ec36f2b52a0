"""The canonical battle table: its columns, and the one check every table passes through.

Every path to a battle table (the file formats, the arena's counted votes) ends in
`validate_battles`; filters live in `filters.py`, categories in `categories.py` and style
features in `style_features.py`.

Columns: `model_a, model_b, winner` (LMArena labels), optional `judge, turn, anony,
language, tstamp, question_id, category, category_tag, conversation_a, conversation_b`,
and the style columns named as LMArena's `conv_metadata` keys. Any other column a file
brings along is kept, so converting between formats loses nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.record import normalize_winners

REQUIRED_COLUMNS = ("model_a", "model_b", "winner")
OPTIONAL_COLUMNS = (
    "judge",
    "turn",
    "anony",
    "language",
    "tstamp",
    "question_id",
    "category",
    "category_tag",
    "conversation_a",
    "conversation_b",
)
STYLE_COLUMNS = (
    "sum_assistant_a_tokens",
    "header_count_a",
    "list_count_a",
    "bold_count_a",
    "sum_assistant_b_tokens",
    "header_count_b",
    "list_count_b",
    "bold_count_b",
)
CODE_COLUMNS = (
    "code_block_count_a",
    "code_line_count_a",
    "code_block_count_b",
    "code_line_count_b",
)
# Keys LMArena keeps inside `conv_metadata`; the formats nest and un-nest exactly these.
CONV_METADATA_KEYS = (
    "sum_user_tokens",
    *STYLE_COLUMNS,
    "context_a_tokens",
    "context_b_tokens",
    "turns",
    *CODE_COLUMNS,
)
# The four style-control features, in LMArena's order.
# Columns that must hold numbers (text from CSV is converted), and true/false flags.
_NUMERIC_COLUMNS = (
    "turn",
    "tstamp",
    "sum_user_tokens",
    "sum_assistant_a_tokens",
    "sum_assistant_b_tokens",
    "context_a_tokens",
    "context_b_tokens",
    "turns",
    *CODE_COLUMNS,
)
_FLAG_COLUMNS = ("anony",)
_FLAG_WORDS = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True, slots=True)
class RowLocator:
    """Names the place of a row for error messages: "votes.csv, line 12".

    `numbers[i]` is the line (or row, or item) number of positional row `i`; without it,
    rows are numbered from `first`.
    """

    source: str
    unit: str = "row"
    numbers: np.ndarray | None = None
    first: int = 1

    def __call__(self, position: int) -> str:
        number = int(self.numbers[position]) if self.numbers is not None else position + self.first
        return f"{self.source}, {self.unit} {number}"


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing markers; False for lists and dicts."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def validate_battles(frame: pd.DataFrame, locate: RowLocator | None = None) -> pd.DataFrame:
    """Check a battle table and return it with canonical winner labels.

    Raises BattleDataError naming the file and line (through `locate`) of the first bad row:
    no rows, a missing column, a missing model name, an unknown winner label, a model battling
    itself, a non-numeric `turn`, `tstamp` or token count, or an `anony` that is not a flag.
    """
    locate = locate or RowLocator("battles")
    source = locate.source
    if frame.empty:
        raise BattleDataError("no battles found (there are no rows)", source)
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise BattleDataError(
            f"missing column(s) {', '.join(missing)}; found columns: {found} "
            f"(map columns with --columns or a --preset)",
            source,
        )
    others = [column for column in frame.columns if column not in REQUIRED_COLUMNS]
    frame = frame[[*REQUIRED_COLUMNS, *others]].reset_index(drop=True)
    codes = _model_codes(frame, locate)
    frame["winner"] = normalize_winners(frame["winner"], locate)
    itself = np.flatnonzero(codes[0] == codes[1])
    if len(itself):
        first = int(itself[0])
        more = f" ({len(itself) - 1} more such rows)" if len(itself) > 1 else ""
        raise BattleDataError(
            f"model {frame['model_a'].iloc[first]!r} battles itself{more}", locate(first)
        )
    for column in _NUMERIC_COLUMNS:
        if column in frame.columns:
            frame[column] = _numeric(frame[column], column, locate)
    for column in _FLAG_COLUMNS:
        if column in frame.columns and not pd.api.types.is_bool_dtype(frame[column]):
            frame[column] = _flags(frame[column], column, locate)
    return frame


def model_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[object]]:
    """Each side's model as an index into the sorted distinct names (-1 where missing).

    Each column is encoded once (a categorical column from a dictionary-encoded file costs
    nothing), then only the few distinct names are merged and sorted, as the estimators
    sort them (Python's order), so the codes index their `models_` too.
    """
    codes_a, names_a = pd.factorize(frame["model_a"])
    codes_b, names_b = pd.factorize(frame["model_b"])
    names = list(names_a) + list(names_b)
    distinct = sorted(set(names), key=str)
    position = {name: index for index, name in enumerate(distinct)}
    # One slot more, for pandas' -1 "missing" code, which must stay -1.
    remap = np.array([position[name] for name in names] + [-1], dtype=np.intp)
    return remap[codes_a], remap[np.where(codes_b < 0, -1, codes_b + len(names_a))], distinct


def _model_codes(frame: pd.DataFrame, locate: RowLocator) -> tuple[np.ndarray, np.ndarray]:
    """Check and canonicalise both model columns as text; return each side's codes."""
    codes_a, codes_b, names = model_codes(frame)
    text = np.array([str(name) for name in names], dtype=object)
    # The extra last slot is where the -1 of a missing name points.
    blank = np.array([not name.strip() for name in text] + [True], dtype=bool)
    for side, codes in (("model_a", codes_a), ("model_b", codes_b)):
        empty = blank[codes]
        if empty.any():
            raise BattleDataError(f"{side} is empty", locate(int(np.flatnonzero(empty)[0])))
    if not all(isinstance(name, str) for name in names):
        frame["model_a"] = text[codes_a]
        frame["model_b"] = text[codes_b]
    else:
        for side in ("model_a", "model_b"):
            # Text stays as it is: object strings, or categorical (decoded once per name).
            dtype = frame[side].dtype
            if not pd.api.types.is_object_dtype(dtype) and not isinstance(
                dtype, pd.CategoricalDtype
            ):
                frame[side] = frame[side].astype(object)
    return codes_a, codes_b


def _flags(values: pd.Series, column: str, locate: RowLocator) -> pd.Series:
    def flag(value: Any) -> Any:
        if is_missing(value) or isinstance(value, bool | np.bool_):
            return value
        return _FLAG_WORDS.get(str(value).strip().lower())

    flags = values.map(flag)
    bad = np.flatnonzero((flags.isna() & values.notna()).to_numpy())
    if len(bad):
        first = int(bad[0])
        raise BattleDataError(
            f"{column} must be true or false, got {values.iloc[first]!r}", locate(first)
        )
    return flags.astype(bool) if not flags.isna().any() else flags.astype(object)


def _numeric(values: pd.Series, column: str, locate: RowLocator) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero((numbers.isna() & values.notna()).to_numpy())
    if len(bad):
        first = int(bad[0])
        raise BattleDataError(
            f"{column} must be a number, got {values.iloc[first]!r}", locate(first)
        )
    return numbers

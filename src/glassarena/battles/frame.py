"""The canonical battle table: one pandas row per battle, checked once, then filtered.

Columns: `model_a, model_b, winner` (LMArena labels), optional `judge, turn, anony,
language, tstamp, question_id, category, category_tag, conversation_a, conversation_b`,
and the style columns named as LMArena's `conv_metadata` keys. Any other column a file
brings along is kept, so converting between formats loses nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.record import Battle, normalize_winners
from glassarena.battles.style import conversation_style

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
STYLE_FEATURES = ("tokens", "headers", "lists", "bold")
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
    for side in ("model_a", "model_b"):
        names = frame[side].astype(object)
        text = names.astype(str)
        empty = names.isna().to_numpy() | (text.str.strip() == "").to_numpy()
        if empty.any():
            raise BattleDataError(f"{side} is empty", locate(int(np.flatnonzero(empty)[0])))
        frame[side] = text.astype(object)
    frame["winner"] = normalize_winners(frame["winner"], locate)
    itself = np.flatnonzero((frame["model_a"] == frame["model_b"]).to_numpy())
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


def battles_to_frame(battles: Iterable[Battle]) -> pd.DataFrame:
    """A battle table from Battle records (for storage and the web arena)."""
    frame = pd.DataFrame.from_records([battle.to_record() for battle in battles])
    return validate_battles(frame, RowLocator("battles", "battle"))


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
        sides.append(np.column_stack([_totals(frame[column], column) for column in columns]))
    return sides[0], sides[1], STYLE_FEATURES


def _totals(values: pd.Series, column: str) -> np.ndarray:
    def total(value: Any) -> float:
        if isinstance(value, Mapping):
            return float(sum(count or 0 for count in value.values()))
        return math.nan if is_missing(value) else float(value)

    totals = np.fromiter((total(value) for value in values), dtype=float, count=len(values))
    bad = np.flatnonzero(~np.isfinite(totals))
    if len(bad):
        raise BattleDataError(
            f"style column {column} is missing in {len(bad)} battle(s), "
            f"first at row {int(bad[0]) + 1}"
        )
    return totals


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
    `anony=true`). For the category rule see `category_names`. A filter that matches
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
        matched = _in_category(frame, category)
        if not (keep & matched).any():
            seen = sorted(_all_category_names(frame.loc[keep]))
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


_VERSION_SUFFIX = re.compile(r"_v\d+(\.\d+)*$")


def category_names(tag: Any) -> set[str]:
    """The category names a battle's `category_tag` puts it in.

    * a list of strings: each string;
    * a dict: every key whose value is `True`, by its bare key and by its path of keys
      joined with "/" (`{"criteria_v0.1": {"math": True}}` gives `math` and
      `criteria_v0.1/math`); nested dicts are walked;
    * a versioned group such as `math_v0.1` or `creative_writing_v0.1` also counts as a
      name when its flag of the same bare name (`math`, `creative_writing`) is `True`.

    Non-boolean values (scores such as `"score": 4`) never make a battle part of a category.
    """
    if is_missing(tag):
        return set()
    if isinstance(tag, str):
        return {tag}
    if isinstance(tag, Mapping):
        names: set[str] = set()
        _walk(tag, "", names)
        return names
    return {str(item) for item in tag if isinstance(item, str)}


def _walk(tag: Mapping[str, Any], prefix: str, names: set[str]) -> None:
    for key, value in tag.items():
        path = f"{prefix}{key}"
        if value is True or (isinstance(value, np.bool_) and bool(value)):
            names.update((key, path))
        elif isinstance(value, Mapping):
            _walk(value, f"{path}/", names)
            bare = _VERSION_SUFFIX.sub("", key)
            if bare != key and value.get(bare) is True:
                names.add(key)


def _in_category(frame: pd.DataFrame, category: str) -> np.ndarray:
    if "category" not in frame.columns and "category_tag" not in frame.columns:
        raise BattleDataError(
            f"cannot select category {category!r}: the battles have no category or "
            f"category_tag column"
        )
    matched = np.zeros(len(frame), dtype=bool)
    if "category" in frame.columns:
        matched |= frame["category"].map(lambda name: name == category).to_numpy(dtype=bool)
    if "category_tag" in frame.columns:
        matched |= (
            frame["category_tag"]
            .map(lambda tag: category in category_names(tag))
            .to_numpy(dtype=bool)
        )
    return matched


def _all_category_names(frame: pd.DataFrame) -> set[str]:
    names: set[str] = set()
    if "category" in frame.columns:
        names.update(str(name) for name in frame["category"] if not is_missing(name))
    if "category_tag" in frame.columns:
        for tag in frame["category_tag"]:
            names |= category_names(tag)
    return names


# WebDev style control: the size of each side's code beside LMArena's four features, so that
# a rating is not just a reward for writing more code.
CODE_STYLE_FEATURES = ("code_blocks", "code_lines")


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

"""Column and label mappings, so any table of pairwise votes can be read as battles.

A mapping says which source column holds each canonical column (`model_a=left`) and which
canonical label each source winner label stands for (`left=model_a`). Presets name the
mappings of known data sets, so `--preset llmfao` alone reads the shipped LLMFAO votes.
A data set that keeps the judged answers in files of their own also says how to join them
(`join_answers`), which style control needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.record import WINNER_LABELS
from glassarena.battles.table import RowLocator

# (battles, the battle file, its row locator) -> the battles with conversations and style.
AnswerJoin = Callable[[pd.DataFrame, Path, RowLocator], pd.DataFrame]


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """`columns`: canonical name -> source column; `labels`: source label -> canonical label.

    `join_answers`: for a data set whose answers live apart from its votes, how to join
    each battle to the two answers it judged. `optional`: canonical names whose source
    column may be missing (one preset serving files of one data set with and without it).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    join_answers: AnswerJoin | None = None
    optional: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for source, target in self.labels.items():
            if target not in WINNER_LABELS:
                raise BattleDataError(
                    f"label mapping {source}={target}: {target!r} is not a winner label; "
                    f"use one of {', '.join(repr(name) for name in WINNER_LABELS)}"
                )

    def apply(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        """Rename mapped source columns to canonical names and translate winner labels."""
        absent = [
            column
            for canonical, column in self.columns.items()
            if column not in frame.columns and canonical not in self.optional
        ]
        if absent:
            raise BattleDataError(
                f"mapped column(s) {', '.join(absent)} not found; columns are "
                f"{', '.join(map(str, frame.columns))}",
                source,
            )
        renamed = frame.rename(columns={old: new for new, old in self.columns.items()})
        if self.labels and "winner" in renamed.columns:
            renamed["winner"] = renamed["winner"].map(lambda label: self.labels.get(label, label))
        return renamed

    def invert(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The canonical table in the mapped layout, for writing back in the source's terms."""
        renamed = frame.rename(columns=dict(self.columns))
        if self.labels:
            back = {target: source for source, target in self.labels.items()}
            column = self.columns.get("winner", "winner")
            renamed[column] = renamed[column].map(lambda label: back.get(label, label))
        return renamed


def _join_llmfao_answers(battles: pd.DataFrame, path: Path, locate: RowLocator) -> pd.DataFrame:
    # Imported when used: it loads the recorded-answer provider (and pydantic), which
    # reading or ranking votes without their answers never needs.
    from glassarena.battles.formats.llmfao import join_llmfao_answers

    return join_llmfao_answers(battles, path, locate)


PRESETS: Mapping[str, ColumnMapping] = {
    # LLMFAO crowd and LLM-judge comparisons: left/right model names, winner left/right/tie;
    # the answers are in results.jsonl beside them. Only the crowd files have a worker column.
    "llmfao": ColumnMapping(
        columns={"model_a": "left", "model_b": "right", "judge": "worker", "question_id": "prompt"},
        labels={"left": "model_a", "right": "model_b"},
        join_answers=_join_llmfao_answers,
        optional=frozenset({"judge"}),
    ),
}


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            key, equals, value = part.partition("=")
            if not equals or not key.strip() or not value.strip():
                raise BattleDataError(f"{what} entry {part!r} must look like name=value")
            pairs[key.strip()] = value.strip()
    return pairs


def build_mapping(
    preset: str | None = None, columns: Sequence[str] = (), labels: Sequence[str] = ()
) -> ColumnMapping | None:
    """A mapping from a preset name and/or `canonical=source` and `source=label` entries.

    Entries may be repeated or comma-separated; they override the preset's. Returns None
    when nothing is mapped.
    """
    base = ColumnMapping()
    if preset is not None:
        if preset not in PRESETS:
            raise BattleDataError(
                f"unknown preset {preset!r}; presets: {', '.join(sorted(PRESETS))}"
            )
        base = PRESETS[preset]
    column_pairs = _pairs(columns, "--columns")
    label_pairs = _pairs(labels, "--labels")
    if preset is None and not column_pairs and not label_pairs:
        return None
    return ColumnMapping(
        columns={**base.columns, **column_pairs},
        labels={**base.labels, **label_pairs},
        join_answers=base.join_answers,
        # A column the user names explicitly must exist.
        optional=base.optional - column_pairs.keys(),
    )

"""One battle, its verdict, and how verdicts become the outcomes the rating core sees.

Vote labels are mapped explicitly. An unknown label is an error naming the label and where
it was found: silently turning it into a tie (as FastChat and arena-rank do) would bias
every rating that touched it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.vocabulary import Winner  # the verdict, one vocabulary with the arena

# Every spelling we accept, and what it means. Hugging Face's arena-human-preference
# parquet files write the both-bad verdict as "both_bad".
WINNER_LABELS: Mapping[str, Winner] = {
    **{winner.value: winner for winner in Winner},
    "both_bad": Winner.BOTH_BAD,
}

_CANONICAL_TEXT = {label: winner.value for label, winner in WINNER_LABELS.items()}

BothBadPolicy = Literal["tie", "drop"]
BOTH_BAD_POLICIES: tuple[BothBadPolicy, ...] = ("tie", "drop")

_OUTCOME = {Winner.MODEL_A: 1.0, Winner.MODEL_B: 0.0, Winner.TIE: 0.5, Winner.BOTH_BAD: 0.5}


def parse_winner(label: object, where: str | None = None) -> Winner:
    """The Winner a label stands for; an unknown label raises BattleDataError naming it."""
    if isinstance(label, Winner):
        return label
    if isinstance(label, str) and label in WINNER_LABELS:
        return WINNER_LABELS[label]
    raise BattleDataError(_unknown_label_message(label), where)


def _unknown_label_message(label: object) -> str:
    known = ", ".join(repr(name) for name in WINNER_LABELS)
    return (
        f"unknown winner label {label!r}; expected one of {known} "
        f"(map other labels with --labels or a --preset)"
    )


def normalize_winners(labels: pd.Series, locate: Callable[[int], str] | None = None) -> pd.Series:
    """Map a column of labels to canonical Winner values, vectorised.

    `locate(position)` names the line or row of the first unknown label for the error.
    """
    if isinstance(labels.dtype, pd.CategoricalDtype):
        # Dictionary-encoded labels: map the few categories, then spread them by code.
        meaning = [_CANONICAL_TEXT.get(label) for label in labels.cat.categories]
        lookup = np.array([*meaning, None], dtype=object)  # code -1 (missing) -> None
        canonical = pd.Series(lookup[labels.cat.codes.to_numpy()], index=labels.index)
    else:
        canonical = labels.astype(object).map(_CANONICAL_TEXT)
    unknown = np.flatnonzero(canonical.isna().to_numpy())
    if len(unknown):
        first = int(unknown[0])
        where = locate(first) if locate else f"row {first + 1}"
        more = f" ({len(unknown) - 1} more rows have unknown labels)" if len(unknown) > 1 else ""
        raise BattleDataError(_unknown_label_message(labels.iloc[first]) + more, where)
    return canonical


def outcomes(
    winners: pd.Series | Sequence[str], both_bad: BothBadPolicy = "tie"
) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes for the rating core and the mask of battles they belong to.

    Returns `(outcome, kept)`: `outcome[i]` is 1.0 when model_a won, 0.0 when model_b won
    and 0.5 for a tie, for each battle where `kept` is True. With `both_bad="drop"` the
    both-bad ties are left out; with `"tie"` they count as ordinary ties.
    """
    if both_bad not in BOTH_BAD_POLICIES:
        raise ValueError(f"both-bad policy must be 'tie' or 'drop', not {both_bad!r}")
    series = winners if isinstance(winners, pd.Series) else pd.Series(list(winners), dtype=object)
    # Only the few distinct labels are looked up, then spread by code: a million labels
    # (Arrow strings, say) never become a million Python strings; -1 marks unknown ones.
    label_codes, labels = pd.factorize(series)
    known = pd.Index(list(WINNER_LABELS)).get_indexer(pd.Index(labels, dtype=object))
    codes = np.append(known, -1)[label_codes]
    unknown = np.flatnonzero(codes < 0)
    if len(unknown):
        first = int(unknown[0])
        raise BattleDataError(_unknown_label_message(series.iloc[first]), f"row {first + 1}")
    meaning = np.array([_OUTCOME[winner] for winner in WINNER_LABELS.values()])
    both_bad_code = np.array([winner is Winner.BOTH_BAD for winner in WINNER_LABELS.values()])
    kept = np.ones(len(series), dtype=bool)
    if both_bad == "drop":
        kept = ~both_bad_code[codes]
    return meaning[codes[kept]], kept


@dataclass(frozen=True, slots=True)
class Battle:
    """One judged battle between two different models.

    Conversations are lists of `{"role": ..., "content": ...}` messages. `style` holds the
    LMArena `conv_metadata` entries (see glassarena.battles.style.conversation_style).
    """

    model_a: str
    model_b: str
    winner: Winner
    judge: str | None = None
    turn: int | None = None
    language: str | None = None
    category_tag: Mapping[str, Any] | Sequence[str] | None = None
    tstamp: float | None = None
    question_id: str | None = None
    conversation_a: Sequence[Mapping[str, Any]] | None = None
    conversation_b: Sequence[Mapping[str, Any]] | None = None
    style: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "winner", parse_winner(self.winner))
        if not self.model_a or not self.model_b:
            raise BattleDataError("a battle needs two model names")
        if self.model_a == self.model_b:
            raise BattleDataError(f"model {self.model_a!r} cannot battle itself")

    @property
    def outcome(self) -> float:
        """1.0 when model_a won, 0.0 when model_b won, 0.5 for either kind of tie."""
        return _OUTCOME[self.winner]

    def to_record(self) -> dict[str, Any]:
        """The battle as one LMArena-style record; absent optional fields are left out."""
        record: dict[str, Any] = {
            "model_a": self.model_a,
            "model_b": self.model_b,
            "winner": self.winner.value,
        }
        optional = {
            "judge": self.judge,
            "turn": self.turn,
            "language": self.language,
            "category_tag": self.category_tag,
            "tstamp": self.tstamp,
            "question_id": self.question_id,
            "conversation_a": self.conversation_a,
            "conversation_b": self.conversation_b,
        }
        record.update({key: value for key, value in optional.items() if value is not None})
        record.update(self.style)
        return record

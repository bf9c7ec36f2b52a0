"""What the leaderboard page adds to each row for the board people expect: the rank spread
(the best and worst rank its interval allows) and the filters by organization, weights and
date of first appearance.

A model's date of first appearance is the UTC day of its first battle in this arena (of any
mode; the day it was registered if it never battled), per version: `name (v2)` appears on the
day its new settings first battled. Models the arena never registered (imported votes) have
no date and are left out whenever a date is chosen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from glassarena.arena.integrity import IntegrityState

WEIGHTS_CHOICES = (("open", "Open weights"), ("proprietary", "Proprietary"))


def rank_spread(
    row: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> tuple[int, int] | None:
    """The best and worst rank a model can hold. Bootstrap boards carry it; otherwise it comes
    from the intervals as LMArena computes its rank: best = 1 + the models whose lower bound is
    above this one's upper bound, worst = all models but those whose upper bound is below this
    one's lower bound. None without intervals."""
    if row.get("rank_lower") is not None and row.get("rank_upper") is not None:
        ends = (int(row["rank_lower"]), int(row["rank_upper"]))
        return min(ends), max(ends)
    if row.get("lower") is None or row.get("upper") is None:
        return None
    with_intervals = [other for other in rows if other.get("lower") is not None]
    better = sum(other["lower"] > row["upper"] for other in with_intervals)
    worse = sum(other["upper"] < row["lower"] for other in with_intervals)
    return 1 + better, len(with_intervals) - worse


def weights_of(state: IntegrityState, model: str) -> str:
    """`open`, `proprietary` or `unknown`, from the contestant's `open_weights` field."""
    standing = state.standing.get(model)
    if standing is None or standing.open_weights is None:
        return "unknown"
    return "open" if standing.open_weights else "proprietary"


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """The organization, weights and earliest first appearance a visitor chose; empty (None)
    means every one."""

    organization: str
    weights: str
    since: date | None = None

    @classmethod
    def from_query(
        cls, organization: str | None, weights: str | None, since: str | None = None
    ) -> BoardFilter:
        known_weights = {value for value, _ in WEIGHTS_CHOICES}
        return cls(organization or "", weights if weights in known_weights else "", _day(since))

    @property
    def active(self) -> bool:
        return bool(self.organization or self.weights or self.since)

    def keeps(self, row: Mapping[str, Any]) -> bool:
        if self.organization and row["organization"] != self.organization:
            return False
        if self.weights and row["weights"] != self.weights:
            return False
        if self.since is not None:
            appeared = row.get("first_appeared")
            return appeared is not None and date.fromisoformat(appeared) >= self.since
        return True

    def to_json(self) -> dict[str, str | None]:
        return {
            "organization": self.organization or None,
            "weights": self.weights or None,
            "since": self.since.isoformat() if self.since else None,
        }


def _day(value: str | None) -> date | None:
    """A YYYY-MM-DD day (as a date input sends it); anything else means no date chosen."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None

"""What the sampling policy actually did: each model's and organization's share of the
anonymous battles and of the counted votes, over the last 7 and 30 days and all time.

Published at /integrity (as JSON at /integrity/sampling.json) beside the policy's own
description, so anyone can compare what was promised with what happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from glassarena.storage.database import Database
from glassarena.storage.schema import Battle, ModelVersion, Vote

WINDOWS: dict[str, timedelta | None] = {
    "last_7_days": timedelta(days=7),
    "last_30_days": timedelta(days=30),
    "all_time": None,
}
UNKNOWN_ORGANIZATION = "unknown"


@dataclass(frozen=True, slots=True)
class RealisedShare:
    """One model's or organization's part; shares are of appearances (two per battle)."""

    name: str
    battles: int
    battle_share: float
    counted_votes: int
    counted_vote_share: float


@dataclass(frozen=True, slots=True)
class WindowShares:
    battles: int
    counted_votes: int
    by_organization: list[RealisedShare]
    by_model: list[RealisedShare]


def realised_shares(
    database: Database, organizations: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """Window name -> WindowShares as a dict. `organizations` maps contestant names to their
    organization; a model no longer in the config counts as `unknown`."""
    return {
        window: asdict(_window(database, organizations, now - span if span else None))
        for window, span in WINDOWS.items()
    }


def _window(
    database: Database, organizations: Mapping[str, str], since: datetime | None
) -> WindowShares:
    conditions = [Battle.mode == "anonymous", Battle.model_b_id.is_not(None)]
    if since is not None:
        conditions.append(Battle.created_at >= since)
    counted_votes = sa.func.sum(sa.case((Vote.counted.is_(True), 1), else_=0))
    appearances: dict[str, list[int]] = {}  # model -> [battles, counted votes]
    with database.engine.connect() as connection:
        for side in (Battle.model_a_id, Battle.model_b_id):
            per_model = (
                sa.select(ModelVersion.name, sa.func.count(Battle.id), counted_votes)
                .select_from(Battle)
                .join(ModelVersion, ModelVersion.id == side)
                .outerjoin(Vote, Vote.battle_id == Battle.id)
                .where(*conditions)
                .group_by(ModelVersion.name)
            )
            for name, in_battles, in_counted in connection.execute(per_model):
                totals = appearances.setdefault(name, [0, 0])
                totals[0] += int(in_battles)
                totals[1] += int(in_counted or 0)
        total = (
            sa.select(sa.func.count(Battle.id), counted_votes)
            .select_from(Battle)
            .outerjoin(Vote, Vote.battle_id == Battle.id)
            .where(*conditions)
        )
        battles_row, counted_row = connection.execute(total).one()
    battles, counted = int(battles_row), int(counted_row or 0)
    by_organization: dict[str, list[int]] = {}
    for name, (in_battles, in_counted) in appearances.items():
        totals = by_organization.setdefault(organizations.get(name, UNKNOWN_ORGANIZATION), [0, 0])
        totals[0] += in_battles
        totals[1] += in_counted
    return WindowShares(
        battles=battles,
        counted_votes=counted,
        by_organization=_shares(by_organization, battles, counted),
        by_model=_shares(appearances, battles, counted),
    )


def _shares(totals: Mapping[str, list[int]], battles: int, counted: int) -> list[RealisedShare]:
    return [
        RealisedShare(
            name=name,
            battles=in_battles,
            battle_share=in_battles / (2 * battles) if battles else 0.0,
            counted_votes=in_counted,
            counted_vote_share=in_counted / (2 * counted) if counted else 0.0,
        )
        for name, (in_battles, in_counted) in sorted(
            totals.items(), key=lambda item: (-item[1][0], item[0])
        )
    ]

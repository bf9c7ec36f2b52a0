"""Each board row's organization and status (active, provisional, retired) in the page, the
JSON and the CSV of the leaderboard."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request

from glassarena.arena.config.arena_config import UNKNOWN_ORGANIZATION
from glassarena.arena.integrity import IntegrityState, IntegrityView
from glassarena.arena.standing import Standing

CSV_COLUMNS = ("organization", "family", "status")
PENDING_MESSAGE = (
    "The integrity figures (battles, votes, provisional models, realised shares) are being "
    "computed after the server started; they will be here in a moment."
)
PENDING_RETRY_SECONDS = 10


async def integrity_state(request: Request) -> IntegrityState:
    view: IntegrityView = request.app.state.integrity
    return await asyncio.to_thread(view.state)


def row_standing(state: IntegrityState, model: str) -> dict[str, Any]:
    """Organization, family, status and day of first appearance of one board row (a model
    never registered here, e.g. from an imported vote, is `unknown`, active and undated)."""
    standing: Standing | None = state.standing.get(model)
    if standing is None:
        return {
            "organization": UNKNOWN_ORGANIZATION,
            "family": None,
            "status": "active",
            "reasons": [],
            "first_appeared": None,
        }
    return {
        "organization": standing.organization,
        "family": standing.family,
        "status": standing.status,
        "reasons": list(standing.reasons),
        "first_appeared": (
            standing.first_appeared.isoformat() if standing.first_appeared else None
        ),
    }


def standings_json(state: IntegrityState, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`{model: {organization, family, status, reasons, first_appeared}}` for every row,
    plus the variants each of their organizations has had in battles."""
    models = {row["model"]: row_standing(state, row["model"]) for row in rows}
    organizations = sorted({entry["organization"] for entry in models.values()})
    return {
        "models": models,
        # True for the moment after a start: statuses without provisional marks, no dates.
        "pending": not state.ready,
        "variants_per_organization": {
            organization: state.variants.get(organization, 0) for organization in organizations
        },
    }


def standing_columns(state: IntegrityState, models: Sequence[str]) -> dict[str, dict[str, object]]:
    """The organization, family and status columns of the leaderboard CSV, by model."""
    standings = {model: row_standing(state, model) for model in models}
    return {
        column: {model: standing[column] or "" for model, standing in standings.items()}
        for column in CSV_COLUMNS
    }

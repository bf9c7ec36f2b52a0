"""The leaderboard's "apps that run" column for WebDev: each model's share of apps that ran.

Read from the execution checks stored with the battles (`WebdevChecks.run_shares`), beside
the human rating in the page, the JSON and the CSV of the WebDev leaderboard.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from glassarena.vocabulary import WEBDEV_CATEGORIES
from glassarena.webdev.checks import WebdevChecks
from glassarena.webdev.summary import RunShare


async def run_shares_for(request: Request, category: str) -> dict[str, RunShare] | None:
    """Per model label, its share of apps that run; None for a category without apps."""
    if category not in WEBDEV_CATEGORIES:
        return None
    checks: WebdevChecks = request.app.state.webdev_checks
    return await checks.run_shares(category)


def run_shares_json(shares: dict[str, RunShare]) -> list[dict[str, Any]]:
    return [share.to_json() for share in shares.values()]


def run_columns(shares: dict[str, RunShare]) -> dict[str, dict[str, object]]:
    """The run-share columns of the leaderboard CSV, by model (empty for an unchecked model)."""
    return {
        "apps_checked": {model: share.answers for model, share in shares.items()},
        "apps_that_run": {model: share.share for model, share in shares.items()},
        "apps_that_run_lower": {model: share.lower for model, share in shares.items()},
        "apps_that_run_upper": {model: share.upper for model, share in shares.items()},
    }

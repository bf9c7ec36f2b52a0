"""The leaderboard's "apps that run" column for WebDev: each model's share of apps that ran.

Read from the execution checks stored with the battles (`WebdevChecks.run_shares`), beside
the human rating in the page, the JSON and the CSV of the WebDev leaderboard.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import Request

from glassarena.vocabulary import WEBDEV_CATEGORIES
from glassarena.webdev.checks import WebdevChecks
from glassarena.webdev.summary import RunShare

CSV_COLUMNS = ("apps_checked", "apps_that_run", "apps_that_run_lower", "apps_that_run_upper")


async def run_shares_for(request: Request, category: str) -> dict[str, RunShare] | None:
    """Per model label, its share of apps that run; None for a category without apps."""
    if category not in WEBDEV_CATEGORIES:
        return None
    checks: WebdevChecks = request.app.state.webdev_checks
    return await checks.run_shares(category)


def run_shares_json(shares: dict[str, RunShare]) -> list[dict[str, Any]]:
    return [share.to_json() for share in shares.values()]


def with_run_columns(table: str, shares: dict[str, RunShare]) -> str:
    """The leaderboard CSV with the run-share columns added (empty for an unchecked model)."""
    reader = csv.DictReader(io.StringIO(table))
    rows = list(reader)
    fields = [*(reader.fieldnames or []), *CSV_COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        share = shares.get(row["model"])
        values = (
            (share.answers, share.share, share.lower, share.upper) if share else ("", "", "", "")
        )
        writer.writerow({**row, **dict(zip(CSV_COLUMNS, values, strict=True))})
    return buffer.getvalue()

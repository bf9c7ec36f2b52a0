"""Screening for people: the audit of a battle table (counts per reason, flags, shifts,
the board with and without screening; what `glassarena audit` prints and what an
/integrity page can serve) and simulate-rigging results as a table and a plot."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard
from glassarena.screening import REASONS, ScreeningResult
from glassarena.screening.simulation import RiggingOutcome

HEADERS = (
    "board",
    "attacker",
    "K",
    "screening",
    "target rank (honest → rigged)",
    "rank gain / 1,000",
    "rating gain / 1,000",
    "rigged caught (TPR)",
    "honest uncounted (FPR)",
    "Kendall τ vs honest",
)


def rows(outcomes: Sequence[RiggingOutcome]) -> list[list[str]]:
    return [
        [
            outcome.board,
            outcome.strategy,
            f"{outcome.budget:,}",
            "on" if outcome.screening else "off",
            f"{outcome.honest_rank} → {outcome.rank}",
            f"{outcome.rank_gain_per_1000:+.1f}",
            f"{outcome.rating_gain_per_1000:+.1f}",
            f"{outcome.rigged_caught:.1%}" if outcome.screening else "–",
            f"{outcome.honest_uncounted:.2%}" if outcome.screening else "–",
            f"{outcome.kendall_tau_vs_honest:.3f}",
        ]
        for outcome in outcomes
    ]


def markdown(outcomes: Sequence[RiggingOutcome]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(outcomes)]
    return "\n".join(lines) + "\n"


def plot(outcomes: Sequence[RiggingOutcome], path: Path) -> Path:
    """Rank gain of the target against the budget, per attacker, screening off and on."""
    image_format = path.suffix.lower().lstrip(".")
    if image_format not in ("png", "svg"):
        raise ValueError(f"the plot is written as .png or .svg, not {path.name!r}")
    figure = Figure(figsize=(9.0, 4.0), dpi=100)
    axes_off, axes_on = figure.subplots(1, 2, sharey=True)
    strategies = list(dict.fromkeys(outcome.strategy for outcome in outcomes))
    for axes, screening in ((axes_off, False), (axes_on, True)):
        for index, strategy in enumerate(strategies):
            chosen = [o for o in outcomes if o.strategy == strategy and o.screening == screening]
            budgets = np.array([o.budget for o in chosen])
            gains = np.array([o.rank_gain for o in chosen])
            axes.plot(budgets, gains, "o-", color=f"C{index}", label=strategy)
        axes.set_xscale("log")
        axes.set_xlabel("rigged votes K")
        axes.set_title(f"screening {'on' if screening else 'off'}")
        axes.axhline(0.0, color="grey", linewidth=0.8)
    axes_off.set_ylabel("target's rank gain (places)")
    axes_off.legend(fontsize="small")
    buffer = io.BytesIO()
    metadata = {"Date": None} if image_format == "svg" else {"Software": None}
    with rc_context({"svg.hashsalt": "glassarena"}):
        figure.savefig(buffer, format=image_format, bbox_inches="tight", metadata=metadata)
    path.write_bytes(buffer.getvalue())
    return path


def audit_report(battles: pd.DataFrame, result: ScreeningResult) -> dict[str, Any]:
    """Flags, shifts, counts per reason and the board before and after screening."""
    options = LeaderboardOptions()
    before = compute_leaderboard(battles, options)
    after = compute_leaderboard(battles[result.counted].reset_index(drop=True), options)
    rank_after = {row.model: row for row in after.rows}
    board = [
        {
            "model": row.model,
            "rating_before": row.rating,
            "rank_before": row.rank,
            "rating_after": rank_after[row.model].rating if row.model in rank_after else None,
            "rank_after": rank_after[row.model].rank if row.model in rank_after else None,
        }
        for row in before.rows
    ]
    return {
        "votes": len(battles),
        "uncounted": result.n_uncounted,
        "counts_by_reason": result.counts_by_reason(),
        "reasons": {reason: REASONS[reason] for reason in result.counts_by_reason()},
        "voter_flags": [
            {
                "kind": flag.kind,
                "voter": flag.name,
                "reason": flag.reason,
                "votes": flag.votes,
                "statistic": flag.statistic,
                "model": flag.model,
            }
            for flag in result.voter_flags
        ],
        "model_shifts": [
            {
                "model": shift.model,
                "test": shift.reason,
                "z": None if math.isnan(shift.z) else shift.z,
                "cohort_votes": shift.cohort_votes,
                "observed_win_share": _number(shift.observed_win_share),
                "expected_win_share": _number(shift.expected_win_share),
                "window_start": shift.window_start,
                "window_end": shift.window_end,
            }
            for shift in result.model_shifts
        ],
        "board": board,
    }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value

"""`glassarena audit FILE`: vote screening on any battle file with a voter column."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from glassarena.battles.formats import build_mapping, read_battles
from glassarena.cli.rank import clear_errors, input_options
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard
from glassarena.screening import REASONS, ScreeningInputError, ScreeningResult, VoteTable, screen


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


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@input_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def audit(
    file: Path,
    input_format: str | None,
    preset: str | None,
    columns: tuple[str, ...],
    labels: tuple[str, ...],
    output_format: str,
) -> None:
    """Screen the votes of a battle FILE (LMArena JSON/JSONL, parquet, CSV with a mapping):
    per-voter flags with reasons, per-model shift tests, the board before and after.

    \b
    Example, on the shipped LLMFAO crowd votes (the worker column is the voter):
      glassarena audit crowd-comparisons.csv --preset llmfao
    """
    with clear_errors():
        battles = read_battles(file, input_format, build_mapping(preset, columns, labels))
        try:
            table = VoteTable.from_battles(battles, str(file))
        except ScreeningInputError as error:
            raise click.ClickException(str(error)) from None
        result = screen(table)
        report = audit_report(battles, result)
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        return
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(
        f"{report['votes']:,} votes; {report['uncounted']:,} not counted "
        f"({report['uncounted'] / report['votes']:.2%})"
    )
    for reason, count in report["counts_by_reason"].items():
        console.print(f"  {reason}: {count:,} — {REASONS[reason]}")
    flags = Table("voter", "reason", "votes", "statistic", "model", title="Flagged voters")
    for flag in report["voter_flags"]:
        flags.add_row(
            f"{flag['kind']} {flag['voter']}",
            flag["reason"],
            str(flag["votes"]),
            f"{flag['statistic']:.1f}",
            flag["model"] or "",
        )
    console.print(flags)
    shifts = Table("model", "test", "z", "cohort votes", "won / expected", title="Model shifts")
    for shift in report["model_shifts"]:
        won = shift["observed_win_share"]
        expected = shift["expected_win_share"]
        shifts.add_row(
            shift["model"],
            shift["test"],
            "" if shift["z"] is None else f"{shift['z']:+.1f}",
            str(shift["cohort_votes"]),
            "" if won is None else f"{won:.2f} / {expected:.2f}",
        )
    console.print(shifts)
    board = Table("model", "rank before", "rating before", "rank after", "rating after")
    for row in report["board"]:
        board.add_row(
            row["model"],
            str(row["rank_before"]),
            f"{row['rating_before']:.0f}",
            "" if row["rank_after"] is None else str(row["rank_after"]),
            "" if row["rating_after"] is None else f"{row['rating_after']:.0f}",
        )
    console.print(board)

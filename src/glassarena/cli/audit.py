"""`glassarena audit FILE`: vote screening on any battle file with a voter column."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from glassarena.cli.rank import BattleInput, clear_errors, input_options
from glassarena.screening import REASONS, ScreeningInputError, VoteTable, screen
from glassarena.screening.report import audit_report


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
    battle_input: BattleInput,
    output_format: str,
) -> None:
    """Screen the votes of a battle FILE that has a voter column.

    Any battle file (LMArena JSON/JSONL, parquet, CSV with a mapping): per-voter flags with
    reasons, per-model shift tests, the board before and after.

    \b
    Example, on the shipped LLMFAO crowd votes (the worker column is the voter):
      glassarena audit crowd-comparisons.csv --preset llmfao
    """
    with clear_errors():
        battles = battle_input.read(file)
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

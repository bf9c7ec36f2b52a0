"""`glassarena simulate-rigging`: inject attackers into honest votes and measure screening."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from glassarena.cli.rank import BattleInput, clear_errors, input_options
from glassarena.screening import ScreeningInputError, ScreeningSettings, VoteTable
from glassarena.screening.attacks import STRATEGIES
from glassarena.screening.simulation import (
    honest_board_agreement,
    simulate_rigging,
    synthetic_crowd,
)


def _synthetic(text: str) -> tuple[int, int]:
    models, _, votes = text.partition(":")
    try:
        return int(models), int(votes)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} must look like MODELS:VOTES, e.g. 100:200000", param_hint="--synthetic"
        ) from None


@click.command("simulate-rigging")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@input_options
@click.option(
    "--synthetic",
    metavar="MODELS:VOTES",
    help="Instead of FILE, an honest synthetic crowd, e.g. 100:200000.",
)
@click.option(
    "--attacker",
    "attackers",
    multiple=True,
    metavar="STRATEGY",
    help=f"Attacker strategy (repeatable): {', '.join(STRATEGIES)}. Default: all.",
)
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    type=click.IntRange(min=1),
    help="Rigged votes K (repeatable). Default: 100, 1000, 5000.",
)
@click.option("--target", help="The model the attackers promote (default: the mid-table one).")
@click.option(
    "--accuracy",
    type=click.FloatRange(0, 1),
    default=0.95,
    show_default=True,
    help="How often the attacker recognises the target in a battle.",
)
@click.option(
    "--votes-per-identity",
    type=click.IntRange(min=1),
    help="Votes each attacker identity casts (default: 3 for sybil, 50 for the others).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the rank-gain plot (.png or .svg).",
)
def simulate_rigging_command(
    file: Path | None,
    battle_input: BattleInput,
    synthetic: str | None,
    attackers: tuple[str, ...],
    budgets: tuple[int, ...],
    target: str | None,
    accuracy: float,
    votes_per_identity: int | None,
    seed: int,
    output_format: str,
    plot: Path | None,
) -> None:
    """Rig an honest battle FILE (with a voter column) and report what screening catches.

    \b
    Example, on the shipped LLMFAO crowd votes and on a synthetic board:
      glassarena simulate-rigging crowd-comparisons.csv --preset llmfao
      glassarena simulate-rigging --synthetic 100:200000 --plot rigging.png
    """
    if (file is None) == (synthetic is None):
        raise click.UsageError("give either a battle FILE or --synthetic MODELS:VOTES")
    unknown = [name for name in attackers if name not in STRATEGIES]
    if unknown:
        raise click.BadParameter(
            f"unknown attacker strategy {unknown[0]!r}; strategies: {', '.join(STRATEGIES)}",
            param_hint="--attacker",
        )
    with clear_errors():
        try:
            if file is not None:
                battles = battle_input.read(file)
                honest = VoteTable.from_battles(battles, str(file))
                board = file.stem
            else:
                n_models, n_votes = _synthetic(synthetic or "")
                honest, _ = synthetic_crowd(n_models, n_votes, seed=seed)
                board = f"synthetic {n_models} models, {n_votes:,} votes"
        except ScreeningInputError as error:
            raise click.ClickException(str(error)) from None
        settings = ScreeningSettings()
        tau, honest_fpr = honest_board_agreement(honest, settings, seed)
        outcomes = simulate_rigging(
            honest,
            attackers or STRATEGIES,
            budgets or (100, 1000, 5000),
            board=board,
            target=target,
            accuracy=accuracy,
            settings=settings,
            votes_per_identity=votes_per_identity,
            seed=seed,
        )
    from glassarena.screening import report as screening_report

    summary = (
        f"{board}: honest board vs screened honest board Kendall τ = {tau:.3f}; "
        f"screening leaves {honest_fpr:.2%} of the honest votes uncounted"
    )
    if output_format == "json":
        payload = {
            "board": board,
            "honest_vs_screened_honest_kendall_tau": tau,
            "honest_uncounted_without_attack": honest_fpr,
            "results": [outcome.as_dict() for outcome in outcomes],
        }
        click.echo(json.dumps(payload, indent=2))
    elif output_format == "markdown":
        click.echo(screening_report.markdown(outcomes))
        click.echo(summary)
    else:
        table = Table(*screening_report.HEADERS[1:])
        for row in screening_report.rows(outcomes):
            table.add_row(*row[1:])
        console = Console(width=None if sys.stdout.isatty() else 160)
        console.print(table)
        console.print(summary)
    if plot is not None:
        with clear_errors():
            click.echo(f"wrote {screening_report.plot(outcomes, plot)}", err=True)

"""`glassarena compare BOARD BOARD...`: how far leaderboards disagree, and on which models."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from glassarena.analysis.board_compare import Board, compare, load_board
from glassarena.cli.rank import BattleInput, clear_errors, input_options


@click.command()
@click.argument("boards", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@input_options
@click.option(
    "--rename",
    multiple=True,
    metavar="NAME=CANONICAL",
    help="Treat model NAME as CANONICAL (repeatable), when boards spell a model differently.",
)
@click.option("--rounds", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
def compare_command(
    boards: tuple[Path, ...],
    battle_input: BattleInput,
    rename: tuple[str, ...],
    rounds: int,
    seed: int,
    output_format: str,
) -> None:
    """Compare the first BOARD with each other one, and flag the models they disagree on.

    Kendall τ and Spearman ρ with bootstrap intervals, and the models whose rank intervals do
    not overlap.

    A BOARD is a battle file (refitted and bootstrapped over its battles) or a CSV with a
    `model` column and a `rating` or `rank` column.

    \b
    Example, LLMFAO's crowd against its GPT-4 and GPT-3.5 judges on the same pairs:
      glassarena compare crowd-comparisons.csv gpt4-crowd-comparisons.csv \\
          gpt3-crowd-comparisons.csv --preset llmfao
    """
    if len(boards) < 2:
        raise click.UsageError("give at least two boards to compare")
    renames = dict(item.split("=", 1) for item in rename if "=" in item)
    with clear_errors():
        rng = np.random.default_rng(seed)
        mapping = battle_input.mapping()
        loaded = [
            _renamed(load_board(path, battle_input.input_format, mapping, rounds, rng), renames)
            for path in boards
        ]
        results = [compare(loaded[0], other) for other in loaded[1:]]
    if output_format == "json":
        click.echo(json.dumps([asdict(result) for result in results], indent=2))
        return
    table = Table("boards", "models", "Kendall τ [95%]", "Spearman ρ [95%]", "rank differs")
    for result in results:
        table.add_row(
            f"{result.first} vs {result.second}",
            str(result.models),
            f"{result.kendall_tau:.3f} [{result.kendall_interval[0]:.3f}, "
            f"{result.kendall_interval[1]:.3f}]",
            f"{result.spearman_rho:.3f} [{result.spearman_interval[0]:.3f}, "
            f"{result.spearman_interval[1]:.3f}]",
            "; ".join(
                f"{model} ({first[0]}-{first[1]} vs {second[0]}-{second[1]})"
                for model, first, second in result.flagged
            )
            or "none",
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def _renamed(board: Board, renames: dict[str, str]) -> Board:
    if not renames:
        return board
    names = np.array([renames.get(name, name) for name in board.models.tolist()])
    order = np.argsort(names, kind="stable")
    samples = None if board.samples is None else board.samples[:, order]
    return Board(board.name, names[order], board.ratings[order], samples)

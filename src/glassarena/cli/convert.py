"""`glassarena convert IN OUT`: battle files from one format (or layout) to another."""

from __future__ import annotations

from pathlib import Path

import click

from glassarena.battles.formats import (
    FORMATS,
    detect_format,
    write_battles,
)
from glassarena.battles.style_features import with_style
from glassarena.cli.rank import BattleInput, clear_errors, input_options


@click.command()
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("target", type=click.Path(path_type=Path, dir_okay=False))
@input_options
@click.option(
    "--to",
    "output_format",
    type=click.Choice(FORMATS),
    help="Output format (default: from the file extension).",
)
@click.option(
    "--add-style",
    is_flag=True,
    help="Count LMArena style metadata from the conversations where it is missing.",
)
def convert(
    source: Path,
    target: Path,
    battle_input: BattleInput,
    output_format: str | None,
    add_style: bool,
) -> None:
    """Convert battles in SOURCE to TARGET (LMArena JSON/JSONL, HF parquet, CSV).

    The mapping options describe SOURCE; TARGET is written in the canonical LMArena layout.
    """
    with clear_errors():
        detect_format(target, output_format)  # a bad target fails before a long read
        battles = battle_input.read(source, with_answers=add_style)
        if add_style:
            battles = with_style(battles)
        write_battles(battles, target, output_format)
    click.echo(f"wrote {len(battles)} battles to {target}", err=True)

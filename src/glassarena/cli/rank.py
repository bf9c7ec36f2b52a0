"""`glassarena rank FILE`: a leaderboard from a battle file, in the terminal or as data."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.filters import parse_where
from glassarena.battles.formats import FORMATS, PRESETS, build_mapping, read_battles
from glassarena.battles.formats.mapping import ColumnMapping
from glassarena.battles.table import REQUIRED_COLUMNS, STYLE_COLUMNS
from glassarena.leaderboard import LeaderboardOptions, compute_leaderboard
from glassarena.leaderboard_render import render_csv, render_json, render_markdown, rich_table
from glassarena.ratings import RatingError

Command = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class BattleInput:
    """How to read a command's battle files: the format (None: from the file's extension)
    and the column/label mapping, built when read so that its errors come in order."""

    input_format: str | None
    preset: str | None
    columns: tuple[str, ...]
    labels: tuple[str, ...]

    def mapping(self) -> ColumnMapping | None:
        return build_mapping(self.preset, self.columns, self.labels)

    def read(
        self, file: Path, *, with_answers: bool = False, columns: Collection[str] | None = None
    ) -> pd.DataFrame:
        return read_battles(
            file, self.input_format, self.mapping(), with_answers=with_answers, columns=columns
        )


def input_options(command: Command) -> Command:
    """The options that say how to read a battle file (format and column/label mapping),
    handed to `command` as one `battle_input`."""

    @functools.wraps(command)
    def with_battle_input(
        *args: Any,
        input_format: str | None,
        preset: str | None,
        columns: tuple[str, ...],
        labels: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        battle_input = BattleInput(input_format, preset, columns, labels)
        return command(*args, battle_input=battle_input, **kwargs)

    options = [
        click.option(
            "--from",
            "input_format",
            type=click.Choice(FORMATS),
            help="Input format (default: from the file extension).",
        ),
        click.option(
            "--preset",
            type=click.Choice(sorted(PRESETS)),
            help="A known layout, e.g. llmfao (left/right columns and labels).",
        ),
        click.option(
            "--columns",
            multiple=True,
            metavar="CANONICAL=SOURCE,...",
            help="Which source column holds each battle column, e.g. model_a=left,model_b=right.",
        ),
        click.option(
            "--labels",
            multiple=True,
            metavar="SOURCE=WINNER,...",
            help="What source winner labels mean, e.g. left=model_a,right=model_b.",
        ),
    ]
    decorated: Command = with_battle_input
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


@contextmanager
def clear_errors() -> Iterator[None]:
    """Bad input ends the command with its one-line message and a non-zero exit, no traceback."""
    try:
        yield
    except (BattleDataError, RatingError, ValueError, OSError) as error:
        raise click.ClickException(str(error).replace("\n", " ")) from None


def _anchor(text: str | None) -> tuple[str, float] | None:
    if text is None:
        return None
    model, equals, rating = text.rpartition("=")
    try:
        value = float(rating)
    except ValueError:
        value = None
    if not equals or not model or value is None:
        raise click.BadParameter(f"{text!r} must look like MODEL=RATING", param_hint="--anchor")
    return model, value


def _columns_used(where: Mapping[str, str], category: str | None, style_control: bool) -> list[str]:
    """The battle columns this ranking reads; a file's other columns are left unread."""
    used = [*REQUIRED_COLUMNS, *where]
    if category is not None:
        used += ["category", "category_tag"]
    if style_control:
        used += [*STYLE_COLUMNS, "conversation_a", "conversation_b"]
    return used


@contextmanager
def _bootstrap_progress(show: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not show:
        yield None
        return
    # rich is imported only where a bar or a terminal table is drawn.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, TimeRemainingColumn(), console=Console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("bootstrap rounds", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@input_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "markdown", "csv", "json"]),
    default="table",
    show_default=True,
    help="How to print the leaderboard.",
)
@click.option(
    "--ci",
    type=click.Choice(["sandwich", "bootstrap", "none"]),
    default="sandwich",
    show_default=True,
    help="Interval method: sandwich (robust, fast) or bootstrap (also gives rank intervals).",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Bootstrap rounds.",
)
@click.option("--seed", type=int, help="Seed for bootstrap rounds (reproducible intervals).")
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Interval coverage.",
)
@click.option(
    "--style-control",
    is_flag=True,
    help="Control for length and markdown style (with --preset llmfao, counted from the "
    "answers in results.jsonl beside the votes).",
)
@click.option(
    "--tone",
    "tone_style",
    is_flag=True,
    help="With --style-control: also control for tone (emoji count and VADER sentiment of "
    "each side's answers, counted from the conversations).",
)
@click.option(
    "--where",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Keep battles where COLUMN=VALUE (repeatable), e.g. language=English.",
)
@click.option(
    "--category",
    help="Keep battles in this category: a `category` value, or a category_tag flag that is "
    "true, by bare name (math) or path (criteria_v0.1/math).",
)
@click.option(
    "--min-battles",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Hide models with fewer battles (they still inform the fit).",
)
@click.option("--anchor", metavar="MODEL=RATING", help="Pin one model's rating.")
@click.option(
    "--both-bad",
    type=click.Choice(["tie", "drop"]),
    default="tie",
    show_default=True,
    help="Count 'both bad' verdicts as ties, or drop them.",
)
@click.option("--reweight", is_flag=True, help="Weight battles by inverse pair frequency.")
@click.option(
    "--prior",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="L2 pseudo-count penalty; 0 is the pure maximum-likelihood fit.",
)
@click.option("--elo", is_flag=True, help="Online Elo (order-dependent) instead of Bradley-Terry.")
@click.option(
    "--elo-k",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="K-factor of the online Elo update.",
)
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the rating plot and heatmaps (.png, .svg) or one page (.html).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Bootstrap progress bar on stderr (default: only on a terminal).",
)
@click.option(
    "--robustness",
    is_flag=True,
    help="Also say how fragile the top ranks are: the fewest votes whose removal would swap "
    "adjacent models or change who is first (confirmed by refits).",
)
@click.option(
    "--robustness-top",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="How many top models --robustness examines.",
)
def rank(
    file: Path,
    battle_input: BattleInput,
    output_format: str,
    ci: str,
    rounds: int,
    seed: int | None,
    level: float,
    style_control: bool,
    tone_style: bool,
    where: tuple[str, ...],
    category: str | None,
    min_battles: int,
    anchor: str | None,
    both_bad: str,
    reweight: bool,
    prior: float,
    elo: bool,
    elo_k: float,
    plot: Path | None,
    progress: bool | None,
    robustness: bool,
    robustness_top: int,
) -> None:
    """Rank the models in a battle FILE (LMArena JSON/JSONL, HF parquet, or CSV).

    \b
    Example, on the shipped LLMFAO crowd votes:
      glassarena rank crowd-comparisons.csv --preset llmfao --ci bootstrap --seed 1
      glassarena rank crowd-comparisons.csv --preset llmfao --style-control
    """
    with clear_errors():
        conditions = parse_where(where)
        battles = battle_input.read(
            file,
            with_answers=style_control,
            columns=_columns_used(conditions, category, style_control),
        )
        options = LeaderboardOptions(
            ci=None if ci == "none" else ci,  # type: ignore[arg-type]
            rounds=rounds,
            seed=seed,
            level=level,
            style_control=style_control,
            tone_style=tone_style,
            both_bad=both_bad,  # type: ignore[arg-type]
            where=conditions,
            category=category,
            min_battles=min_battles,
            anchor=_anchor(anchor),
            reweight=reweight,
            prior=prior,
            elo=elo,
            elo_k=elo_k,
        )
        show_progress = sys.stderr.isatty() if progress is None else progress
        with _bootstrap_progress(show_progress and ci == "bootstrap" and not elo) as report:
            leaderboard = compute_leaderboard(battles, options, report)
        if output_format == "table":
            from rich.console import Console

            console = Console(width=None if sys.stdout.isatty() else 160)
            console.print(rich_table(leaderboard))
        else:
            render = {"markdown": render_markdown, "csv": render_csv, "json": render_json}
            rendered = render[output_format](leaderboard)
            click.echo(rendered, nl=not rendered.endswith("\n"))
        if plot is not None:
            from glassarena.plots import write_plots

            for written in write_plots(leaderboard, plot):
                click.echo(f"wrote {written}", err=True)
        if robustness:
            _print_robustness(battles, options, robustness_top, output_format)


def _print_robustness(
    battles: Any, options: LeaderboardOptions, top: int, output_format: str
) -> None:
    """The fragility of the top ranks: after the table, or on stderr for the data formats so
    that stdout stays a valid CSV/JSON/markdown document (JSON there too, for machines)."""
    from glassarena.analysis.robustness import board_robustness

    result = board_robustness(battles, options, top)
    to_stderr = output_format != "table"
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2), err=True)
        return
    click.echo(result.headline(), err=to_stderr)
    for pair in result.pairs:
        click.echo(f"  #{pair.upper_position}: {pair.sentence()}", err=to_stderr)

"""`glassarena verify LOG`: check a published vote log and recompute its leaderboards."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("log", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--against",
    "served_files",
    multiple=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A /leaderboard.json body as served (repeatable): recompute it from the log at the "
    "head it names and require the same bytes.",
)
@click.option(
    "--head",
    "expected_head",
    help="The head hash the arena shows (leaderboard or /integrity): the log must end there.",
)
def verify(log: Path, served_files: tuple[Path, ...], expected_head: str | None) -> None:
    """Check LOG's hash chain and that the served leaderboards follow from it alone (its votes,
    with the screening verdicts applied in log order)."""
    from glassarena.arena.log_audit import (
        ChainBrokenError,
        LeaderboardMismatchError,
        LogFormatError,
        check_chain,
        check_verdicts,
        first_difference,
        read_log,
        recompute_served,
    )

    try:
        with log.open(encoding="utf-8", newline="") as lines:
            entries = read_log(lines, str(log))
        head = check_chain(entries, str(log))
        verdicts = check_verdicts(entries, str(log))
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{log}: not UTF-8 text ({error.reason})") from None
    except (LogFormatError, ChainBrokenError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"chain intact: {head.position} entries, head {head.entry_hash}")
    if verdicts:
        click.echo(
            f"{verdicts} screening verdict(s), each on an earlier vote; applied in log order"
        )
    if expected_head is not None and head.entry_hash != expected_head:
        matching = [entry.line for entry in entries if entry.hash == expected_head]
        if not matching:
            raise click.ClickException(f"{log}: no entry has the expected head {expected_head}")
        raise click.ClickException(
            f"{log}:{matching[0] + 1}: entries after the expected head "
            f"(position {matching[0]}) were appended"
        )
    failures = 0
    for served_file in served_files:
        served_bytes = served_file.read_bytes()
        try:
            served = json.loads(served_bytes)
            recomputed = recompute_served(entries, served)
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise click.ClickException(
                f"{served_file}: not a /leaderboard.json body ({error})"
            ) from None
        except LeaderboardMismatchError as error:
            failures += 1
            click.echo(f"{served_file}: MISMATCH: {error}", err=True)
            continue
        label = f"{served['category']}{' (style control)' if served['style_control'] else ''}"
        if recomputed == served_bytes:
            click.echo(
                f"{served_file}: {label} at position {served['watermark']}: "
                f"identical ({len(served_bytes)} bytes)"
            )
        else:
            failures += 1
            click.echo(
                f"{served_file}: MISMATCH: {label} differs from the recomputation at byte "
                f"{first_difference(served_bytes, recomputed)}",
                err=True,
            )
    if failures:
        raise click.ClickException(f"{failures} leaderboard(s) do not follow from the log")

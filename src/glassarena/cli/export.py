"""`glassarena export`: the arena's voted battles as an LMArena battle file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--database-url",
    help="SQLAlchemy URL of the arena database. Default: $GLASSARENA_DATABASE_URL, else the "
    "SQLite file `glassarena serve` uses in the data directory.",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="File to write: .json (LMArena's list) or .jsonl (one battle per line).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "jsonl"]),
    help="Output format. Default: from the --output extension.",
)
@click.option(
    "--include-uncounted",
    is_flag=True,
    help="Also write votes that do not count (named and single mode); `anony` and "
    "`counted` tell them apart.",
)
def export(
    database_url: str | None, output: Path, output_format: str | None, include_uncounted: bool
) -> None:
    """Write the arena's voted battles so that `glassarena rank` can read them."""
    from glassarena.arena.export import exported_battles
    from glassarena.battles.errors import BattleDataError
    from glassarena.battles.formats import detect_format, write_battles
    from glassarena.storage.app_checks import AppCheckStore
    from glassarena.storage.database import open_database
    from glassarena.storage.errors import DatabaseUnavailableError
    from glassarena.storage.repository import ArenaRepository
    from glassarena.storage.vote_reasons import VoteReasonStore

    try:
        kind = detect_format(output, output_format)
    except BattleDataError as error:
        raise click.BadParameter(str(error), param_hint="--output") from None
    if kind not in ("json", "jsonl"):
        raise click.BadParameter(
            f"export writes .json or .jsonl, not {kind}", param_hint="--output"
        )
    if database_url is None:
        database_url = _default_database_url()
    _require_existing_sqlite_file(database_url)
    try:
        database = open_database(database_url)
    except DatabaseUnavailableError as error:
        raise click.ClickException(str(error)) from None
    try:
        battles = exported_battles(
            ArenaRepository(database),
            include_uncounted,
            AppCheckStore(database),
            VoteReasonStore(database),
        )
    finally:
        database.dispose()
    write_battles(battles, output, kind)
    counted = int(battles["counted"].sum()) if len(battles) else 0
    click.echo(f"Wrote {len(battles)} battles ({counted} counted) to {output}.", err=True)


def _require_existing_sqlite_file(database_url: str) -> None:
    """Exporting from a mistyped SQLite path must not quietly create an empty database."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url)
    except ArgumentError:
        return  # open_database reports the unparseable URL
    in_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if in_file and not Path(str(url.database)).is_file():
        raise click.ClickException(f"no arena database at {url.database}")


def _default_database_url() -> str:
    from glassarena.web.settings import DATABASE_FILE, read_settings

    try:
        settings = read_settings()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if settings.database_url is not None:
        return settings.database_url
    data_dir = settings.data_directory()
    if not (data_dir / DATABASE_FILE).exists():
        raise click.ClickException(
            f"no arena database in {data_dir}; pass --database-url (or set "
            "GLASSARENA_DATABASE_URL) to say which database to export"
        )
    return settings.default_database_url()

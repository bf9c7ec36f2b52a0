"""`glassarena serve`: run the arena web server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from glassarena.web.settings import (
    ENV_DATA_DIR,
    WebSettings,
    default_data_dir,
    default_database_url,
    load_or_create_secret_key,
)

if TYPE_CHECKING:
    from glassarena.arena.config import ArenaConfig

APP_FACTORY = "glassarena.web.app:create_app_from_environment"


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _prepare_database(database_url: str) -> None:
    """Fail now, with one clear line, when the database is unreachable; and migrate it once
    here rather than in every worker at the same time."""
    from glassarena.storage.database import open_database
    from glassarena.storage.errors import DatabaseUnavailableError

    try:
        open_database(database_url).dispose()
    except DatabaseUnavailableError as error:
        raise click.ClickException(_one_line(str(error))) from None


def _check_redis(redis_url: str) -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (RedisError, OSError, ValueError) as error:
        where = redis_url.split("@")[-1]  # never echo a password
        raise click.ClickException(_one_line(f"cannot reach Redis at {where}: {error}")) from None
    finally:
        client.close()


def _load_config(config_path: Path | None) -> ArenaConfig:
    """The configuration, checked here so that a mistake stops the start with its line."""
    from glassarena.arena.config import load_config

    try:
        return load_config(config_path)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def _set_preview_sites(host: str, port: int) -> None:
    """Two sites for the two WebDev previews where the arena can provide them, else a warning."""
    from glassarena.webdev.sandbox import ENV_PREVIEW_ORIGINS, preview_origins_for_serving

    try:
        origins, note = preview_origins_for_serving(host, port)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if origins is not None:
        os.environ[ENV_PREVIEW_ORIGINS] = origins
    click.echo(note, err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Arena configuration (YAML). Default: embedded local models + recorded LLMFAO answers.",
)
@click.option(
    "--database-url",
    envvar="GLASSARENA_DATABASE_URL",
    help="SQLAlchemy URL. Default: a SQLite file in the data directory "
    f"(${ENV_DATA_DIR}, else ~/.local/share/glassarena).",
)
@click.option(
    "--redis-url",
    envvar="GLASSARENA_REDIS_URL",
    help="Redis shared by all workers for rate limits. Default: in-process limits.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="Log every request."
)
def serve(
    host: str,
    port: int,
    config_path: Path | None,
    database_url: str | None,
    redis_url: str | None,
    workers: int,
    access_log: bool,
) -> None:
    """Serve the arena: blind battles, voting and the leaderboard."""
    import uvicorn

    config = _load_config(config_path)
    data_dir = default_data_dir()
    # The command line comes first, then the configuration file, then the defaults.
    database_url = database_url or config.database_url
    redis_url = redis_url or config.redis_url
    if database_url is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = default_database_url(data_dir)
    if workers > 1 and redis_url is None:
        click.echo(
            "warning: several workers without --redis-url keep separate rate limits each",
            err=True,
        )
    if redis_url is not None:
        _check_redis(redis_url)
    _prepare_database(database_url)
    settings = WebSettings(
        database_url=database_url,
        redis_url=redis_url,
        config_path=config_path.resolve() if config_path else None,
        secret_key=os.environ.get("GLASSARENA_SECRET_KEY") or load_or_create_secret_key(data_dir),
    )
    # Workers are separate processes that import the app factory; they read these variables.
    os.environ.update(settings.to_environment())
    _set_preview_sites(host, port)
    click.echo(f"glassarena: serving on http://{host}:{port} ({workers} worker(s))", err=True)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=5,
    )

"""`glassarena serve`: run the arena web server."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from glassarena.web.settings import Settings, hand_to_workers, parse_networks, read_settings

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


def _load_config(config_path: Path | None, environ: Mapping[str, str]) -> ArenaConfig:
    """The configuration, checked here so that a mistake stops the start with its line."""
    from glassarena.arena.config import load_config

    try:
        return load_config(config_path, environ=environ)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def _read_settings() -> Settings:
    try:
        return read_settings()
    except ValueError as error:
        raise click.ClickException(str(error)) from None


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with glassarena's own loggers (the access log among them) shown
    through the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["glassarena"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _with_preview_sites(settings: Settings, host: str, port: int) -> Settings:
    """Two sites for the two WebDev previews where the arena can provide them, else a warning."""
    from glassarena.webdev.sandbox import ENV_PREVIEW_ORIGINS, preview_origins_for_serving

    configured = {ENV_PREVIEW_ORIGINS: settings.preview_origins}
    try:
        origins, note = preview_origins_for_serving(host, port, configured)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(note, err=True)
    if origins is None:
        return settings
    return settings.model_copy(update={"preview_origins": origins})


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Arena configuration (YAML). Default: $GLASSARENA_CONFIG, else embedded local "
    "models + recorded LLMFAO answers.",
)
@click.option(
    "--database-url",
    help="SQLAlchemy URL. Default: $GLASSARENA_DATABASE_URL, else the configuration's, else "
    "a SQLite file in the data directory ($GLASSARENA_DATA_DIR, else ~/.local/share/glassarena).",
)
@click.option(
    "--redis-url",
    help="Redis shared by all workers for rate limits. Default: $GLASSARENA_REDIS_URL, else "
    "the configuration's, else in-process limits.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--forwarded-allow-ips",
    help="Comma-separated addresses or networks of the reverse proxies in front of the "
    "arena, whose X-Forwarded-For and X-Forwarded-Proto are believed. Default: "
    "$GLASSARENA_FORWARDED_ALLOW_IPS, else none (the client is the connection's peer). "
    "See docs/deployment.md.",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log every request, the client named only by a keyed hash of its address. "
    "Default: $GLASSARENA_ACCESS_LOG, else on.",
)
def serve(
    host: str,
    port: int,
    config_path: Path | None,
    database_url: str | None,
    redis_url: str | None,
    workers: int,
    forwarded_allow_ips: str | None,
    access_log: bool | None,
) -> None:
    """Serve the arena: blind battles, voting and the leaderboard."""
    import uvicorn

    settings = _read_settings()
    config_path = config_path or settings.config_path
    config = _load_config(config_path, settings.environment)
    # The command line comes first, then the environment, then the configuration file,
    # then the defaults.
    overrides: dict[str, Any] = {
        "config_path": config_path.resolve() if config_path else None,
        "database_url": database_url or settings.database_url or config.database_url,
        "redis_url": redis_url or settings.redis_url or config.redis_url,
    }
    if access_log is not None:
        overrides["access_log"] = access_log
    if forwarded_allow_ips is not None:
        try:
            overrides["forwarded_allow_ips"] = parse_networks(forwarded_allow_ips)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--forwarded-allow-ips") from None
    settings = settings.model_copy(update=overrides)
    # A database other nodes may share, with a key only this machine has.
    url = settings.database_url
    local_key = settings.secret_key is None and url is not None and not url.startswith("sqlite")
    settings = settings.completed()
    assert settings.database_url is not None  # completed() fills it in
    if workers > 1 and settings.redis_url is None:
        click.echo(
            "warning: several workers without --redis-url keep separate rate limits each",
            err=True,
        )
    if settings.redis_url is not None:
        _check_redis(settings.redis_url)
    _prepare_database(settings.database_url)
    if local_key:
        click.echo(
            "warning: the secret key is kept in this machine's data directory; if other nodes "
            "share this database, give them all the same GLASSARENA_SECRET_KEY, or voters "
            "sent to another node lose their identity (see docs/deployment.md)",
            err=True,
        )
    # Workers are separate processes that import the app factory; they read these variables.
    settings = _with_preview_sites(settings, host, port)
    hand_to_workers(settings)
    click.echo(f"glassarena: serving on http://{host}:{port} ({workers} worker(s))", err=True)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=_log_config(),
        # The app writes its own access log, without raw client addresses, and takes the
        # client address from forwarding headers only as `forwarded_allow_ips` allows.
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )

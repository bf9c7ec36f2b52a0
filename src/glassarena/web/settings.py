"""Where the server's settings come from.

Every uvicorn worker builds its own app by calling the factory named by an import string, so
settings travel through environment variables (`glassarena serve` sets them), never through
objects handed over in memory.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ENV_CONFIG = "GLASSARENA_CONFIG"
ENV_DATABASE_URL = "GLASSARENA_DATABASE_URL"
ENV_REDIS_URL = "GLASSARENA_REDIS_URL"
ENV_SECRET_KEY = "GLASSARENA_SECRET_KEY"
ENV_DATA_DIR = "GLASSARENA_DATA_DIR"
ENV_LEADERBOARD_INTERVAL = "GLASSARENA_LEADERBOARD_INTERVAL_SECONDS"
DEFAULT_LEADERBOARD_INTERVAL_SECONDS = 10.0

SECRET_KEY_FILE = "secret_key"
DATABASE_FILE = "arena.db"


def default_data_dir() -> Path:
    """$GLASSARENA_DATA_DIR, else the XDG data directory (~/.local/share/glassarena)."""
    if explicit := os.environ.get(ENV_DATA_DIR):
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "glassarena"


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DATABASE_FILE}"


def load_or_create_secret_key(data_dir: Path) -> str:
    """The key that signs voter cookies, kept in the data directory so it survives restarts
    and is shared by every worker."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when several workers race to create the key, exactly one wins.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True, slots=True)
class WebSettings:
    database_url: str
    redis_url: str | None
    config_path: Path | None
    secret_key: str
    leaderboard_interval_seconds: float = DEFAULT_LEADERBOARD_INTERVAL_SECONDS

    @classmethod
    def from_environment(cls) -> WebSettings:
        data_dir = default_data_dir()
        config = os.environ.get(ENV_CONFIG)
        return cls(
            database_url=os.environ.get(ENV_DATABASE_URL) or default_database_url(data_dir),
            redis_url=os.environ.get(ENV_REDIS_URL) or None,
            config_path=Path(config) if config else None,
            secret_key=os.environ.get(ENV_SECRET_KEY) or load_or_create_secret_key(data_dir),
            leaderboard_interval_seconds=_positive_float(ENV_LEADERBOARD_INTERVAL)
            or DEFAULT_LEADERBOARD_INTERVAL_SECONDS,
        )

    def to_environment(self) -> dict[str, str]:
        """The variables that make `from_environment` rebuild these settings in a worker."""
        variables = {
            ENV_DATABASE_URL: self.database_url,
            ENV_SECRET_KEY: self.secret_key,
            ENV_LEADERBOARD_INTERVAL: str(self.leaderboard_interval_seconds),
        }
        if self.redis_url:
            variables[ENV_REDIS_URL] = self.redis_url
        if self.config_path:
            variables[ENV_CONFIG] = str(self.config_path)
        return variables


def _positive_float(variable: str) -> float | None:
    raw = os.environ.get(variable)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{variable} must be a positive number of seconds, not {raw!r}")
    return value

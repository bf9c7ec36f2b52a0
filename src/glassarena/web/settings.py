"""Every setting glassarena reads from the environment, declared once.

`Settings()` reads the process environment once, at the entry point (`glassarena serve`,
`glassarena export`, or the app factory a uvicorn worker imports), and the values are passed
down from there: no other module looks at the environment. Each field is documented in
docs/settings.md, and a test fails when one is missing there.

Every uvicorn worker builds its own app by importing the factory named by an import string,
so `glassarena serve` hands the settings it resolved to its workers through environment
variables (`to_environment`), which the workers read back with `Settings()`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import (
    Field,
    PositiveFloat,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from glassarena.vocabulary import WebdevStack
from glassarena.web.proxies import IpNetwork
from glassarena.webdev.sandbox import (
    ENV_PREVIEW_ORIGINS,
    ENV_SANDBOX_CDNS,
    SandboxPolicy,
    sandbox_policy_from_environment,
)

ENV_PREFIX = "GLASSARENA_"
SECRET_KEY_FILE = "secret_key"
DATABASE_FILE = "arena.db"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")


class Settings(BaseSettings):
    """The server's settings; each field's variable is GLASSARENA_ + its name in capitals
    unless an alias says otherwise. Empty variables count as unset."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    config_path: Path | None = Field(default=None, alias="GLASSARENA_CONFIG")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    data_dir: Path | None = None
    cache_dir: Path | None = None
    runtimes_dir: Path | None = None
    leaderboard_interval_seconds: PositiveFloat = 1.0
    node_lease_seconds: PositiveFloat = 15.0
    chromium: Path = DEFAULT_CHROMIUM
    preview_origins: str = ""
    sandbox_cdns: str = ""
    # The stack the WebDev page offers first (LMArena WebDev Arena's, for comparability).
    webdev_stack: WebdevStack = WebdevStack.REACT
    forwarded_allow_ips: Annotated[tuple[IpNetwork, ...], NoDecode] = ()
    access_log: bool = True
    # Emoji count and sentiment as style features of the live style-controlled boards.
    tone_style_control: bool = False
    # Read only for the defaults of data_dir and cache_dir (the XDG base directories).
    xdg_data_home: Path | None = Field(default=None, alias="XDG_DATA_HOME")
    xdg_cache_home: Path | None = Field(default=None, alias="XDG_CACHE_HOME")

    # The whole environment as it was when these settings were read: the arena file's
    # `api_key_env` entries name their own variables, which cannot be declared here.
    _environment: Mapping[str, str] = PrivateAttr(
        default_factory=lambda: MappingProxyType(dict(os.environ))
    )

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        return parse_networks(value) if isinstance(value, str | list) else value

    @model_validator(mode="after")
    def _sandbox_policy_is_valid(self) -> Settings:
        self.sandbox_policy()
        return self

    @property
    def environment(self) -> Mapping[str, str]:
        """The process environment read with these settings, for `api_key_env` lookups."""
        return self._environment

    def data_directory(self) -> Path:
        """$GLASSARENA_DATA_DIR, else $XDG_DATA_HOME/glassarena (~/.local/share/glassarena)."""
        if self.data_dir is not None:
            return self.data_dir
        return (self.xdg_data_home or Path.home() / ".local" / "share") / "glassarena"

    def cache_directory(self) -> Path:
        """$GLASSARENA_CACHE_DIR, else $XDG_CACHE_HOME/glassarena (~/.cache/glassarena)."""
        if self.cache_dir is not None:
            return self.cache_dir
        return (self.xdg_cache_home or Path.home() / ".cache") / "glassarena"

    def runtimes_directory(self) -> Path:
        """$GLASSARENA_RUNTIMES_DIR, else share/glassarena/runtimes in this Python's prefix
        (the virtual environment), where `glassarena runtimes install` puts the WebDev
        runtimes."""
        if self.runtimes_dir is not None:
            return self.runtimes_dir
        return Path(sys.prefix) / "share" / "glassarena" / "runtimes"

    def default_database_url(self) -> str:
        return f"sqlite:///{self.data_directory() / DATABASE_FILE}"

    def sandbox_policy(self) -> SandboxPolicy:
        return sandbox_policy_from_environment(
            {ENV_PREVIEW_ORIGINS: self.preview_origins, ENV_SANDBOX_CDNS: self.sandbox_cdns}
        )

    def chromium_for_checks(self) -> str | None:
        """The Chromium that runs WebDev execution checks; None (apps are previewed but not
        checked) when there is none at the configured path."""
        return str(self.chromium) if self.chromium.is_file() else None

    def completed(self) -> Settings:
        """These settings with the database and the secret key filled in from the data
        directory where they were not given."""
        update: dict[str, Any] = {}
        if self.database_url is None:
            self.data_directory().mkdir(parents=True, exist_ok=True, mode=0o700)
            update["database_url"] = self.default_database_url()
        if self.secret_key is None:
            update["secret_key"] = SecretStr(load_or_create_secret_key(self.data_directory()))
        return self.model_copy(update=update) if update else self

    def secret(self) -> str:
        if self.secret_key is None:
            raise ValueError("no secret key: call Settings.completed() first")
        return self.secret_key.get_secret_value()

    def to_environment(self) -> dict[str, str]:
        """The variables from which `Settings()` rebuilds exactly these settings in a worker
        that inherits this environment (unset fields were unset in it too)."""
        return {
            environment_variable(name): _to_variable(value)
            for name in type(self).model_fields
            if (value := getattr(self, name)) is not None
        }


def parse_networks(value: str | Iterable[str]) -> tuple[IpNetwork, ...]:
    """Addresses or networks (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`), given as a list or as
    one comma-separated string; ValueError naming the first that is neither."""
    parts = value.split(",") if isinstance(value, str) else value
    networks: list[IpNetwork] = []
    for part in (part.strip() for part in parts):
        if not part:
            continue
        if part == "*":
            raise ValueError(
                "'*' would believe a forwarding header from anyone, who could then choose "
                "their own address; list the proxies' addresses or networks"
            )
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"{part!r} is not an IP address or network such as 10.0.0.5 or 10.0.0.0/8"
            ) from None
    return tuple(networks)


def _to_variable(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def environment_variable(field_name: str) -> str:
    """The variable a Settings field is read from."""
    field = Settings.model_fields[field_name]
    return field.alias or ENV_PREFIX + field_name.upper()


def read_settings() -> Settings:
    """Settings from the environment, with a mistake reported as one readable ValueError
    naming the variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            location = [str(part) for part in detail.get("loc", ())]
            message = str(detail.get("msg", "is not valid")).removeprefix("Value error, ")
            if not location:  # a check across fields names its variables itself
                problems.append(message)
                continue
            name = location[0]
            if name in Settings.model_fields:
                name = environment_variable(name)
            problems.append(f"{name}: {message}")
        raise ValueError("; ".join(problems)) from None


def hand_to_workers(settings: Settings) -> None:
    """Put `settings` where the worker processes `glassarena serve` starts will read them."""
    os.environ.update(settings.to_environment())


def load_or_create_secret_key(data_dir: Path) -> str:
    """The key that signs voter cookies, kept in the data directory so it survives restarts
    and is shared by every worker."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: when several workers race to create the key, exactly one wins.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()

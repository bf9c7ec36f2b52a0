"""Loading an arena file: read it, compose it with its lines, validate it, resolve it."""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from glassarena.arena.config.arena_config import ArenaConfig
from glassarena.arena.config.errors import ConfigError, ConfigProblem
from glassarena.arena.config.resolve import resolve
from glassarena.arena.config.schema import ArenaFile
from glassarena.arena.config.yaml_lines import compose_settings, validation_problems

DEFAULT_CONFIG = "default_config.yaml"


def default_config_path() -> Path:
    return Path(str(importlib.resources.files("glassarena").joinpath(DEFAULT_CONFIG)))


def load_config(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> ArenaConfig:
    """Read, validate and resolve an arena file (the shipped default when `path` is None).

    `environ` holds the variables the file's `api_key_env` entries name; the entry point
    passes the environment it read its settings with (`Settings.environment`), and without
    it no such variable is set.
    Raises ConfigError (a ValueError) listing every problem with its file and line.
    """
    file = Path(path) if path is not None else default_config_path()
    environ = {} if environ is None else environ
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            [ConfigProblem(source, 1, f"cannot be read: {error.strerror}")]
        ) from error
    data, marks = compose_settings(text, source)
    try:
        arena_file = ArenaFile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(validation_problems(error, marks, data)) from None
    return resolve(arena_file, data, marks, file.parent, environ)

"""The arena's configuration: one readable YAML file, checked before anything starts.

It names the contestants (each a provider plus generation settings), the recorded-answer
sets, limits, and where the database and Redis live. Secrets never appear in it: a setting
ending in `_env` names the environment variable holding the value.

The parts, one idea each:
    schema.py          the file's pydantic models
    yaml_lines.py      composing the YAML with the line of every key; problems located on it
    errors.py          ConfigProblem (file, line, message) and ConfigError (all of them)
    arena_config.py    what loading produces: ArenaConfig, ContestantConfig, RecordedSet
    recorded_files.py  finding and reading recorded-answer sets, once per file version
    resolve.py         checking meaning across the file and building the ArenaConfig
    load.py            load_config: read, compose, validate, resolve
    providers.py       build_provider: the provider serving a contestant
"""

from glassarena.arena.config.arena_config import ArenaConfig
from glassarena.arena.config.errors import ConfigError
from glassarena.arena.config.load import load_config
from glassarena.arena.config.providers import build_provider

__all__ = ["ArenaConfig", "ConfigError", "build_provider", "load_config"]

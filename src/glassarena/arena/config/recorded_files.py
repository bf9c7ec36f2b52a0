"""Finding recorded-answer sets (shipped ones by `builtin:` name) and reading them once."""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

from glassarena.providers.recorded import RecordedAnswers, load_generic, load_llmfao

BUILTIN_PREFIX = "builtin:"
BUILTIN_RECORDED = {"llmfao": "data/llmfao"}


def recorded_set_path(path: str, base_dir: Path) -> Path:
    """Where a set lives: a shipped one for `builtin:NAME`, else relative to the arena file."""
    if path.startswith(BUILTIN_PREFIX):
        builtin = BUILTIN_RECORDED[path.removeprefix(BUILTIN_PREFIX)]
        return Path(str(importlib.resources.files("glassarena").joinpath(builtin)))
    return (base_dir / path).resolve()


def load_recorded(format_: str, path: Path, name: str, attribution: str | None) -> RecordedAnswers:
    files = [path / "prompts.jsonl", path / "results.jsonl"] if format_ == "llmfao" else [path]
    try:
        version = tuple((stat.st_mtime_ns, stat.st_size) for stat in (f.stat() for f in files))
    except OSError:
        version = None  # the loader names the file it cannot read
    return _load_recorded_version(format_, path, version, name, attribution)


@functools.cache
def _load_recorded_version(
    format_: str,
    path: Path,
    version: tuple[tuple[int, int], ...] | None,
    name: str,
    attribution: str | None,
) -> RecordedAnswers:
    """Each version of a set's files is read once per process, however often configs load."""
    if format_ == "llmfao":
        return load_llmfao(path, name, attribution)
    return load_generic(path, name, attribution)

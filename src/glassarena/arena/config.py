"""The arena's configuration: one readable YAML file, checked before anything starts.

It names the contestants (each a provider plus generation settings), the recorded-answer
sets, limits, and where the database and Redis live. Secrets never appear in it: a setting
ending in `_env` names the environment variable holding the value.

Every problem, in YAML syntax or in meaning, is reported with the file and line, all at
once, as a ConfigError. The file is composed into YAML nodes first so that the marks of
every key and value are kept, and pydantic's error locations are mapped back onto them.

A contestant's `settings_fingerprint` is the sha256 of the canonical JSON of everything
that shapes its answers (`Contestant.settings`). Storage keeps one version per fingerprint,
so a contestant with votes is never changed in place: new settings make a new version.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
)

from glassarena.arena.recorded import RecordedPrompt
from glassarena.providers.base import GenerationSettings, Provider, Timeouts
from glassarena.providers.recorded import (
    RecordedAnswers,
    RecordedDataError,
    load_generic,
    load_llmfao,
)
from glassarena.providers.weights import BUILTIN_WEIGHTS, PromptFormat

DEFAULT_CONFIG = "default_config.yaml"
BUILTIN_PREFIX = "builtin:"
BUILTIN_RECORDED = {"llmfao": "data/llmfao"}
LIVE_BATTLE_KINDS: tuple[str, ...] = ("text", "webdev")
RECORDED_BATTLE_KINDS: tuple[str, ...] = ("recorded",)

BattleKind = Literal["text", "webdev", "recorded"]


# --- the file's schema -----------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or " " in value:
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class OpenAISettings(_Section):
    """Any server speaking the OpenAI chat-completions protocol."""

    kind: Literal["openai"]
    model: str = Field(min_length=1)
    base_url: HttpUrl = "https://api.openai.com/v1"
    api_key_env: str | None = None
    extra_params: dict[str, Any] = Field(default_factory=dict)
    timeouts: Timeouts = Timeouts()


class AnthropicSettings(_Section):
    kind: Literal["anthropic"]
    model: str = Field(min_length=1)
    base_url: HttpUrl | None = None  # None: the SDK's default, Anthropic's own API
    api_key_env: str = "ANTHROPIC_API_KEY"
    timeouts: Timeouts = Timeouts()


class LocalSettings(_Section):
    """An embedded GGUF model: one of the built-in `weights`, or a file at `path`."""

    kind: Literal["local"]
    weights: Literal["smollm2-135m-instruct", "gemma-3-270m"] | None = None
    path: str | None = None
    prompt_format: PromptFormat | None = None
    n_ctx: PositiveInt = 2048
    n_threads: PositiveInt | None = None


class RecordedSettings(_Section):
    kind: Literal["recorded"]
    set: str
    model: str
    chunk_delay_seconds: NonNegativeFloat = 0.0  # pacing only: not part of the fingerprint


ProviderSettings = Annotated[
    OpenAISettings | AnthropicSettings | LocalSettings | RecordedSettings,
    Field(discriminator="kind"),
]


class ContestantEntry(_Section):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    provider: ProviderSettings
    generation: GenerationSettings | None = None
    battle_kinds: tuple[BattleKind, ...] | None = Field(default=None, min_length=1)


class RecordedSetEntry(_Section):
    name: str = Field(min_length=1)
    format: Literal["llmfao", "jsonl"]
    path: str
    attribution: str | None = None
    contestants: Literal["all", "none"] | list[str] = "all"
    chunk_delay_seconds: NonNegativeFloat = 0.0  # for the contestants this set adds


class Limits(_Section):
    """Field names match arena.service.ArenaLimits."""

    max_prompt_chars: PositiveInt = 8_000
    max_turns: PositiveInt = 10
    answer_timeout_seconds: PositiveFloat = 300.0


class RateLimitSettings(_Section):
    """Field names match arena.ratelimit.RateLimits."""

    battles_per_minute_per_voter: PositiveInt = 10
    battles_per_minute_per_ip: PositiveInt = 30
    votes_per_minute_per_voter: PositiveInt = 10
    votes_per_minute_per_ip: PositiveInt = 30
    votes_per_day_per_voter: PositiveInt = 300
    votes_per_day_per_ip: PositiveInt = 1000


class ArenaFile(_Section):
    database_url: str | None = None
    database_url_env: str | None = None
    redis_url: str | None = None
    redis_url_env: str | None = None
    limits: Limits = Limits()
    rate_limits: RateLimitSettings = RateLimitSettings()
    recorded_sets: list[RecordedSetEntry] = Field(default_factory=list)
    contestants: list[ContestantEntry] = Field(default_factory=list)


# --- what loading produces -------------------------------------------------------------------


@dataclass(frozen=True)
class Contestant:
    name: str
    description: str | None
    provider_kind: str
    provider_settings: OpenAISettings | AnthropicSettings | LocalSettings | RecordedSettings
    generation: GenerationSettings
    battle_kinds: frozenset[str]
    settings: Mapping[str, Any]  # what shapes the answers; JSON, free of secrets
    settings_fingerprint: str
    api_key: str | None = field(default=None, repr=False)
    local_path: Path | None = None
    recorded_answers: RecordedAnswers | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RecordedSet:
    name: str
    attribution: str | None
    source: Path
    answers: RecordedAnswers = field(repr=False, compare=False)
    contestant_names: Mapping[str, str]  # model in the set -> contestant name


@dataclass(frozen=True)
class ArenaConfig:
    source: str
    contestants: tuple[Contestant, ...]
    recorded_sets: tuple[RecordedSet, ...]
    limits: Limits
    rate_limits: RateLimitSettings
    database_url: str | None
    redis_url: str | None

    def contestant(self, name: str) -> Contestant:
        for contestant in self.contestants:
            if contestant.name == name:
                return contestant
        raise KeyError(f"{self.source} has no contestant named {name!r}")

    def recorded_prompts(self) -> list[RecordedPrompt]:
        """Prompts of every recorded set that at least two contestants answered (non-blank).

        Prompt ids are `set:id`, unique across sets.
        """
        prompts = []
        for recorded in self.recorded_sets:
            for prompt in recorded.answers.prompts.values():
                names = tuple(
                    recorded.contestant_names[model]
                    for model in recorded.answers.models_for(prompt.id)
                    if model in recorded.contestant_names
                )
                if len(names) >= 2:
                    prompts.append(
                        RecordedPrompt(f"{recorded.name}:{prompt.id}", prompt.text, names)
                    )
        return prompts


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    source: str
    line: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class ConfigError(ValueError):
    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = "a problem" if count == 1 else f"{count} problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"arena configuration has {heading}:\n{lines}")


# --- locating values in the YAML -------------------------------------------------------------

KeyPath = tuple[str | int, ...]


class _Marks:
    """Line numbers of every key and value in a composed YAML document."""

    def __init__(self, source: str, root: yaml.Node) -> None:
        self.source = source
        self._value_lines: dict[KeyPath, int] = {}
        self._key_lines: dict[KeyPath, int] = {}
        self.duplicate_keys: list[ConfigProblem] = []
        self._walk(root, (), source)

    def _walk(self, node: yaml.Node, path: KeyPath, source: str) -> None:
        self._value_lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
                child = (*path, key)
                line = key_node.start_mark.line + 1
                if child in self._key_lines:
                    message = (
                        f"{_dotted(child)} is given twice (first at line {self._key_lines[child]})"
                    )
                    self.duplicate_keys.append(ConfigProblem(source, line, message))
                self._key_lines[child] = line
                self._walk(value_node, child, source)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index), source)

    def line(self, path: KeyPath, *, at_key: bool = False) -> int:
        """The line of the deepest part of `path` present in the file."""
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            if at_key and prefix in self._key_lines:
                return self._key_lines[prefix]
            if prefix in self._value_lines:
                return self._value_lines[prefix]
        return 1

    def known(self, path: KeyPath) -> bool:
        return path in self._value_lines

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> ConfigProblem:
        return ConfigProblem(self.source, self.line(path, at_key=at_key), message)

    def located(self, pydantic_loc: Sequence[str | int]) -> KeyPath:
        """pydantic's error location reduced to the keys present in the file.

        Locations carry steps of pydantic's own, like the tag of a discriminated union;
        those are skipped.
        """
        path: KeyPath = ()
        for step in pydantic_loc:
            if self.known((*path, step)):
                path = (*path, step)
        return path


def _dotted(path: KeyPath) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "the file"


def _validation_problems(error: ValidationError, marks: _Marks, data: Any) -> list[ConfigProblem]:
    problems = []
    for detail in error.errors():
        path = marks.located(detail["loc"])
        message = detail["msg"]
        if detail["type"] == "missing":
            message = f"missing required setting {detail['loc'][-1]!r}"
        elif detail["type"] == "extra_forbidden":
            message = f"unknown setting {path[-1]!r}"
        elif detail["type"] == "union_tag_invalid" and marks.known((*path, "kind")):
            kind = detail.get("ctx", {}).get("tag")
            known = "openai, anthropic, local, recorded"
            message = f"unknown provider kind {kind!r}; expected one of {known}"
            path = (*path, "kind")
        at_key = detail["type"] == "extra_forbidden"
        problems.append(marks.problem(path, f"{_label(data, path)}: {message}", at_key=at_key))
    return sorted(problems, key=lambda problem: problem.line)


def _label(data: Any, path: KeyPath) -> str:
    """A location for messages, naming contestants rather than numbering them."""
    if path[:1] == ("contestants",) and len(path) >= 2 and isinstance(data, dict):
        entries = data.get("contestants")
        index = path[1]
        if isinstance(entries, list) and isinstance(index, int) and index < len(entries):
            entry = entries[index]
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                rest = _dotted(path[2:])
                name = f"contestant {entry['name']!r}"
                return f"{name}.{rest}" if path[2:] else name
    return _dotted(path)


# --- loading ---------------------------------------------------------------------------------


def default_config_path() -> Path:
    return Path(str(importlib.resources.files("glassarena").joinpath(DEFAULT_CONFIG)))


def load_config(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> ArenaConfig:
    """Read, validate and resolve an arena file (the shipped default when `path` is None).

    Raises ConfigError (a ValueError) listing every problem with its file and line.
    """
    file = Path(path) if path is not None else default_config_path()
    environ = os.environ if environ is None else environ
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            [ConfigProblem(source, 1, f"cannot be read: {error.strerror}")]
        ) from error
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(part for part in (error.context, error.problem) if part)
        raise ConfigError([ConfigProblem(source, line, f"YAML syntax error: {reason}")]) from None
    if root is None:
        raise ConfigError([ConfigProblem(source, 1, "the file is empty; expected settings")])
    marks = _Marks(source, root)
    if not isinstance(data, dict):
        raise ConfigError([marks.problem((), "expected a mapping of settings at the top")])
    if marks.duplicate_keys:
        raise ConfigError(marks.duplicate_keys)
    try:
        arena_file = ArenaFile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_validation_problems(error, marks, data)) from None
    return _Resolver(arena_file, data, marks, file.parent, environ).resolve()


class _Resolver:
    """Checks meaning across the file and builds the ArenaConfig, collecting every problem."""

    def __init__(
        self,
        arena_file: ArenaFile,
        data: dict[str, Any],
        marks: _Marks,
        base_dir: Path,
        environ: Mapping[str, str],
    ) -> None:
        self.file = arena_file
        self.data = data
        self.marks = marks
        self.base_dir = base_dir
        self.environ = environ
        self.problems: list[ConfigProblem] = []

    def problem(self, path: KeyPath, message: str) -> None:
        located = self.marks.located(path)
        self.problems.append(self.marks.problem(path, f"{_label(self.data, located)}: {message}"))

    def resolve(self) -> ArenaConfig:
        database_url = self._url("database_url")
        redis_url = self._url("redis_url")
        answers = self._recorded_answers()
        contestants: list[Contestant] = []
        names: dict[str, KeyPath] = {}
        explicit_recorded: set[tuple[str, str]] = set()
        for index, entry in enumerate(self.file.contestants):
            path: KeyPath = ("contestants", index)
            contestant = self._contestant(entry, path, answers)
            if isinstance(entry.provider, RecordedSettings):
                explicit_recorded.add((entry.provider.set, entry.provider.model))
            if contestant is not None:
                self._claim_name(names, contestant.name, (*path, "name"))
                contestants.append(contestant)
        recorded_sets: list[RecordedSet] = []
        for index, set_entry in enumerate(self.file.recorded_sets):
            already_built = any(built.name == set_entry.name for built in recorded_sets)
            if set_entry.name not in answers or already_built:
                continue
            path = ("recorded_sets", index)
            added = self._set_contestants(
                set_entry, path, answers[set_entry.name], explicit_recorded
            )
            for contestant in added:
                self._claim_name(names, contestant.name, (*path, "contestants"))
            contestants.extend(added)
            contestant_names = {
                c.provider_settings.model: c.name
                for c in contestants
                if isinstance(c.provider_settings, RecordedSettings)
                and c.provider_settings.set == set_entry.name
            }
            recorded_sets.append(
                RecordedSet(
                    name=set_entry.name,
                    attribution=set_entry.attribution,
                    source=self._recorded_path(set_entry),
                    answers=answers[set_entry.name],
                    contestant_names=contestant_names,
                )
            )
        if self.problems:
            raise ConfigError(sorted(self.problems, key=lambda problem: problem.line))
        return ArenaConfig(
            source=self.marks.source,
            contestants=tuple(contestants),
            recorded_sets=tuple(recorded_sets),
            limits=self.file.limits,
            rate_limits=self.file.rate_limits,
            database_url=database_url,
            redis_url=redis_url,
        )

    def _claim_name(self, names: dict[str, KeyPath], name: str, path: KeyPath) -> None:
        if name in names:
            first = self.marks.line(names[name])
            self.problem(path, f"another contestant has this name (line {first})")
        else:
            names[name] = path

    def _env(self, variable: str, path: KeyPath) -> str | None:
        value = self.environ.get(variable)
        if not value:
            self.problem(path, f"environment variable {variable} is not set")
        return value or None

    def _url(self, name: str) -> str | None:
        literal = getattr(self.file, name)
        variable = getattr(self.file, f"{name}_env")
        if literal is not None and variable is not None:
            self.problem((f"{name}_env",), f"give {name} or {name}_env, not both")
            return None
        if variable is not None:
            return self._env(variable, (f"{name}_env",))
        return literal

    # recorded sets

    def _recorded_path(self, entry: RecordedSetEntry) -> Path:
        if entry.path.startswith(BUILTIN_PREFIX):
            builtin = BUILTIN_RECORDED[entry.path.removeprefix(BUILTIN_PREFIX)]
            return Path(str(importlib.resources.files("glassarena").joinpath(builtin)))
        return (self.base_dir / entry.path).resolve()

    def _recorded_answers(self) -> dict[str, RecordedAnswers]:
        answers: dict[str, RecordedAnswers] = {}
        for index, entry in enumerate(self.file.recorded_sets):
            path: KeyPath = ("recorded_sets", index)
            if entry.name in answers:
                self.problem((*path, "name"), f"recorded set name {entry.name!r} is used twice")
                continue
            if entry.path.startswith(BUILTIN_PREFIX):
                builtin = entry.path.removeprefix(BUILTIN_PREFIX)
                if builtin not in BUILTIN_RECORDED:
                    known = ", ".join(BUILTIN_PREFIX + name for name in BUILTIN_RECORDED)
                    self.problem(
                        (*path, "path"), f"unknown built-in set {entry.path!r}; known: {known}"
                    )
                    continue
            try:
                answers[entry.name] = _load_recorded(
                    entry.format, self._recorded_path(entry), entry.name, entry.attribution
                )
            except RecordedDataError as error:
                self.problem((*path, "path"), f"recorded set {entry.name!r}: {error}")
        return answers

    def _set_contestants(
        self,
        entry: RecordedSetEntry,
        path: KeyPath,
        answers: RecordedAnswers,
        explicit: set[tuple[str, str]],
    ) -> list[Contestant]:
        if entry.contestants == "none":
            return []
        models = answers.models if entry.contestants == "all" else entry.contestants
        added = []
        for position, model in enumerate(models):
            if model not in answers.models:
                self.problem(
                    (*path, "contestants", position),
                    f"recorded set {entry.name!r} has no model {model!r}",
                )
                continue
            if (entry.name, model) in explicit:
                continue
            settings = RecordedSettings(
                kind="recorded",
                set=entry.name,
                model=model,
                chunk_delay_seconds=entry.chunk_delay_seconds,
            )
            added.append(
                _recorded_contestant(model, None, settings, answers, RECORDED_BATTLE_KINDS)
            )
        return added

    # contestants

    def _contestant(
        self, entry: ContestantEntry, path: KeyPath, answers: Mapping[str, RecordedAnswers]
    ) -> Contestant | None:
        provider = entry.provider
        provider_path = (*path, "provider")
        if isinstance(provider, RecordedSettings):
            return self._recorded_entry(entry, provider, path, answers)
        kinds = entry.battle_kinds or LIVE_BATTLE_KINDS
        if "recorded" in kinds:
            self.problem(
                (*path, "battle_kinds"),
                "only recorded contestants take part in recorded battles",
            )
        generation = entry.generation or GenerationSettings()
        api_key = None
        local_path = None
        if isinstance(provider, OpenAISettings):
            if provider.api_key_env is not None:
                api_key = self._env(provider.api_key_env, (*provider_path, "api_key_env"))
            settings = {
                "base_url": provider.base_url.rstrip("/"),
                "model": provider.model,
                "extra_params": provider.extra_params,
            }
        elif isinstance(provider, AnthropicSettings):
            env_path = (*provider_path, "api_key_env")
            api_key = self._env(
                provider.api_key_env, env_path if self.marks.known(env_path) else provider_path
            )
            if generation.seed is not None:
                self.problem((*path, "generation", "seed"), "Anthropic's API takes no seed")
            base_url = provider.base_url.rstrip("/") if provider.base_url else None
            settings = {"base_url": base_url, "model": provider.model}
        else:
            local = self._local(provider, provider_path)
            if local is None:
                return None
            settings, local_path = local
        settings = {
            "kind": provider.kind,
            **settings,
            "generation": generation.model_dump(mode="json"),
        }
        return Contestant(
            name=entry.name,
            description=entry.description,
            provider_kind=provider.kind,
            provider_settings=provider,
            generation=generation,
            battle_kinds=frozenset(kinds),
            settings=settings,
            settings_fingerprint=fingerprint(settings),
            api_key=api_key,
            local_path=local_path,
        )

    def _local(
        self, provider: LocalSettings, path: KeyPath
    ) -> tuple[dict[str, Any], Path | None] | None:
        if (provider.weights is None) == (provider.path is None):
            self.problem(path, "a local provider needs exactly one of 'weights' or 'path'")
            return None
        if provider.weights is not None:
            weights = BUILTIN_WEIGHTS[provider.weights]
            identity: dict[str, Any] = {
                "weights": weights.name,
                "weights_version": weights.version(),
            }
            prompt_format = provider.prompt_format or weights.prompt_format
            local_path = None
        else:
            local_path = (self.base_dir / str(provider.path)).resolve()
            if not local_path.is_file():
                self.problem((*path, "path"), f"GGUF file {local_path} does not exist")
                return None
            identity = {"path": str(local_path)}
            prompt_format = provider.prompt_format or "embedded"
        return {**identity, "prompt_format": prompt_format, "n_ctx": provider.n_ctx}, local_path

    def _recorded_entry(
        self,
        entry: ContestantEntry,
        provider: RecordedSettings,
        path: KeyPath,
        answers: Mapping[str, RecordedAnswers],
    ) -> Contestant | None:
        if entry.generation is not None:
            self.problem((*path, "generation"), "recorded answers are fixed; remove 'generation'")
        kinds = entry.battle_kinds or RECORDED_BATTLE_KINDS
        if set(kinds) != {"recorded"}:
            self.problem(
                (*path, "battle_kinds"), "recorded contestants take part in recorded battles only"
            )
        recorded = answers.get(provider.set)
        if recorded is None:
            if not any(s.name == provider.set for s in self.file.recorded_sets):
                self.problem((*path, "provider", "set"), f"no recorded set named {provider.set!r}")
            return None
        if provider.model not in recorded.models:
            self.problem(
                (*path, "provider", "model"),
                f"recorded set {provider.set!r} has no model {provider.model!r}",
            )
            return None
        return _recorded_contestant(entry.name, entry.description, provider, recorded, kinds)


def _recorded_contestant(
    name: str,
    description: str | None,
    provider: RecordedSettings,
    answers: RecordedAnswers,
    kinds: Sequence[str],
) -> Contestant:
    settings = {
        "kind": "recorded",
        "set": provider.set,
        "model": provider.model,
        "answers_sha256": answers.digest(provider.model),
    }
    return Contestant(
        name=name,
        description=description,
        provider_kind="recorded",
        provider_settings=provider,
        generation=GenerationSettings(),
        battle_kinds=frozenset(kinds),
        settings=settings,
        settings_fingerprint=fingerprint(settings),
        recorded_answers=answers,
    )


def _load_recorded(format_: str, path: Path, name: str, attribution: str | None) -> RecordedAnswers:
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


def fingerprint(settings: Mapping[str, Any]) -> str:
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- providers -------------------------------------------------------------------------------


def build_provider(contestant: Contestant) -> Provider:
    """The provider serving a contestant; nothing is contacted or loaded until first use."""
    settings = contestant.provider_settings
    if isinstance(settings, OpenAISettings):
        from glassarena.providers.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider(
            base_url=settings.base_url,
            model=settings.model,
            generation=contestant.generation,
            api_key=contestant.api_key,
            extra_params=settings.extra_params,
            timeouts=settings.timeouts,
        )
    if isinstance(settings, AnthropicSettings):
        from glassarena.providers.anthropic import AnthropicProvider

        return AnthropicProvider(
            model=settings.model,
            generation=contestant.generation,
            api_key=contestant.api_key,
            base_url=settings.base_url,
            timeouts=settings.timeouts,
        )
    if isinstance(settings, LocalSettings):
        from glassarena.providers.local_gguf import LocalGGUFProvider

        weights = contestant.local_path or BUILTIN_WEIGHTS[str(settings.weights)].locate
        return LocalGGUFProvider(
            weights=weights,
            generation=contestant.generation,
            prompt_format=contestant.settings["prompt_format"],
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
        )
    from glassarena.providers.recorded import RecordedProvider

    if contestant.recorded_answers is None:
        raise ValueError(f"recorded contestant {contestant.name!r} was built without its answers")
    return RecordedProvider(
        contestant.recorded_answers,
        settings.model,
        chunk_delay_seconds=settings.chunk_delay_seconds,
    )

"""Checking meaning across an arena file and building its ArenaConfig.

Settings that are each valid can still clash: two contestants with one name, a recorded
contestant naming a set that does not exist, an environment variable that is not set. The
resolver collects every such problem, located on its line, before raising one ConfigError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from glassarena.arena.config.arena_config import (
    UNKNOWN_ORGANIZATION,
    ArenaConfig,
    ContestantConfig,
    RecordedSet,
    fingerprint,
)
from glassarena.arena.config.errors import ConfigError, ConfigProblem
from glassarena.arena.config.providers import provider_kind
from glassarena.arena.config.recorded_files import (
    BUILTIN_PREFIX,
    BUILTIN_RECORDED,
    load_recorded,
    recorded_set_path,
)
from glassarena.arena.config.schema import (
    ArenaFile,
    ContestantEntry,
    RecordedSetEntry,
    RecordedSettings,
)
from glassarena.arena.config.yaml_lines import KeyPath, YamlMarks, location_label
from glassarena.providers.base import GenerationSettings
from glassarena.providers.recorded import RecordedAnswers, RecordedDataError
from glassarena.vocabulary import BattleKind


def resolve(
    arena_file: ArenaFile,
    data: dict[str, Any],
    marks: YamlMarks,
    base_dir: Path,
    environ: Mapping[str, str],
) -> ArenaConfig:
    """The ArenaConfig of a validated file; ConfigError listing every problem of meaning."""
    return _Resolver(arena_file, data, marks, base_dir, environ).resolve()


class _Resolver:
    """Checks meaning across the file and builds the ArenaConfig, collecting every problem."""

    def __init__(
        self,
        arena_file: ArenaFile,
        data: dict[str, Any],
        marks: YamlMarks,
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
        self.problems.append(
            self.marks.problem(path, f"{location_label(self.data, located)}: {message}")
        )

    def resolve(self) -> ArenaConfig:
        database_url = self._url("database_url")
        redis_url = self._url("redis_url")
        judge = self.file.prompt_judge
        judge_key = (
            self.env(judge.api_key_env, ("prompt_judge", "api_key_env"))
            if judge is not None and judge.api_key_env is not None
            else None
        )
        answers = self._recorded_answers()
        contestants: list[ContestantConfig] = []
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
                    source=recorded_set_path(set_entry.path, self.base_dir),
                    answers=answers[set_entry.name],
                    contestant_names=contestant_names,
                    public=self._set_is_public(set_entry, path),
                )
            )
        self._check_pins(names)
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
            stream=self.file.stream,
            sampling=self.file.sampling,
            screening=self.file.screening,
            identity_guard=self.file.identity_guard,
            integrity=self.file.integrity,
            prompt_judge=judge,
            prompt_judge_api_key=judge_key,
        )

    def _set_is_public(self, entry: RecordedSetEntry, path: KeyPath) -> bool:
        """Whether anyone can read the set's answers: a shipped set always, since it ships
        with glassarena; another only when its entry says so."""
        shipped = entry.path.startswith(BUILTIN_PREFIX)
        if shipped and entry.public is False:
            self.problem(
                (*path, "public"),
                f"recorded set {entry.name!r} ships with glassarena, so its answers are public; "
                "remove 'public: false'",
            )
        return shipped or bool(entry.public)

    def _check_pins(self, names: dict[str, KeyPath]) -> None:
        pinned = self.file.sampling.pinned
        for name in pinned:
            if name not in names:
                self.problem(("sampling", "pinned", name), f"no contestant is named {name!r}")
        if sum(pinned.values()) > 1.5:
            self.problem(
                ("sampling", "pinned"),
                "pinned shares of battles add up to more than 1.5 (each battle has two sides)",
            )

    def _claim_name(self, names: dict[str, KeyPath], name: str, path: KeyPath) -> None:
        if name in names:
            first = self.marks.line(names[name])
            self.problem(path, f"another contestant has this name (line {first})")
        else:
            names[name] = path

    def known(self, path: KeyPath) -> bool:
        return self.marks.known(path)

    def env(self, variable: str, path: KeyPath) -> str | None:
        value = self.environ.get(variable)
        if not value:
            self.problem(path, f"environment variable {variable} is not set")
        return value or None

    def _url(self, name: str) -> str | None:
        literal: str | None = getattr(self.file, name)
        variable: str | None = getattr(self.file, f"{name}_env")
        if literal is not None and variable is not None:
            self.problem((f"{name}_env",), f"give {name} or {name}_env, not both")
            return None
        if variable is not None:
            return self.env(variable, (f"{name}_env",))
        return literal

    # recorded sets

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
                answers[entry.name] = load_recorded(
                    entry.format,
                    recorded_set_path(entry.path, self.base_dir),
                    entry.name,
                    entry.attribution,
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
    ) -> list[ContestantConfig]:
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
                _recorded_contestant(model, None, settings, answers, BattleKind.replayed_kinds())
            )
        return added

    # contestants

    def _contestant(
        self, entry: ContestantEntry, path: KeyPath, answers: Mapping[str, RecordedAnswers]
    ) -> ContestantConfig | None:
        provider = entry.provider
        if isinstance(provider, RecordedSettings):
            return self._recorded_entry(entry, provider, path, answers)
        kinds = entry.battle_kinds or BattleKind.live_kinds()
        if not all(kind.live for kind in kinds):
            self.problem(
                (*path, "battle_kinds"),
                "only recorded contestants take part in recorded battles",
            )
        if entry.organization is None:
            self.problem(
                path,
                "a live contestant needs an 'organization' (who made the model; write "
                "'unknown' if nobody knows)",
            )
        generation = entry.generation or GenerationSettings()
        resolve_section = provider_kind(provider).resolve
        assert resolve_section is not None, "only recorded contestants lack a resolver"
        resolved = resolve_section(provider, generation, path, self)
        if resolved is None:
            return None
        settings = {
            "kind": provider.kind,
            **resolved.settings,
            "generation": generation.model_dump(mode="json"),
        }
        return ContestantConfig(
            name=entry.name,
            description=entry.description,
            provider_kind=provider.kind,
            provider_settings=provider,
            generation=generation,
            battle_kinds=frozenset(kinds),
            settings=settings,
            settings_fingerprint=fingerprint(settings),
            api_key=resolved.api_key,
            local_path=resolved.local_path,
            organization=entry.organization or UNKNOWN_ORGANIZATION,
            family=entry.family,
            open_weights=entry.open_weights,
        )

    def _recorded_entry(
        self,
        entry: ContestantEntry,
        provider: RecordedSettings,
        path: KeyPath,
        answers: Mapping[str, RecordedAnswers],
    ) -> ContestantConfig | None:
        if entry.generation is not None:
            self.problem((*path, "generation"), "recorded answers are fixed; remove 'generation'")
        kinds = entry.battle_kinds or BattleKind.replayed_kinds()
        if any(kind.live for kind in kinds):
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
        contestant = _recorded_contestant(entry.name, entry.description, provider, recorded, kinds)
        return replace(
            contestant,
            organization=entry.organization or contestant.organization,
            family=entry.family,
            open_weights=entry.open_weights,
        )


def _recorded_contestant(
    name: str,
    description: str | None,
    provider: RecordedSettings,
    answers: RecordedAnswers,
    kinds: Sequence[BattleKind],
) -> ContestantConfig:
    settings = {
        "kind": "recorded",
        "set": provider.set,
        "model": provider.model,
        "answers_sha256": answers.digest(provider.model),
    }
    return ContestantConfig(
        name=name,
        description=description,
        provider_kind="recorded",
        provider_settings=provider,
        generation=GenerationSettings(),
        battle_kinds=frozenset(kinds),
        settings=settings,
        settings_fingerprint=fingerprint(settings),
        recorded_answers=answers,
        organization=answers.organizations.get(provider.model, UNKNOWN_ORGANIZATION),
    )

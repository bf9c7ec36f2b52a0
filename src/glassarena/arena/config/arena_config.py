"""What loading an arena file produces: the resolved contestants and recorded sets.

A contestant's `settings_fingerprint` is the sha256 of the canonical JSON of everything
that shapes its answers (`ContestantConfig.settings`). Storage keeps one version per fingerprint,
so a contestant with votes is never changed in place: new settings make a new version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glassarena.arena.config.schema import (
    AnyProviderSettings,
    IdentityGuardSection,
    IntegritySettings,
    Limits,
    PromptJudgeSettings,
    RateLimitSettings,
    SamplingSettings,
    ScreeningSection,
    StreamSettings,
)
from glassarena.arena.recorded import RecordedPrompt
from glassarena.providers.base import GenerationSettings
from glassarena.providers.recorded import RecordedAnswers
from glassarena.vocabulary import BattleKind

UNKNOWN_ORGANIZATION = "unknown"


@dataclass(frozen=True)
class ContestantConfig:
    name: str
    description: str | None
    provider_kind: str
    provider_settings: AnyProviderSettings
    generation: GenerationSettings
    battle_kinds: frozenset[BattleKind]
    settings: Mapping[str, Any]  # what shapes the answers; JSON, free of secrets
    settings_fingerprint: str
    api_key: str | None = field(default=None, repr=False)
    local_path: Path | None = None
    recorded_answers: RecordedAnswers | None = field(default=None, repr=False, compare=False)
    organization: str = UNKNOWN_ORGANIZATION
    family: str | None = None
    open_weights: bool | None = None


@dataclass(frozen=True)
class RecordedSet:
    name: str
    attribution: str | None
    source: Path
    answers: RecordedAnswers = field(repr=False, compare=False)
    contestant_names: Mapping[str, str]  # model in the set -> contestant name
    public: bool = False  # published answers: practice battles, never ranked


@dataclass(frozen=True)
class ArenaConfig:
    source: str
    contestants: tuple[ContestantConfig, ...]
    recorded_sets: tuple[RecordedSet, ...]
    limits: Limits
    rate_limits: RateLimitSettings
    database_url: str | None
    redis_url: str | None
    stream: StreamSettings = field(default_factory=StreamSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    screening: ScreeningSection = field(default_factory=ScreeningSection)
    identity_guard: IdentityGuardSection = field(default_factory=IdentityGuardSection)
    integrity: IntegritySettings = field(default_factory=IntegritySettings)
    prompt_judge: PromptJudgeSettings | None = None
    prompt_judge_api_key: str | None = None  # read from `prompt_judge.api_key_env`

    def contestant(self, name: str) -> ContestantConfig:
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
                        RecordedPrompt(
                            f"{recorded.name}:{prompt.id}", prompt.text, names, recorded.public
                        )
                    )
        return prompts


def fingerprint(settings: Mapping[str, Any]) -> str:
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

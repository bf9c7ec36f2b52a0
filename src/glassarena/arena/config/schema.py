"""The arena file's schema: pydantic models that reject unknown or ill-typed settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
)

from glassarena.providers.base import GenerationSettings, Timeouts
from glassarena.providers.weights import PromptFormat
from glassarena.vocabulary import BattleKind


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


class PromptJudgeSettings(_Section):
    """A judge model that tags prompt categories (arena/prompt_judge.py)."""

    model: str = Field(min_length=1)
    base_url: HttpUrl
    api_key_env: str | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


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


# Every provider kind's settings; each kind's behaviour is registered in providers.py.
AnyProviderSettings = OpenAISettings | AnthropicSettings | LocalSettings | RecordedSettings
ProviderSettings = Annotated[AnyProviderSettings, Field(discriminator="kind")]


class ContestantEntry(_Section):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    provider: ProviderSettings
    generation: GenerationSettings | None = None
    battle_kinds: tuple[BattleKind, ...] | None = Field(default=None, min_length=1)
    # Who made it (required for live contestants; `unknown` is allowed and shown as such),
    # which family of variants it belongs to, and whether its weights are published.
    organization: str | None = Field(default=None, min_length=1, max_length=200)
    family: str | None = Field(default=None, min_length=1, max_length=200)
    open_weights: bool | None = None


class RecordedSetEntry(_Section):
    name: str = Field(min_length=1)
    format: Literal["llmfao", "jsonl"]
    path: str
    attribution: str | None = None
    contestants: Literal["all", "none"] | list[str] = "all"
    chunk_delay_seconds: NonNegativeFloat = 0.0  # for the contestants this set adds
    # Whether the answers are published (anyone could look up which model wrote them): such
    # a set gives practice battles whose votes are never ranked. None: shipped `builtin:`
    # sets are public, files of your own private.
    public: bool | None = None


class Limits(_Section):
    """Field names match arena.service.ArenaLimits."""

    max_prompt_chars: PositiveInt = 8_000
    max_turns: PositiveInt = 10
    answer_timeout_seconds: PositiveFloat = 300.0


class RateLimitSettings(_Section):
    """Field names match arena.ratelimit.RateLimits, but for `ipv6_prefix`: the prefix
    length by which IPv6 clients are grouped into one address (arena.voter.IpHasher)."""

    battles_per_minute_per_voter: PositiveInt = 10
    battles_per_minute_per_ip: PositiveInt = 30
    new_voters_per_hour_per_ip: PositiveInt = 20
    new_voters_per_day_per_ip: PositiveInt = 100
    votes_per_minute_per_voter: PositiveInt = 10
    votes_per_minute_per_ip: PositiveInt = 30
    votes_per_day_per_voter: PositiveInt = 300
    votes_per_day_per_ip: PositiveInt = 1000
    refused_votes_per_minute_per_voter: PositiveInt = 30
    refused_votes_per_minute_per_ip: PositiveInt = 120
    ipv6_prefix: int = Field(default=56, ge=32, le=64)


class StreamSettings(_Section):
    """How answers reach the voter; see arena.pacing for what pacing hides."""

    paced: bool = True  # word-aligned chunks on a cadence shared by both sides
    tick_ms: Annotated[int, Field(ge=5, le=1_000)] = 50
    chunk_chars: Annotated[int, Field(ge=1, le=1_000)] = 24
    # Per-answer timings in the reveal identify models; they stay stored either way.
    show_timings: bool = False


class SamplingSettings(_Section):
    """Which pairs anonymous battles show; see arena.sampling (published at /integrity)."""

    policy: Literal["fair-informative", "uniform"] = "fair-informative"
    new_contestant_battles: Annotated[int, Field(ge=0)] = 300
    new_contestant_boost: Annotated[float, Field(ge=1, le=100)] = 6.0
    new_variant_priority: Annotated[float, Field(gt=0, le=1)] = 0.8
    exploration: Annotated[float, Field(gt=0, le=1)] = 0.1
    information_power: Annotated[float, Field(ge=0, le=10)] = 1.0
    # Operator overrides, shown at /integrity: contestant name -> share of battles (0-1].
    pinned: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)


class ScreeningSection(_Section):
    """Vote screening thresholds and the live arena's screening budget; field names match
    screening.ScreeningSettings."""

    enabled: bool = True
    alpha: float = Field(default=0.01, gt=0, lt=1)
    voter_share_cap: float = Field(default=0.10, gt=0, le=1)
    ip_share_cap: float = Field(default=0.20, gt=0, le=1)
    cap_floor_votes: PositiveInt = 20
    min_voter_votes: PositiveInt = 5
    concentration_set_size: PositiveInt = 8
    min_agreement: float = 0.0
    favouritism_margin: NonNegativeFloat = 0.15
    low_history_votes: PositiveInt = 10
    new_voter_days: NonNegativeFloat = 3.0
    burst_window_hours: PositiveFloat = 24.0
    reference_prior: PositiveFloat = 0.5
    min_crowd_voters: PositiveInt = 10
    # Live screening's cost, amortised: at most this share of the leaderboard refresh time.
    refresh_share: PositiveFloat = 0.5


class IdentityGuardSection(_Section):
    """The identity-leak guard (arena.identity_guard): `families` adds or replaces alias
    families (family -> names it goes by) on top of the built-in ones."""

    enabled: bool = True
    families: dict[str, list[str]] = Field(default_factory=dict)


class InactiveRule(_Section):
    """Retire a version that received no vote for `days` days."""

    rule: Literal["inactive"]
    days: PositiveInt


class SupersededRule(_Section):
    """Retire a version once a newer one of the same family has `votes` counted votes."""

    rule: Literal["superseded"]
    votes: PositiveInt


class RemovedFromConfigRule(_Section):
    """Retire a version that is no longer in the config (always applied; may be listed)."""

    rule: Literal["removed_from_config"]


RetirementRule = Annotated[
    InactiveRule | SupersededRule | RemovedFromConfigRule, Field(discriminator="rule")
]


class ProvisionalSettings(_Section):
    """A model is provisional until `votes` votes after its first appearance, and while its
    organization has more than `organization_variants` variants in battles at once."""

    votes: PositiveInt = 300
    organization_variants: PositiveInt = 10


def _always_retire_removed() -> list[RetirementRule]:
    return [RemovedFromConfigRule(rule="removed_from_config")]


class IntegritySettings(_Section):
    publish_prompts: bool = False  # put battle prompts into /integrity/log.jsonl
    provisional: ProvisionalSettings = ProvisionalSettings()
    retirement: list[RetirementRule] = Field(default_factory=_always_retire_removed)


class ArenaFile(_Section):
    database_url: str | None = None
    database_url_env: str | None = None
    redis_url: str | None = None
    redis_url_env: str | None = None
    limits: Limits = Limits()
    rate_limits: RateLimitSettings = RateLimitSettings()
    stream: StreamSettings = StreamSettings()
    sampling: SamplingSettings = SamplingSettings()
    screening: ScreeningSection = ScreeningSection()
    identity_guard: IdentityGuardSection = IdentityGuardSection()
    recorded_sets: list[RecordedSetEntry] = Field(default_factory=list)
    contestants: list[ContestantEntry] = Field(default_factory=list)
    integrity: IntegritySettings = IntegritySettings()
    prompt_judge: PromptJudgeSettings | None = None  # None: the rules tag prompt categories

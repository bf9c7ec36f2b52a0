"""Provider kinds: for each `kind:` of a contestant's `provider:` section, how its settings
are resolved and which provider serves it.

Adding a provider kind: its settings class in `schema.py` (one more member of
`AnyProviderSettings`), then one `ProviderKind` entry in `PROVIDER_KINDS` below with its two
functions. Nothing else dispatches on the kind; a test fails when the two disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from glassarena.arena.config.schema import (
    AnthropicSettings,
    AnyProviderSettings,
    LocalSettings,
    OpenAISettings,
    RecordedSettings,
)
from glassarena.arena.config.yaml_lines import KeyPath
from glassarena.providers.base import GenerationSettings, Provider
from glassarena.providers.prompt_formats import COMPLETION_PROMPT_DIGEST
from glassarena.providers.weights import BUILTIN_WEIGHTS, default_cache_dir

if TYPE_CHECKING:
    from glassarena.arena.config.arena_config import ContestantConfig


class ResolveContext(Protocol):
    """What resolving a provider section may use of the resolver (`resolve._Resolver`)."""

    base_dir: Path

    def problem(self, path: KeyPath, message: str) -> None: ...
    def env(self, variable: str, path: KeyPath) -> str | None: ...
    def known(self, path: KeyPath) -> bool: ...


@dataclass(frozen=True)
class ResolvedProvider:
    """A provider section's meaning: what shapes the answers, and what stays out of storage."""

    settings: dict[str, Any]  # JSON, fingerprinted: a change makes a new version
    api_key: str | None = field(default=None, repr=False)
    local_path: Path | None = None


_Settings = TypeVar("_Settings", bound=AnyProviderSettings)


@dataclass(frozen=True)
class ProviderKind(Generic[_Settings]):
    settings: type[_Settings]  # the schema of its `provider:` section
    # Nothing is contacted until first use; the path is where embedded weights are assembled.
    build: Callable[[_Settings, ContestantConfig, Path], Provider]
    # The section's meaning, None after reporting a problem; called with the section, the
    # contestant's generation settings, the contestant's key path and the resolver. Without
    # one, the contestant answers from a recorded set and is resolved with it.
    resolve: (
        Callable[[_Settings, GenerationSettings, KeyPath, ResolveContext], ResolvedProvider | None]
        | None
    ) = None


def build_provider(contestant: ContestantConfig, cache_dir: Path | None = None) -> Provider:
    """The provider serving a contestant; nothing is contacted or loaded until first use."""
    settings = contestant.provider_settings
    return provider_kind(settings).build(settings, contestant, cache_dir or default_cache_dir())


def provider_kind(settings: AnyProviderSettings) -> ProviderKind[Any]:
    return PROVIDER_KINDS[settings.kind]


# -- OpenAI-compatible servers ------------------------------------------------------------


def _resolve_openai(
    provider: OpenAISettings,
    _generation: GenerationSettings,
    path: KeyPath,
    context: ResolveContext,
) -> ResolvedProvider:
    api_key = None
    if provider.api_key_env is not None:
        api_key = context.env(provider.api_key_env, (*path, "provider", "api_key_env"))
    settings = {
        "base_url": provider.base_url.rstrip("/"),
        "model": provider.model,
        "extra_params": provider.extra_params,
    }
    return ResolvedProvider(settings, api_key=api_key)


def _build_openai(
    settings: OpenAISettings, contestant: ContestantConfig, _cache_dir: Path
) -> Provider:
    from glassarena.providers.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        base_url=settings.base_url,
        model=settings.model,
        generation=contestant.generation,
        api_key=contestant.api_key,
        extra_params=settings.extra_params,
        timeouts=settings.timeouts,
    )


# -- Anthropic ----------------------------------------------------------------------------


def _resolve_anthropic(
    provider: AnthropicSettings,
    generation: GenerationSettings,
    path: KeyPath,
    context: ResolveContext,
) -> ResolvedProvider:
    provider_path = (*path, "provider")
    env_path = (*provider_path, "api_key_env")
    # The variable has a default: without the key in the file, point at the section.
    api_key = context.env(
        provider.api_key_env, env_path if context.known(env_path) else provider_path
    )
    if generation.seed is not None:
        context.problem((*path, "generation", "seed"), "Anthropic's API takes no seed")
    base_url = provider.base_url.rstrip("/") if provider.base_url else None
    return ResolvedProvider({"base_url": base_url, "model": provider.model}, api_key=api_key)


def _build_anthropic(
    settings: AnthropicSettings, contestant: ContestantConfig, _cache_dir: Path
) -> Provider:
    from glassarena.providers.anthropic import AnthropicProvider

    return AnthropicProvider(
        model=settings.model,
        generation=contestant.generation,
        api_key=contestant.api_key,
        base_url=settings.base_url,
        timeouts=settings.timeouts,
    )


# -- embedded GGUF models -----------------------------------------------------------------


def _resolve_local(
    provider: LocalSettings,
    _generation: GenerationSettings,
    path: KeyPath,
    context: ResolveContext,
) -> ResolvedProvider | None:
    provider_path = (*path, "provider")
    if (provider.weights is None) == (provider.path is None):
        context.problem(provider_path, "a local provider needs exactly one of 'weights' or 'path'")
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
        local_path = (context.base_dir / str(provider.path)).resolve()
        if not local_path.is_file():
            context.problem((*provider_path, "path"), f"GGUF file {local_path} does not exist")
            return None
        identity = {"path": str(local_path)}
        prompt_format = provider.prompt_format or "embedded"
    # Imported here: the webdev package loads the browser-driving checker.
    from glassarena.webdev.prompt import SMALL_MODEL_WEBDEV_DIGEST

    settings = {
        **identity,
        "prompt_format": prompt_format,
        "n_ctx": provider.n_ctx,
        # WebDev battles reach embedded models as a short prompt and a prefilled answer.
        "webdev_prompt": SMALL_MODEL_WEBDEV_DIGEST,
    }
    if prompt_format == "completion":
        settings["completion_prompt"] = COMPLETION_PROMPT_DIGEST
    return ResolvedProvider(settings, local_path=local_path)


def _build_local(
    settings: LocalSettings, contestant: ContestantConfig, cache_dir: Path
) -> Provider:
    from glassarena.providers.local_gguf import LocalGGUFProvider
    from glassarena.webdev.prompt import small_model_webdev_conversation

    weights = contestant.local_path or BUILTIN_WEIGHTS[str(settings.weights)].locator(cache_dir)
    return LocalGGUFProvider(
        weights=weights,
        generation=contestant.generation,
        prompt_format=contestant.settings["prompt_format"],
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        adapt=small_model_webdev_conversation,
    )


# -- recorded answers ---------------------------------------------------------------------


def _build_recorded(
    settings: RecordedSettings, contestant: ContestantConfig, _cache_dir: Path
) -> Provider:
    from glassarena.providers.recorded import RecordedProvider

    if contestant.recorded_answers is None:
        raise ValueError(f"recorded contestant {contestant.name!r} was built without its answers")
    return RecordedProvider(
        contestant.recorded_answers,
        settings.model,
        chunk_delay_seconds=settings.chunk_delay_seconds,
    )


PROVIDER_KINDS: dict[str, ProviderKind[Any]] = {
    "openai": ProviderKind(OpenAISettings, _build_openai, _resolve_openai),
    "anthropic": ProviderKind(AnthropicSettings, _build_anthropic, _resolve_anthropic),
    "local": ProviderKind(LocalSettings, _build_local, _resolve_local),
    "recorded": ProviderKind(RecordedSettings, _build_recorded),
}

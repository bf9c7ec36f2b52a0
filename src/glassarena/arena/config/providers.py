"""The provider serving each contestant, built from its resolved settings."""

from __future__ import annotations

from pathlib import Path

from glassarena.arena.config.arena_config import Contestant
from glassarena.arena.config.schema import AnthropicSettings, LocalSettings, OpenAISettings
from glassarena.providers.base import Provider
from glassarena.providers.weights import BUILTIN_WEIGHTS, default_cache_dir


def build_provider(contestant: Contestant, cache_dir: Path | None = None) -> Provider:
    """The provider serving a contestant; nothing is contacted or loaded until first use.
    `cache_dir` is where embedded weights are assembled (the settings' cache directory)."""
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

        weights = contestant.local_path or BUILTIN_WEIGHTS[str(settings.weights)].locator(
            cache_dir or default_cache_dir()
        )
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

"""Model backends behind one streaming contract (see base.py).

The backends themselves live in their own modules, imported where needed, so that loading
this package does not pull in the Anthropic SDK or llama.cpp:
openai_compatible.OpenAICompatibleProvider, anthropic.AnthropicProvider,
local_gguf.LocalGGUFProvider, recorded.RecordedProvider.
"""

from glassarena.providers.base import (
    ChatMessage,
    Finished,
    GenerationSettings,
    Provider,
    ProviderError,
    StreamEvent,
    TextDelta,
    Timeouts,
    close,
    warm_up,
)

__all__ = [
    "ChatMessage",
    "Finished",
    "GenerationSettings",
    "Provider",
    "ProviderError",
    "StreamEvent",
    "TextDelta",
    "Timeouts",
    "close",
    "warm_up",
]

"""Recorded-answer battles: the server picks a prompt that several models answered earlier.

The catalogue lists the recorded prompts and who answered each; the answers themselves are
streamed by the recorded-answer providers, found in the roster like any other model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RecordedPrompt:
    prompt_id: str
    text: str
    models: tuple[str, ...]  # contestant names with a recorded answer to this prompt


class RecordedCatalogue(Protocol):
    def prompts(self) -> Sequence[RecordedPrompt]: ...

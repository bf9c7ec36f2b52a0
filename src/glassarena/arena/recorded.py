"""Recorded-answer battles: the server picks a prompt that several models answered earlier.

The answers themselves are streamed by the recorded-answer providers, found in the roster
like any other contestant; this is the list of prompts and who answered each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordedPrompt:
    prompt_id: str
    text: str
    models: tuple[str, ...]  # contestant names with a recorded answer to this prompt

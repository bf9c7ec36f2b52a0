"""Recorded-answer battles: the server picks a prompt that several models answered earlier.

The answers themselves are streamed by the recorded-answer providers, found in the roster
like any other contestant; this is the list of prompts and who answered each.

A prompt from a public set (its answers published, as the shipped LLMFAO set's are) gives a
practice battle: anyone could look the answer text up and know which model wrote it before
voting, so such votes are stored and shown but never ranked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordedPrompt:
    prompt_id: str
    text: str
    models: tuple[str, ...]  # contestant names with a recorded answer to this prompt
    public: bool = False  # from a set whose answers are published

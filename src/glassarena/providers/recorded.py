"""Recorded answers: prompts answered in advance by several models, replayed as streams.

Two layouts are read:

- LLMFAO (`load_llmfao(directory)`): `prompts.jsonl` (id, text, type) and `results.jsonl`
  (prompt = a prompt id, name = the model, result = the answer text).
- Generic JSONL (`load_generic(path)`): one object per line,
  `{"prompt": "...", "model": "...", "answer": "..."}` with optional `"prompt_id"` (else
  derived from the prompt text) and `"category"`. Lines that are blank are skipped.

Recorded battles replay these answers, so a fresh arena has real, varied contestants before
any model is served. Every problem in a file is reported with the file and line.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import unicodedata
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glassarena.providers.base import ChatMessage, Finished, ProviderError, StreamEvent, TextDelta

WORD_PIECES = re.compile(r"\s*\S+|\s+")


class RecordedDataError(ValueError):
    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class RecordedAnswerMissing(LookupError):
    """No answer was recorded for this prompt and model."""


@dataclass(frozen=True)
class RecordedPrompt:
    id: str
    text: str
    category: str | None


@dataclass(frozen=True)
class RecordedAnswer:
    prompt_id: str
    model: str
    text: str
    source: str  # "file:line", for messages and audits


class RecordedAnswers:
    """A set of prompts and the answers that models gave to them."""

    def __init__(
        self,
        name: str,
        prompts: list[RecordedPrompt],
        answers: list[RecordedAnswer],
        attribution: str | None = None,
        organizations: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.attribution = attribution
        # model -> the organization that made it, where the set's data says
        self.organizations: Mapping[str, str] = dict(organizations or {})
        self.prompts: dict[str, RecordedPrompt] = {prompt.id: prompt for prompt in prompts}
        self._answers = {(answer.prompt_id, answer.model): answer for answer in answers}
        self._prompt_ids_by_text = {prompt.text.strip(): prompt.id for prompt in prompts}
        self.models: list[str] = sorted({answer.model for answer in answers})

    def __repr__(self) -> str:
        return (
            f"RecordedAnswers({self.name!r}: {len(self.prompts)} prompts, "
            f"{len(self.models)} models, {len(self._answers)} answers)"
        )

    def __len__(self) -> int:
        return len(self._answers)

    def models_for(self, prompt_id: str, *, include_empty: bool = False) -> list[str]:
        """The models with an answer to this prompt; blank answers are left out by default,
        since a battle against an empty answer teaches nothing."""
        return [
            model
            for model in self.models
            if (answer := self._answers.get((prompt_id, model))) is not None
            and (include_empty or shows_something(answer.text))
        ]

    def prompts_for(self, model: str) -> list[str]:
        return [prompt_id for prompt_id in self.prompts if (prompt_id, model) in self._answers]

    def pick(self, prompt_id: str, model: str) -> RecordedAnswer:
        try:
            return self._answers[(prompt_id, model)]
        except KeyError:
            raise RecordedAnswerMissing(
                f"recorded set {self.name!r} has no answer by {model!r} to prompt {prompt_id!r}"
            ) from None

    def prompt_for_text(self, text: str) -> RecordedPrompt | None:
        prompt_id = self._prompt_ids_by_text.get(text.strip())
        return None if prompt_id is None else self.prompts[prompt_id]

    def digest(self, model: str) -> str:
        """sha256 over one model's recorded answers: changes whenever what it says changes."""
        digest = hashlib.sha256()
        for prompt_id in self.prompts_for(model):
            answer = self._answers[(prompt_id, model)]
            digest.update(json.dumps([prompt_id, answer.text]).encode("utf-8"))
        return digest.hexdigest()


class RecordedProvider:
    """Streams a model's recorded answer to a prompt of its set, word by word.

    The prompt is recognised by its text (the arena sends the recorded prompt as the user
    turn); prompts outside the set and follow-up turns are refused.
    """

    def __init__(
        self, answers: RecordedAnswers, model: str, *, chunk_delay_seconds: float = 0.0
    ) -> None:
        if model not in answers.models:
            raise RecordedAnswerMissing(f"recorded set {answers.name!r} has no model {model!r}")
        self.answers = answers
        self.model = model
        self.chunk_delay_seconds = chunk_delay_seconds

    def __repr__(self) -> str:
        return f"RecordedProvider(set={self.answers.name!r}, model={self.model!r})"

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[StreamEvent]:
        user_turns = [message for message in messages if message["role"] == "user"]
        if len(user_turns) != 1:
            raise ProviderError(
                "refused", f"recorded answers of {self.model!r} cover single prompts, not chats"
            )
        prompt = self.answers.prompt_for_text(user_turns[0]["content"])
        if prompt is None:
            raise ProviderError(
                "refused", f"the prompt is not one of recorded set {self.answers.name!r}"
            )
        try:
            answer = self.answers.pick(prompt.id, self.model)
        except RecordedAnswerMissing as error:
            raise ProviderError("refused", str(error)) from None
        for index, piece in enumerate(WORD_PIECES.findall(answer.text)):
            if index and self.chunk_delay_seconds:
                # Paced like a live model, for demos; replay is instant by default.
                await asyncio.sleep(self.chunk_delay_seconds)
            yield TextDelta(piece)
        yield Finished(completion_tokens=None, finish_reason="stop")


# Markdown's marks alone render as nothing a voter can read ("#" is an empty heading).
_MARKDOWN_MARKS = frozenset("#*_-+>`=|~")


def shows_something(text: str) -> bool:
    """Whether an answer renders as something to read: not only whitespace, invisible
    characters (a zero-width space is LLMFAO's Koala's whole answer to three prompts) or
    Markdown's marks (CodeGen2 answers one prompt with "#")."""
    return any(
        not (
            char.isspace() or char in _MARKDOWN_MARKS or unicodedata.category(char) in ("Cc", "Cf")
        )
        for char in text
    )


def load_llmfao(
    directory: Path, name: str = "llmfao", attribution: str | None = None
) -> RecordedAnswers:
    """The LLMFAO layout: prompts.jsonl and results.jsonl in one directory."""
    prompts_path = directory / "prompts.jsonl"
    prompts: list[RecordedPrompt] = []
    for line, record in _json_lines(prompts_path):
        prompt_id = str(_field(record, "id", (int, str), prompts_path, line))
        text = _field(record, "text", str, prompts_path, line)
        category = record.get("type")
        prompts.append(
            RecordedPrompt(prompt_id, text, category if isinstance(category, str) else None)
        )
    known = {prompt.id for prompt in prompts}
    results_path = directory / "results.jsonl"
    answers: list[RecordedAnswer] = []
    seen: dict[tuple[str, str], int] = {}
    for line, record in _json_lines(results_path):
        prompt_id = str(_field(record, "prompt", (int, str), results_path, line))
        if prompt_id not in known:
            raise RecordedDataError(
                results_path, line, f"prompt {prompt_id!r} is not in {prompts_path.name}"
            )
        model = _field(record, "name", str, results_path, line)
        text = _field(record, "result", str, results_path, line)
        _check_unique(seen, (prompt_id, model), results_path, line)
        answers.append(RecordedAnswer(prompt_id, model, text, f"{results_path}:{line}"))
    return RecordedAnswers(name, prompts, answers, attribution, _llmfao_organizations(directory))


def _llmfao_organizations(directory: Path) -> dict[str, str]:
    """Model name -> `org` from the set's models.jsonl (absent file: none known)."""
    models_path = directory / "models.jsonl"
    if not models_path.exists():
        return {}
    organizations = {}
    for line, record in _json_lines(models_path):
        organization = record.get("org")
        if isinstance(organization, str) and organization.strip():
            organizations[_field(record, "name", str, models_path, line)] = organization.strip()
    return organizations


def load_generic(
    path: Path, name: str | None = None, attribution: str | None = None
) -> RecordedAnswers:
    """One JSON object per line: prompt, model, answer (and optionally prompt_id, category)."""
    prompts: dict[str, RecordedPrompt] = {}
    answers: list[RecordedAnswer] = []
    seen: dict[tuple[str, str], int] = {}
    for line, record in _json_lines(path):
        text = _field(record, "prompt", str, path, line)
        model = _field(record, "model", str, path, line)
        answer = _field(record, "answer", str, path, line)
        given_id = record.get("prompt_id")
        prompt_id = str(given_id) if given_id is not None else _text_id(text)
        category = record.get("category")
        prompt = RecordedPrompt(prompt_id, text, category if isinstance(category, str) else None)
        earlier = prompts.setdefault(prompt_id, prompt)
        if earlier.text != text:
            raise RecordedDataError(path, line, f"prompt_id {prompt_id!r} is used for two prompts")
        _check_unique(seen, (prompt_id, model), path, line)
        answers.append(RecordedAnswer(prompt_id, model, answer, f"{path}:{line}"))
    return RecordedAnswers(name or path.stem, list(prompts.values()), answers, attribution)


def _text_id(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise RecordedDataError(path, 0, f"cannot be read: {error.strerror}") from error
    with handle:
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as error:
                raise RecordedDataError(path, line, f"not valid JSON: {error.msg}") from error
            if not isinstance(record, dict):
                raise RecordedDataError(path, line, "expected a JSON object")
            yield line, record


def _field(
    record: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path, line: int
) -> Any:
    if key not in record:
        raise RecordedDataError(path, line, f"missing field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RecordedDataError(path, line, f"field {key!r} has the wrong type: {value!r}")
    return value


def _check_unique(
    seen: dict[tuple[str, str], int], key: tuple[str, str], path: Path, line: int
) -> None:
    if key in seen:
        raise RecordedDataError(
            path,
            line,
            f"second answer by {key[1]!r} to prompt {key[0]!r} (first at line {seen[key]})",
        )
    seen[key] = line

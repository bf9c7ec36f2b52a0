"""Chat prompts for GGUF models whose files carry no usable chat template."""

from __future__ import annotations

import hashlib
import json

from glassarena.providers.base import ChatMessage

GEMMA_STOP = ("<end_of_turn>", "<start_of_turn>")


def gemma_prompt(messages: list[ChatMessage]) -> str:
    """Gemma's turn format. Gemma has no system role, so system text opens the first user turn.

    The tokenizer adds the beginning-of-sequence token itself.
    """
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns: list[str] = []
    for message in messages:
        if message["role"] == "system":
            continue
        content = message["content"]
        if message["role"] == "user" and system:
            content, system = f"{system}\n\n{content}", ""
        role = "model" if message["role"] == "assistant" else "user"
        turns.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    return "".join(turns) + "<start_of_turn>model\n"


# A base model was never taught a turn format: given one, Gemma 3 270M repeated the prompt.
# It does follow the pattern of a document, so it is shown two questions with short answers
# and asked the next; the stop sequences end the answer where the next question would begin,
# and the repetition penalty keeps it from looping inside one answer.
COMPLETION_INTRO = "Below are questions, each followed by a short, helpful answer."
COMPLETION_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("What is the capital of Italy?", "The capital of Italy is Rome."),
    (
        "Give me a tip for sleeping better.",
        "Go to bed at the same time every night and keep screens out of the bedroom.",
    ),
)
COMPLETION_STOP = ("\nQuestion:", "\n\n\n")
COMPLETION_REPEAT_PENALTY = 1.3
# A continued answer (see `split_prefill`) is usually code, where lines repeat by design.
PREFILL_REPEAT_PENALTY = 1.1


def text_digest(*parts: object) -> str:
    """A short digest of prompt text we write ourselves: stored in a contestant's settings,
    so that editing the text makes a new version instead of silently changing an old one."""
    canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


COMPLETION_PROMPT_DIGEST = text_digest(
    COMPLETION_INTRO,
    COMPLETION_EXAMPLES,
    COMPLETION_STOP,
    COMPLETION_REPEAT_PENALTY,
    PREFILL_REPEAT_PENALTY,
)


def split_prefill(messages: list[ChatMessage]) -> tuple[list[ChatMessage], str]:
    """A conversation ending in an assistant message asks the model to continue that message
    (a prefill): the conversation before it, and the text to continue ("" when none)."""
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, ""


def completion_prompt(messages: list[ChatMessage]) -> str:
    """A plain-text question and answer document for base models.

    System text replaces the generic introduction; the worked examples are left out when the
    answer is prefilled, since the prefill already shows the shape of the answer.
    """
    conversation, prefill = split_prefill(messages)
    system = "\n\n".join(m["content"] for m in conversation if m["role"] == "system")
    parts = [system or COMPLETION_INTRO]
    if not prefill:
        parts += [
            f"Question: {question}\nAnswer: {answer}" for question, answer in COMPLETION_EXAMPLES
        ]
    for message in conversation:
        if message["role"] == "user":
            parts.append(f"Question: {message['content']}")
        elif message["role"] == "assistant":
            parts[-1] += f"\nAnswer: {message['content']}"
    opening = f"\n{prefill}" if prefill else ""
    return "\n\n".join(parts) + "\nAnswer:" + opening

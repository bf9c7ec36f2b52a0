"""Chat prompts for GGUF models whose files carry no usable chat template."""

from __future__ import annotations

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

"""Each stack has its system prompt, and the embedded small models their short prompt and
prefill for it, so what they write next is the stack's code."""

from __future__ import annotations

import pytest

from glassarena.providers.base import ChatMessage, GenerationSettings, TextDelta
from glassarena.providers.local_gguf import LocalGGUFProvider
from glassarena.providers.weights import BUILTIN_WEIGHTS, default_cache_dir
from glassarena.vocabulary import WebdevStack
from glassarena.webdev.extract import extract_project
from glassarena.webdev.prompt import (
    WEBDEV_SYSTEM_PROMPT,
    WEBDEV_SYSTEM_PROMPTS,
    small_model_webdev_conversation,
    small_model_webdev_prompt,
)

FENCES = {
    WebdevStack.HTML: "```html",
    WebdevStack.REACT: "```tsx",
    WebdevStack.VUE: "```vue",
    WebdevStack.PYTHON: "```python",
    WebdevStack.MERMAID: "```mermaid",
}


def test_each_stack_asks_for_its_own_code_block() -> None:
    assert WEBDEV_SYSTEM_PROMPTS[WebdevStack.HTML] == WEBDEV_SYSTEM_PROMPT
    assert len(set(WEBDEV_SYSTEM_PROMPTS.values())) == len(WebdevStack)
    for stack, prompt in WEBDEV_SYSTEM_PROMPTS.items():
        assert FENCES[stack] in prompt, stack
        others = [fence for other, fence in FENCES.items() if other is not stack]
        assert not any(fence in prompt for fence in others), stack
    react = WEBDEV_SYSTEM_PROMPTS[WebdevStack.REACT]
    assert "export default" in react and "Tailwind" in react and "no CDN" in react
    assert "Pyodide" in WEBDEV_SYSTEM_PROMPTS[WebdevStack.PYTHON]


@pytest.mark.parametrize("stack", list(WebdevStack))
def test_small_models_get_the_short_prompt_and_prefill_of_the_stack(stack: WebdevStack) -> None:
    conversation: list[ChatMessage] = [
        {"role": "system", "content": WEBDEV_SYSTEM_PROMPTS[stack]},
        {"role": "user", "content": "A counter"},
    ]
    short, prefill = small_model_webdev_prompt(stack)
    assert small_model_webdev_conversation(conversation) == [
        {"role": "system", "content": short},
        {"role": "user", "content": "A counter"},
        {"role": "assistant", "content": prefill},
    ]
    assert prefill.startswith(FENCES[stack])


def test_a_follow_up_keeps_the_history_and_prefills_the_new_answer() -> None:
    conversation: list[ChatMessage] = [
        {"role": "system", "content": WEBDEV_SYSTEM_PROMPTS[WebdevStack.REACT]},
        {"role": "user", "content": "A counter"},
        {"role": "assistant", "content": "```tsx\nexport default function App() {}\n```"},
        {"role": "user", "content": "Make it red"},
    ]
    adapted = small_model_webdev_conversation(conversation)
    assert adapted[1:4] == conversation[1:4]
    assert adapted[-1]["role"] == "assistant"


# What a small model's answer looks like when it follows the prefill for a few lines and
# stops: the prefill plus its continuation must extract as an app of the stack.
CONTINUATIONS = {
    WebdevStack.REACT: '\n  const [n, setN] = useState(0);\n  return <button className="p-2" '
    "onClick={() => setN(n + 1)}>{n}</button>;\n}\n```",
    WebdevStack.VUE: '\n  <button @click="n++">{{ n }}</button>\n</template>\n<script setup>\n'
    "import { ref } from 'vue';\nconst n = ref(0);\n</script>\n```",
    WebdevStack.PYTHON: "print(sum(range(10)))\n```",
    WebdevStack.MERMAID: "flowchart TD\n  A --> B\n```",
    WebdevStack.HTML: "<body><button>0</button></body></html>\n```",
}


@pytest.mark.parametrize("stack", list(WebdevStack))
def test_a_prefilled_answer_extracts_as_the_stack(stack: WebdevStack) -> None:
    _short, prefill = small_model_webdev_prompt(stack)
    extracted = extract_project(prefill + CONTINUATIONS[stack], asked=stack)
    assert extracted.runnable and extracted.stack is stack, extracted.reason


@pytest.mark.parametrize("weights_name", ["smollm2-135m-instruct", "gemma-3-270m"])
@pytest.mark.llama
async def test_small_models_write_a_react_component_from_the_prefill(weights_name: str) -> None:
    # Measured: SmolLM2 135M writes a whole counter component (useState, onClick, a closed
    # block); Gemma 3 270M a component whose JSX is often broken, which the check reports.
    weights = BUILTIN_WEIGHTS[weights_name]
    provider = LocalGGUFProvider(
        weights=weights.locator(default_cache_dir()),
        generation=GenerationSettings(max_tokens=160, temperature=0.0, seed=1),
        prompt_format=weights.prompt_format,
        n_ctx=1024,
        n_threads=1,
        adapt=small_model_webdev_conversation,
    )
    conversation: list[ChatMessage] = [
        {"role": "system", "content": WEBDEV_SYSTEM_PROMPTS[WebdevStack.REACT]},
        {"role": "user", "content": "A counter app with a button."},
    ]
    events = [event async for event in provider.stream(conversation)]
    answer = "".join(event.text for event in events if isinstance(event, TextDelta))
    _short, prefill = small_model_webdev_prompt(WebdevStack.REACT)
    assert answer.startswith(prefill)
    extracted = extract_project(answer, asked=WebdevStack.REACT)
    assert extracted.stack is WebdevStack.REACT and extracted.project is not None, answer
    assert extracted.project.entry == "App.tsx"
    assert "useState(" in extracted.project.files["App.tsx"]

"""Stack detection and extraction: React, Vue, Python, Mermaid and multi-file answers become
projects with the right files and entry; unsupported stacks are recorded with the reason."""

from __future__ import annotations

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.extract import extract_project, extract_turns, named_blocks

REACT_ONE_COMPONENT = """\
Here's a counter built with React, TypeScript and Tailwind:

```tsx
import { useState } from "react";

export default function App() {
  const [count, setCount] = useState<number>(0);
  return (
    <div className="flex h-screen items-center justify-center bg-slate-900">
      <button className="rounded bg-indigo-500 px-4 py-2 text-white"
        onClick={() => setCount(count + 1)}>
        Clicked {count} times
      </button>
    </div>
  );
}
```

The button uses Tailwind classes for its style.
"""

REACT_MULTI_FILE = """\
I'll split the app into a few files.

**src/App.tsx**
```tsx
import { Button } from "./components/Button";
import { clamp } from "./utils";
import "./styles.css";

export default function App() {
  return <Button label={String(clamp(5, 0, 3))} />;
}
```

**src/components/Button.tsx**
```tsx
export function Button({ label }: { label: string }) {
  return <button className="btn">{label}</button>;
}
```

```ts
// src/utils.ts
export const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
```

```css title="src/styles.css"
.btn { color: rebeccapurple; }
```

And the entry point, which you don't need to change:

```tsx main.tsx
import { createRoot } from "react-dom/client";
import App from "./src/App";
createRoot(document.getElementById("root")!).render(<App />);
```
"""

VUE_SFC = """\
```vue
<template>
  <button @click="count++">Count: {{ count }}</button>
</template>

<script setup lang="ts">
import { ref } from "vue";
const count = ref(0);
</script>

<style scoped>
button { font-size: 2rem; }
</style>
```
"""

PYTHON_SCRIPT = """\
Here is a script that prints the first primes:

```python
def primes(n):
    found = []
    candidate = 2
    while len(found) < n:
        if all(candidate % p for p in found):
            found.append(candidate)
        candidate += 1
    return found

print(primes(10))
```
"""

MERMAID = """\
```mermaid
flowchart TD
    A[Start] --> B{Logged in?}
    B -- yes --> C[Dashboard]
    B -- no --> D[Login form]
```
"""

SVELTE = """\
```svelte
<script>
  let count = 0;
</script>
<button on:click={() => count += 1}>{count}</button>
```
"""

NODE_SERVER = """\
```javascript
const express = require("express");
const app = express();
app.get("/", (req, res) => res.send("<h1>Hello</h1>"));
app.listen(3000);
```
"""


def test_a_react_component_is_a_react_project() -> None:
    extracted = extract_project(REACT_ONE_COMPONENT)
    assert extracted.stack is WebdevStack.REACT and extracted.reason is None
    project = extracted.project
    assert project is not None
    assert project.entry == "App.tsx" and list(project.files) == ["App.tsx"]
    assert project.files["App.tsx"].startswith('import { useState } from "react";')
    assert not project.truncated


def test_a_component_named_app_without_a_default_export_is_the_entry() -> None:
    answer = "```jsx\nfunction App() {\n  return <h1>Hi</h1>;\n}\n```\n"
    project = extract_project(answer).project
    assert project is not None and project.stack is WebdevStack.REACT
    assert project.entry == "App.jsx"


def test_jsx_in_a_javascript_block_is_react() -> None:
    answer = "```js\nexport default function Clock() {\n  return <p>now</p>;\n}\n```\n"
    project = extract_project(answer).project
    assert project is not None and project.stack is WebdevStack.REACT
    assert project.entry == "App.jsx"


def test_a_script_that_builds_html_in_strings_stays_an_html_app() -> None:
    answer = "```html\n<div id='x'></div>\n```\n```js\nx.innerHTML = '<b>hi</b>';\n```\n"
    extracted = extract_project(answer)
    assert extracted.stack is WebdevStack.HTML
    assert extracted.project is not None and extracted.project.entry == "index.html"


def test_multi_file_react_answer_keeps_every_file_under_its_name() -> None:
    extracted = extract_project(REACT_MULTI_FILE)
    project = extracted.project
    assert project is not None and extracted.source == "multi_file"
    assert set(project.files) == {
        "src/App.tsx",
        "src/components/Button.tsx",
        "src/utils.ts",
        "src/styles.css",
        "main.tsx",
    }
    # The app is the component, not the mounting code around it.
    assert project.entry == "src/App.tsx"
    assert extracted.reason is None


def test_file_names_come_from_info_strings_headings_and_comment_lines() -> None:
    names = [block.name for block in named_blocks(REACT_MULTI_FILE)]
    assert names == [
        "src/App.tsx",
        "src/components/Button.tsx",
        "src/utils.ts",
        "src/styles.css",
        "main.tsx",
    ]


def test_a_heading_naming_a_file_of_another_language_is_not_believed() -> None:
    answer = "Put this in **styles.css**:\n```tsx\nexport default () => <p/>;\n```\n"
    assert [block.name for block in named_blocks(answer)] == [None]


def test_an_import_under_another_path_gets_an_alias_for_the_harness() -> None:
    answer = (
        "**App.tsx**\n```tsx\nimport Card from './components/Card';\n"
        "export default function App() { return <Card />; }\n```\n\n"
        "**Card.tsx**\n```tsx\nexport default function Card() { return <div>card</div>; }\n```\n"
    )
    extracted = extract_project(answer)
    project = extracted.project
    assert project is not None and extracted.reason is None
    assert project.files["components/Card.tsx"] == project.files["Card.tsx"]


def test_an_import_of_a_missing_file_is_recorded() -> None:
    answer = (
        "```tsx App.tsx\nimport { Chart } from './Chart';\n"
        "export default function App() { return <Chart />; }\n```\n"
    )
    extracted = extract_project(answer)
    assert extracted.runnable
    assert extracted.reason == "App.tsx imports ./Chart, which the answer does not include"


def test_a_react_answer_without_a_component_says_so() -> None:
    answer = "```tsx\nconst x: number = 1;\nconsole.log(<b>{x}</b>);\n```\n"
    extracted = extract_project(answer)
    assert not extracted.runnable and extracted.stack is WebdevStack.REACT
    assert extracted.reason is not None and "no default export and no App" in extracted.reason


def test_a_vue_single_file_component() -> None:
    extracted = extract_project(VUE_SFC)
    project = extracted.project
    assert project is not None and project.stack is WebdevStack.VUE
    assert project.entry == "App.vue" and "<template>" in project.files["App.vue"]


def test_an_unlabelled_vue_component_is_recognised() -> None:
    answer = VUE_SFC.replace("```vue", "```")
    assert extract_project(answer).stack is WebdevStack.VUE


def test_a_python_script() -> None:
    extracted = extract_project(PYTHON_SCRIPT)
    project = extracted.project
    assert project is not None and project.stack is WebdevStack.PYTHON
    assert project.entry == "main.py" and "print(primes(10))" in project.files["main.py"]


def test_a_python_program_in_two_files_starts_from_the_one_not_imported() -> None:
    answer = (
        "```python\n# shapes.py\ndef square(n):\n    return n * n\n```\n"
        "```python\n# run.py\nfrom shapes import square\nprint(square(4))\n```\n"
    )
    project = extract_project(answer).project
    assert project is not None and set(project.files) == {"shapes.py", "run.py"}
    assert project.entry == "run.py"


def test_a_mermaid_diagram() -> None:
    project = extract_project(MERMAID).project
    assert project is not None and project.stack is WebdevStack.MERMAID
    assert project.entry == "diagram.mmd" and project.files["diagram.mmd"].startswith("flowchart")


def test_an_unlabelled_diagram_is_recognised() -> None:
    answer = "```\nsequenceDiagram\n    Alice->>Bob: Hi\n```\n"
    assert extract_project(answer).stack is WebdevStack.MERMAID


def test_svelte_is_unsupported_and_says_why() -> None:
    extracted = extract_project(SVELTE)
    assert not extracted.runnable and extracted.unsupported == "Svelte"
    assert (
        extracted.reason
        == "not supported: Svelte: its compiler is not among the sandbox's runtimes"
    )


def test_a_node_server_is_unsupported_and_says_why() -> None:
    extracted = extract_project(NODE_SERVER)
    assert not extracted.runnable and extracted.unsupported == "a Node.js server"
    assert extracted.reason is not None and "runs on a server" in extracted.reason


def test_a_python_web_server_is_unsupported() -> None:
    answer = "```python\nfrom flask import Flask\napp = Flask(__name__)\n```\n"
    extracted = extract_project(answer)
    assert extracted.unsupported == "a Flask server" and not extracted.runnable


def test_a_frontend_beside_its_server_runs_and_the_server_is_noted() -> None:
    answer = REACT_ONE_COMPONENT + "\nAnd the API:\n" + NODE_SERVER
    extracted = extract_project(answer)
    assert extracted.stack is WebdevStack.REACT and extracted.runnable
    assert extracted.reason is not None and "Node.js server code is not run" in extracted.reason


def test_a_single_html_document_is_an_html_project() -> None:
    answer = "```html\n<!DOCTYPE html>\n<html><body><p>hi</p></body></html>\n```\n"
    extracted = extract_project(answer)
    project = extracted.project
    assert project is not None and project.stack is WebdevStack.HTML
    assert project.entry == "index.html" and project.files["index.html"].endswith("</html>")


def test_an_answer_in_another_stack_than_asked_still_runs_as_what_it_is() -> None:
    extracted = extract_project(PYTHON_SCRIPT, asked=WebdevStack.REACT)
    assert extracted.stack is WebdevStack.PYTHON and extracted.runnable
    assert extracted.reason is None


def test_the_asked_stack_wins_when_an_answer_holds_two() -> None:
    answer = PYTHON_SCRIPT + "\nAs a diagram:\n" + MERMAID
    assert extract_project(answer, asked=WebdevStack.MERMAID).stack is WebdevStack.MERMAID
    assert extract_project(answer, asked=WebdevStack.PYTHON).stack is WebdevStack.PYTHON


def test_a_truncated_component_is_still_a_project_flagged_truncated() -> None:
    cut = REACT_ONE_COMPONENT[: REACT_ONE_COMPONENT.index("Clicked")]
    extracted = extract_project(cut)
    assert extracted.runnable and extracted.truncated
    assert extracted.reason == "the code block of App.tsx is not closed"


def test_prose_is_not_a_project() -> None:
    answer = "Every page should start with <!DOCTYPE html> and end with </html>.\n"
    extracted = extract_project(answer, asked=WebdevStack.HTML)
    assert not extracted.runnable and extracted.stack is None


def test_a_follow_up_that_gives_one_changed_file_edits_the_project() -> None:
    follow_up = (
        "Only the button changes:\n\n**src/components/Button.tsx**\n```tsx\n"
        "export function Button({ label }: { label: string }) {\n"
        '  return <button className="btn big">{label}!</button>;\n}\n```\n'
    )
    first, second = extract_turns([REACT_MULTI_FILE, follow_up], WebdevStack.REACT)
    assert first.project is not None and second.project is not None
    assert set(second.project.files) == set(first.project.files)
    assert "big" in second.project.files["src/components/Button.tsx"]
    assert second.project.files["src/App.tsx"] == first.project.files["src/App.tsx"]
    assert second.project.entry == "src/App.tsx"


def test_a_follow_up_with_a_whole_new_component_replaces_it() -> None:
    changed = REACT_ONE_COMPONENT.replace("bg-indigo-500", "bg-rose-500")
    _first, second = extract_turns([REACT_ONE_COMPONENT, changed], WebdevStack.REACT)
    assert second.project is not None
    assert "bg-rose-500" in second.project.files["App.tsx"]
    assert list(second.project.files) == ["App.tsx"]

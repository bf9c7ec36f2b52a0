"""Apps that run: the embedded models on 20 everyday WebDev prompts.

Each model answers every prompt as in a WebDev battle (the WebDev system prompt, which the
embedded provider turns into its short prompt and prefilled answer), with the default
arena's generation settings; the app is extracted and loaded by the execution checker in
sandboxed Chromium. Prints per model: apps extracted, apps that run, and the median time
per answer.

Run: .venv/bin/python benchmarks/bench_embedded_apps.py [--prompts 20] [--models NAME ...]
         [--save FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from glassarena.arena.config import build_provider, load_config
from glassarena.providers.base import ChatMessage, TextDelta
from glassarena.webdev.checker import AppChecker
from glassarena.webdev.extract import extract_app
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPT

CHROMIUM = "/usr/bin/chromium"
EMBEDDED = ("smollm2-135m-instruct", "gemma-3-270m")
APP_PROMPTS = (
    "A counter app with + and - buttons",
    "A to-do list where I can add and remove tasks",
    "A tip calculator",
    "A stopwatch with start, stop and reset",
    "A random quote generator",
    "A temperature converter between Celsius and Fahrenheit",
    "A digital clock",
    "A simple calculator",
    "A dice roller",
    "A colour picker that shows the hex code",
    "A word counter for a text box",
    "A countdown timer",
    "A BMI calculator",
    "A coin flip app",
    "A shopping list",
    "A password generator",
    "A guess the number game",
    "A light and dark mode toggle page",
    "A flashcard app for learning words",
    "A unit converter from kilometres to miles",
)


async def answer(model: str, prompt: str) -> tuple[str, float]:
    provider = build_provider(load_config().contestant(model))
    messages: list[ChatMessage] = [
        {"role": "system", "content": WEBDEV_SYSTEM_PROMPT},
        {"role": "user", "content": prompt},
    ]
    started = time.perf_counter()
    events = [event async for event in provider.stream(messages)]
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    return text, time.perf_counter() - started


async def main(prompts: int, models: list[str], save: Path | None) -> None:
    async with AppChecker(CHROMIUM) as checker:
        for model in models:
            extracted = runs = 0
            seconds: list[float] = []
            failures: dict[str, int] = {}
            for number, prompt in enumerate(APP_PROMPTS[:prompts]):
                text, elapsed = await answer(model, prompt)
                if save is not None:
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"{model}-{number:02d}.md").write_text(f"{prompt}\n\n{text}")
                seconds.append(elapsed)
                app = extract_app(text)
                if app.html is None:
                    failures[app.reason or "no app"] = failures.get(app.reason or "no app", 0) + 1
                    continue
                extracted += 1
                result = await checker.check(app.html)
                if result.runs:
                    runs += 1
                else:
                    reason = result.failure or (
                        "uncaught error" if result.uncaught_errors else "rendered nothing"
                    )
                    failures[reason[:60]] = failures.get(reason[:60], 0) + 1
            print(
                f"{model}: apps that run {runs}/{prompts}, extracted {extracted}/{prompts}, "
                f"median {statistics.median(seconds):.1f} s per answer; not running: {failures}",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=len(APP_PROMPTS))
    parser.add_argument("--models", nargs="+", default=list(EMBEDDED))
    parser.add_argument("--save", type=Path, help="a folder to keep every answer in")
    arguments = parser.parse_args()
    prompts = min(arguments.prompts, len(APP_PROMPTS))
    asyncio.run(main(prompts, arguments.models, arguments.save))

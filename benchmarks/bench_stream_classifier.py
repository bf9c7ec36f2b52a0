"""Can a voter tell which model wrote a side from its stream? Not part of the tests.

    .venv/bin/python benchmarks/bench_stream_classifier.py [--battles 240] [--concurrency 8]

Models are played by the OpenAI-protocol TEST DOUBLE in tests/openai_test_server.py (a
scripted HTTP server, not a model), scripted with different tokenizers, speeds, first-token
delays and one with a `max_tokens` cap, behind the real arena (ArenaService, OpenAI-compatible
provider, SQLite). Every model answers with the same text (the prompt, echoed), so the final
text says nothing about the model beyond the one cap, which the text shows anyway.

The same battles (same texts, same models on the same sides) are run unpaced (one event per
provider token, as before pacing) and paced (the default `stream:` settings). Each side gives
one sample: event count, chunk-size statistics, inter-event timing, time to its first event
and to its `done`, plus the answer's length. Labelled with the model that wrote it, the
samples train a logistic regression and a random forest (5-fold stratified cross-validation);
the accuracy is printed before and after pacing, against chance (the majority class) and
against a classifier that sees only the final text's length (what pacing cannot hide).

Also printed: the first-token latency pacing adds, per battle, (1) to the first visible text
against the unpaced twin of the battle and (2) over the backend: after every side's provider
has sent its first word, which is the earliest the pacer may show both sides together.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from glassarena.arena.bootstrap import Arena, build_arena
from glassarena.arena.config import load_config
from glassarena.arena.service import BattleRequest
from openai_test_server import ModelServerDouble, ScriptedModel

# Three tokenizers, three speeds (one slower than the pacing cadence), one max_tokens cap.
MODELS: dict[str, tuple[ScriptedModel, int | None]] = {
    "words-fast": (
        ScriptedModel(answer="{prompt}", token_delay=0.002, first_token_delay=0.05),
        None,
    ),
    "trigrams-medium": (
        ScriptedModel(
            answer="{prompt}",
            token_delay=0.004,
            first_token_delay=0.15,
            token_pattern=r".{1,3}",
        ),
        None,
    ),
    "subwords-slow-capped": (
        ScriptedModel(
            answer="{prompt}",
            token_delay=0.009,
            first_token_delay=0.3,
            token_pattern=r"\s?[A-Za-z]{1,4}|\s?[^A-Za-z\s]|\s+",
        ),
        160,
    ),
}
WORDS = (
    "the",
    "arena",
    "model",
    "answer",
    "vote",
    "blind",
    "side",
    "stream",
    "token",
    "paris",
    "capital",
    "france",
    "river",
    "seine",
    "population",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "because",
    "however",
    "therefore",
    "example",
    "question",
    "result",
    "people",
    "city",
    "history",
    "language",
    "system",
    "process",
    "simple",
)


@dataclass
class Side:
    model: str
    events: list[tuple[float, dict[str, Any]]]  # (seconds since start, event) of this side

    def features(self) -> list[float]:
        deltas = [(t, e["text"]) for t, e in self.events if e["type"] == "delta"]
        sizes = [len(text) for _, text in deltas] or [0]
        times = [t for t, _ in deltas] or [0.0]
        gaps = np.diff(times) if len(times) > 1 else np.array([0.0])
        done = next((t for t, e in self.events if e["type"] in ("done", "failed")), times[-1])
        return [
            len(deltas),
            float(np.mean(sizes)),
            float(np.std(sizes)),
            float(min(sizes)),
            float(max(sizes)),
            float(np.median(sizes)),
            float(np.mean(gaps)),
            float(np.std(gaps)),
            float(np.median(gaps)),
            times[0],
            done,
            float(sum(sizes)),
        ]

    def text_length(self) -> float:
        return float(sum(len(e["text"]) for _, e in self.events if e["type"] == "delta"))

    def first_event(self) -> float:
        return next(t for t, e in self.events if e["type"] == "delta")

    def first_word_complete(self) -> float:
        """When the text streamed so far first held a whole word (or the side ended)."""
        text = ""
        for t, event in self.events:
            if event["type"] != "delta":
                return t
            text += event["text"]
            stripped = text.lstrip()
            if any(ch.isspace() for ch in stripped) and stripped:
                return t
        return self.events[-1][0]


def answer_texts(count: int, rng: random.Random) -> list[str]:
    texts = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(3, 14)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(5, 16))]
            sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", ":"]))
        texts.append(" ".join(sentences))
    return texts


def arena_config(directory: Path, base_url: str, paced: bool) -> Path:
    lines = [
        "limits: {max_prompt_chars: 20000, answer_timeout_seconds: 120}",
        "rate_limits: {battles_per_minute_per_voter: 1000000, battles_per_minute_per_ip: 1000000}",
        f"stream: {{paced: {'true' if paced else 'false'}}}",
        "contestants:",
    ]
    for name, (_, max_tokens) in MODELS.items():
        generation = f", generation: {{max_tokens: {max_tokens}}}" if max_tokens else ""
        lines.append(
            f"  - {{name: {name}, provider: {{kind: openai, model: {name}, "
            f"base_url: '{base_url}'}}{generation}}}"
        )
    path = directory / f"arena-{'paced' if paced else 'unpaced'}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def run_battle(
    arena: Arena, index: int, pair: tuple[str, str], text: str
) -> tuple[Side, Side]:
    service = arena.service
    voter = service.voter(f"bench-{index}", "198.51.100.1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    live = await service.start(voter, BattleRequest(mode="named", prompt=text, models=pair))
    sides = {"a": Side(pair[0], []), "b": Side(pair[1], [])}
    async for event in live.events():
        if event.get("side") in sides:
            sides[event["side"]].events.append((loop.time() - started, event))
    return sides["a"], sides["b"]


async def collect(
    config_path: Path,
    database: Path,
    battles: Sequence[tuple[tuple[str, str], str]],
    concurrency: int,
) -> list[tuple[Side, Side]]:
    arena = build_arena(load_config(config_path), f"sqlite:///{database}", secret_key="bench")
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, pair: tuple[str, str], text: str) -> tuple[Side, Side]:
        async with gate:
            return await run_battle(arena, index, pair, text)

    try:
        return list(
            await asyncio.gather(*(one(i, pair, text) for i, (pair, text) in enumerate(battles)))
        )
    finally:
        await arena.close()


def accuracy(features: NDArray[np.float64], labels: Sequence[str]) -> dict[str, float]:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    classifiers = {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "random forest": RandomForestClassifier(n_estimators=200, random_state=0),
    }
    return {
        name: float(cross_val_score(classifier, features, labels, cv=folds).mean())
        for name, classifier in classifiers.items()
    }


def percentile(samples: Sequence[float], fraction: float) -> float:
    return float(np.percentile(np.asarray(samples), fraction * 100))


def report(
    unpaced: list[tuple[Side, Side]], paced: list[tuple[Side, Side]], seconds: float
) -> None:
    labels = [side.model for battle in unpaced for side in battle]
    counts = {label: labels.count(label) for label in set(labels)}
    chance = max(counts.values()) / len(labels)
    print(f"{len(unpaced)} battles x 2 sides, models {counts}; collected in {seconds:.0f} s")
    print(f"chance (majority class): {chance:.1%}")
    length_only = np.array([[side.text_length()] for battle in paced for side in battle])
    for name, score in accuracy(length_only, labels).items():
        print(f"final text length only (not hidden by pacing), {name}: {score:.1%}")
    for title, battles in (("BEFORE (unpaced)", unpaced), ("AFTER (paced)", paced)):
        features = np.array([side.features() for battle in battles for side in battle])
        for name, score in accuracy(features, labels).items():
            print(f"{title}, {name}: {score:.1%}")
    added_first_text = [
        min(p.first_event() for p in paced_battle) - min(u.first_event() for u in unpaced_battle)
        for paced_battle, unpaced_battle in zip(paced, unpaced, strict=True)
    ]
    over_backend = [
        min(p.first_event() for p in paced_battle)
        - max(u.first_word_complete() for u in unpaced_battle)
        for paced_battle, unpaced_battle in zip(paced, unpaced, strict=True)
    ]
    for title, samples in (
        ("first visible text, paced minus unpaced twin", added_first_text),
        ("first paced text over the backend (every side's first word in)", over_backend),
    ):
        print(
            f"{title}: p50 {percentile(samples, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(samples, 0.99) * 1000:.1f} ms, "
            f"median of medians {statistics.median(samples) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=240)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = list(MODELS)
    pairs = [(a, b) for a in names for b in names if a != b]
    texts = answer_texts(args.battles, rng)
    battles = [(pairs[i % len(pairs)], text) for i, text in enumerate(texts)]
    print("Models are played by the OpenAI-protocol TEST DOUBLE (tests/openai_test_server.py).")
    scripts = {name: script for name, (script, _) in MODELS.items()}
    with ModelServerDouble(scripts) as server, tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        loop = asyncio.new_event_loop()
        started = loop.time()
        runs = {}
        for paced in (False, True):
            config = arena_config(folder, server.openai_base_url, paced=paced)
            database = folder / f"{'paced' if paced else 'unpaced'}.sqlite"
            runs[paced] = loop.run_until_complete(
                collect(config, database, battles, args.concurrency)
            )
        seconds = loop.time() - started
        loop.close()
    report(runs[False], runs[True], seconds)


if __name__ == "__main__":
    main()

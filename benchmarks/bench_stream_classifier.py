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
import math
import random
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
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
from glassarena.arena import service as arena_service
from glassarena.arena.bootstrap import Arena, build_arena
from glassarena.arena.config import load_config
from glassarena.arena.live import Event
from glassarena.arena.pacing import StreamPacing, TurnStream, turn_stream
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
    started: float  # loop time the battle was asked for
    events: list[tuple[float, dict[str, Any]]]  # (loop time, event) of this side
    first_text: float = math.inf  # loop time the provider's first text reached the arena
    first_word: float = math.inf  # ... and the first whole word (or the end of the answer)

    def features(self) -> list[float]:
        deltas = [(t - self.started, e["text"]) for t, e in self.events if e["type"] == "delta"]
        sizes = [len(text) for _, text in deltas] or [0]
        times = [t for t, _ in deltas] or [0.0]
        gaps = np.diff(times) if len(times) > 1 else np.array([0.0])
        done = next(
            (t - self.started for t, e in self.events if e["type"] in ("done", "failed")), times[-1]
        )
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
        """Loop time of the side's first delta event."""
        return next(t for t, e in self.events if e["type"] == "delta")


def answer_texts(count: int, rng: random.Random) -> list[str]:
    texts = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(3, 14)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(5, 16))]
            sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", ":"]))
        texts.append(" ".join(sentences))
    return texts


def arena_config(directory: Path, base_url: str, paced: bool, tick_ms: int) -> Path:
    lines = [
        "limits: {max_prompt_chars: 20000, answer_timeout_seconds: 120}",
        "rate_limits: {battles_per_minute_per_voter: 1000000, battles_per_minute_per_ip: 1000000}",
        f"stream: {{paced: {'true' if paced else 'false'}, tick_ms: {tick_ms}}}",
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


@dataclass
class Arrival:
    """When a side's provider text reached the arena's pacer (loop time)."""

    first_text: float = math.inf
    first_word: float = math.inf  # the first whole word, or the end of the answer
    text: str = ""


class _ObservedStream:
    """The arena's own turn stream, noting when each side's provider text reaches it."""

    def __init__(self, stream: TurnStream, arrivals: dict[str, Arrival]) -> None:
        self._stream, self._arrivals = stream, arrivals
        self._loop = asyncio.get_running_loop()

    def write(self, side: str, text: str) -> None:
        now, arrival = self._loop.time(), self._arrivals.setdefault(side, Arrival())
        arrival.first_text = min(arrival.first_text, now)
        arrival.text += text
        if re.search(r"\S\s", arrival.text):
            arrival.first_word = min(arrival.first_word, now)
        self._stream.write(side, text)

    def end(self, side: str) -> None:
        arrival = self._arrivals.setdefault(side, Arrival())
        arrival.first_word = min(arrival.first_word, self._loop.time())
        self._stream.end(side)

    async def delivered(self, side: str) -> None:
        await self._stream.delivered(side)


ARRIVALS: dict[str, dict[str, Arrival]] = {}  # battle id -> side -> arrival


@asynccontextmanager
async def observed_turn_stream(
    sides: Sequence[str], emit: Callable[[Event], None], pacing: StreamPacing
) -> AsyncIterator[TurnStream]:
    battle_id = emit.__self__.battle_id  # type: ignore[attr-defined]  # LiveBattle.emit
    async with turn_stream(sides, emit, pacing) as stream:
        yield _ObservedStream(stream, ARRIVALS.setdefault(battle_id, {}))


async def run_battle(
    arena: Arena, index: int, pair: tuple[str, str], text: str
) -> tuple[Side, Side]:
    service = arena.service
    voter = service.voter(f"bench-{index}", "198.51.100.1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    sides = {"a": Side(pair[0], started, []), "b": Side(pair[1], started, [])}
    live = await service.start(voter, BattleRequest(mode="named", prompt=text, models=pair))
    async for event in live.events():
        if event.get("side") in sides:
            sides[event["side"]].events.append((loop.time(), event))
    for side, arrival in ARRIVALS.pop(live.battle_id).items():
        sides[side].first_text, sides[side].first_word = arrival.first_text, arrival.first_word
    return sides["a"], sides["b"]


async def collect(
    config_path: Path,
    database: Path,
    battles: Sequence[tuple[tuple[str, str], str]],
    concurrency: int,
) -> list[tuple[Side, Side]]:
    arena = build_arena(
        load_config(config_path),
        f"sqlite:///{database}",
        secret_key="bench-stream-classifier-secret",
    )
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
    first_shown = [min(side.first_event() for side in battle) for battle in paced]
    added_to_first_text = [
        shown - min(side.first_text for side in battle)
        for shown, battle in zip(first_shown, paced, strict=True)
    ]
    over_backend = [
        shown - max(side.first_word for side in battle)
        for shown, battle in zip(first_shown, paced, strict=True)
    ]
    for title, samples in (
        ("paced first text after the first provider text of either side", added_to_first_text),
        ("paced first text over the backend (after both sides' first word)", over_backend),
    ):
        print(
            f"{title}: p50 {percentile(samples, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(samples, 0.99) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--battles", type=int, default=240)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--tick-ms", type=int, default=50, help="the pacing cadence (the default config's: 50)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = list(MODELS)
    pairs = [(a, b) for a in names for b in names if a != b]
    texts = answer_texts(args.battles, rng)
    battles = [(pairs[i % len(pairs)], text) for i, text in enumerate(texts)]
    print("Models are played by the OpenAI-protocol TEST DOUBLE (tests/openai_test_server.py).")
    # Observe, without changing it, when the providers' text reaches the arena's pacer.
    arena_service.turn_stream = observed_turn_stream  # type: ignore[assignment]
    scripts = {name: script for name, (script, _) in MODELS.items()}
    with ModelServerDouble(scripts) as server, tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        loop = asyncio.new_event_loop()
        started = loop.time()
        runs = {}
        for paced in (False, True):
            config = arena_config(folder, server.openai_base_url, paced, args.tick_ms)
            database = folder / f"{'paced' if paced else 'unpaced'}.sqlite"
            runs[paced] = loop.run_until_complete(
                collect(config, database, battles, args.concurrency)
            )
        seconds = loop.time() - started
        loop.close()
    report(runs[False], runs[True], seconds)


if __name__ == "__main__":
    main()

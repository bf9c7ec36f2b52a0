"""Tone on the live boards: with tone style control on, each battle's style counts carry its
emoji and sentiment, and the style-controlled boards report their coefficients."""

from __future__ import annotations

import json
import random

from scripted_arena import ScriptedProvider, make_service

from glassarena.arena.leaderboard_refresher import LeaderboardRefresher
from glassarena.arena.log_audit import read_log, recompute_served, served_json
from glassarena.arena.log_export import export_lines
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.leaderboard import LeaderboardOptions
from glassarena.providers.base import ChatMessage
from glassarena.storage.database import Database
from glassarena.vocabulary import Winner

LIMITS = RateLimits(
    battles_per_minute_per_voter=10_000,
    battles_per_minute_per_ip=10_000,
    votes_per_minute_per_voter=10_000,
    votes_per_minute_per_ip=10_000,
)


class MoodyProvider(ScriptedProvider):
    """Cheerful with emoji in some answers, flat in others, at random (seeded)."""

    def __init__(self, signature: str, seed: int) -> None:
        super().__init__(signature)
        self._random = random.Random(seed)
        self.cheerful = False

    def reply(self, messages: list[ChatMessage]) -> str:
        rng = self._random
        self.cheerful = rng.random() < 0.5
        # Markdown and length vary independently of the mood (every style feature varies).
        text = "# Answer\n" * rng.randint(0, 1) + "- point\n" * rng.randint(0, 3)
        text += "**Note** " * rng.randint(0, 2) + " ".join(["word"] * rng.randint(3, 30))
        if self.cheerful:  # how cheerful, and with how many emoji, varies too
            mood = rng.choice(["Wonderful, happy to help!", "Glad to help.", "Great question!"])
            return f"{text} {mood}" + " 😊" * rng.randint(1, 3)
        return f"{text} " + rng.choice(["Done.", "Sorry, this is hard.", "Here it is."])


async def _votes(service: ArenaService, providers: dict[str, MoodyProvider], count: int) -> None:
    """Battles whose cheerful side wins 85% of the time, whoever answered it."""
    rng = random.Random(count)
    voter = service.voter("moods", "192.0.2.50")
    for _ in range(count):
        live = await service.start(voter, BattleRequest(prompt="Help me?"))
        async for _ in live.events():
            pass
        battle = service.repository.battle(live.battle_id)
        assert battle is not None
        cheerful = [
            side
            for side, identity in battle.models.items()
            if "😊" in (battle.turns[0].answer(side).text or "")
        ]
        if len(cheerful) == 1 and rng.random() < 0.85:
            winner = Winner.MODEL_A if cheerful[0] == "a" else Winner.MODEL_B
        else:
            winner = rng.choice([Winner.MODEL_A, Winner.MODEL_B])
        service.vote(voter, live.battle_id, winner)


def _providers() -> dict[str, MoodyProvider]:
    names = ("alpha-model", "beta-model", "gamma-model")
    return {name: MoodyProvider(name[0], seed) for seed, name in enumerate(names)}


async def test_tone_counts_are_stored_and_reported_on_the_style_board(database: Database) -> None:
    providers = _providers()
    service = make_service(database, providers, rate_limits=LIMITS, tone_style=True)
    await _votes(service, providers, 120)
    (vote, *_) = service.repository.counted_votes_in_log(1)
    assert vote.style_a is not None and {"emoji_count_a", "sentiment_a"} <= set(vote.style_a)
    refresher = LeaderboardRefresher(
        service.repository, options=LeaderboardOptions(tone_style=True), categories=["text"]
    )
    refresher.refresh()
    styled = refresher.snapshot("text", style_control=True)
    assert styled is not None and styled.leaderboard is not None, styled.message
    coefficients = {item["feature"]: item["coefficient"] for item in styled.leaderboard["style"]}
    assert {"tokens", "headers", "lists", "bold", "emoji", "sentiment"} == set(coefficients)
    assert coefficients["emoji"] + coefficients["sentiment"] > 0.3
    assert styled.leaderboard["options"]["tone_style"] is True
    plain = refresher.snapshot("text", style_control=False)
    assert plain is not None and plain.leaderboard is not None
    assert plain.leaderboard["style"] == []
    # The published log carries the tone counts: `glassarena verify` gets the same board.
    entries = read_log([line.decode() for line in export_lines(service.repository)], "log")
    served = served_json(styled.to_dict())
    assert recompute_served(entries, json.loads(served)) == served


async def test_votes_from_before_tone_was_on_are_even_in_tone(database: Database) -> None:
    providers = _providers()
    before = make_service(database, providers, rate_limits=LIMITS)
    await _votes(before, providers, 30)
    (old, *_) = before.repository.counted_votes_in_log(1)
    assert old.style_a is not None and "emoji_count_a" not in old.style_a
    after = make_service(database, providers, rate_limits=LIMITS, tone_style=True)
    await _votes(after, providers, 120)
    refresher = LeaderboardRefresher(
        after.repository, options=LeaderboardOptions(tone_style=True), categories=["text"]
    )
    refresher.refresh()
    styled = refresher.snapshot("text", style_control=True)
    assert styled is not None and styled.leaderboard is not None, styled.message
    assert styled.votes == 150
    assert {"emoji", "sentiment"} <= {item["feature"] for item in styled.leaderboard["style"]}

"""Votes written straight through the repository, as the service writes them.

For tests of the vote log: many battles with styled answers, counted and uncounted votes,
distinctive voter ids, IP hashes and prompts (so an export can be searched for them).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from glassarena.arena.vote_log import DatabaseVoteLog
from glassarena.battles.record import Winner
from glassarena.battles.style import side_style
from glassarena.storage.repository import AnswerResult, ArenaRepository

SEEDED_MODELS = ("alpha-seeded", "beta-seeded", "gamma-seeded")


@dataclass(frozen=True)
class SeededVote:
    battle_id: str
    voter_id: str
    ip_hash: str
    prompt: str
    counted: bool


def _styled_text(rng: random.Random) -> str:
    parts = ["# Title\n"] * rng.randint(0, 2) + ["- item\n"] * rng.randint(0, 4)
    parts += ["**bold** "] * rng.randint(0, 3) + ["word "] * rng.randint(1, 60)
    rng.shuffle(parts)
    return "".join(parts)


def seed_votes(
    repository: ArenaRepository,
    count: int,
    *,
    category: str = "text",
    uncounted_every: int = 5,
    seed: int = 3,
    prefix: str = "seeded",
) -> list[SeededVote]:
    """`count` voted battles over every pair of SEEDED_MODELS; every n-th vote uncounted."""
    ids = [
        repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in SEEDED_MODELS
    ]
    pairs = [(ids[0], ids[1]), (ids[1], ids[2]), (ids[2], ids[0])]
    rng = random.Random(seed)
    seeded = []
    for number in range(count):
        model_a, model_b = pairs[number % 3]
        vote = SeededVote(
            battle_id=f"{prefix}-{number}",
            voter_id=f"raw-voter-id-{number % 4}-cookie",
            ip_hash=hashlib.sha256(f"203.0.113.{number % 7}".encode()).hexdigest(),
            prompt=f"private prompt number {number} about my medical history",
            counted=uncounted_every == 0 or number % uncounted_every != uncounted_every - 1,
        )
        repository.create_battle(
            public_id=vote.battle_id,
            mode="anonymous",
            kind="text",
            category=category,
            model_a_id=model_a,
            model_b_id=model_b,
            voter_id=vote.voter_id,
            ip_hash=vote.ip_hash,
            prompt=vote.prompt,
        )
        texts = {side: _styled_text(rng) for side in "ab"}
        for side, text in texts.items():
            repository.finish_answer(
                vote.battle_id, 1, side, AnswerResult(text=text, status="done")
            )
        repository.finish_turn(
            vote.battle_id,
            failure_reason=None,
            style_a=side_style([{"role": "assistant", "content": texts["a"]}], "a"),
            style_b=side_style([{"role": "assistant", "content": texts["b"]}], "b"),
        )
        repository.record_vote(
            vote.battle_id,
            winner=list(Winner)[rng.randrange(4)].value,
            voter_id=vote.voter_id,
            ip_hash=vote.ip_hash,
            counted=vote.counted,
            not_counted_reason=None if vote.counted else "named mode",
            log=DatabaseVoteLog().append,
        )
        seeded.append(vote)
    return seeded

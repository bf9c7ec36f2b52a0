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


def styled_text(rng: random.Random, most_words: int = 60) -> str:
    """An answer with a random amount of headers, list items, bold and words."""
    parts = ["# Title\n"] * rng.randint(0, 2) + ["- item\n"] * rng.randint(0, 4)
    parts += ["**bold** "] * rng.randint(0, 3) + ["word "] * rng.randint(1, most_words)
    rng.shuffle(parts)
    return "".join(parts)


def vote_on_a_battle(
    repository: ArenaRepository,
    battle_id: str,
    model_a: int,
    model_b: int,
    winner: Winner,
    *,
    kind: str = "text",
    category: str = "text",
    voter_id: str = "v",
    ip_hash: str = "h",
    prompt: str = "p",
    counted: bool = True,
    not_counted_reason: str = "named mode",
    answers: tuple[str, str] | None = None,
    prompt_categories: dict[str, object] | None = None,
) -> None:
    """One anonymous battle between two stored versions, finished (with these answers and
    their style, when given) and voted on."""
    repository.create_battle(
        public_id=battle_id,
        mode="anonymous",
        kind=kind,
        category=category,
        model_a_id=model_a,
        model_b_id=model_b,
        voter_id=voter_id,
        ip_hash=ip_hash,
        prompt=prompt,
        prompt_categories=prompt_categories,
    )
    styles: dict[str, dict[str, object] | None] = {"a": None, "b": None}
    if answers is not None:
        for side, text in zip("ab", answers, strict=True):
            repository.finish_answer(battle_id, 1, side, AnswerResult(text=text, status="done"))
            styles[side] = side_style([{"role": "assistant", "content": text}], side)
    repository.finish_turn(battle_id, failure_reason=None, style_a=styles["a"], style_b=styles["b"])
    repository.record_vote(
        battle_id,
        winner=winner.value,
        voter_id=voter_id,
        ip_hash=ip_hash,
        counted=counted,
        not_counted_reason=None if counted else not_counted_reason,
        log=DatabaseVoteLog().append,
    )


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
        answers = (styled_text(rng), styled_text(rng))
        vote_on_a_battle(
            repository,
            vote.battle_id,
            model_a,
            model_b,
            list(Winner)[rng.randrange(4)],
            category=category,
            voter_id=vote.voter_id,
            ip_hash=vote.ip_hash,
            prompt=vote.prompt,
            counted=vote.counted,
            answers=answers,
        )
        seeded.append(vote)
    return seeded

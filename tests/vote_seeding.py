"""Votes written straight through the repository, as the service writes them.

For tests of the vote log: many battles with styled answers, counted and uncounted votes,
distinctive voter ids, IP hashes and prompts (so an export can be searched for them).
"""

from __future__ import annotations

import hashlib
import math
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


CROWD_MODELS = ("crowd-a", "crowd-b", "crowd-c", "crowd-d", "crowd-e", "crowd-f")
# Bradley-Terry strengths (natural log): crowd-a best, crowd-f (the attackers' target) worst.
CROWD_STRENGTHS = (1.5, 1.0, 0.5, 0.0, -0.5, -1.0)


@dataclass(frozen=True)
class CrowdVotes:
    model_ids: dict[str, int]
    battle_ids: list[str]  # in vote order


def seed_honest_crowd(
    repository: ArenaRepository, voters: int, votes_each: int, *, seed: int = 11
) -> CrowdVotes:
    """Honest voters judging random pairs of CROWD_MODELS as a Bradley-Terry crowd would
    (ties 10 %), each from an IP hash of their own, interleaved as a crowd votes."""
    ids = {
        name: repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in CROWD_MODELS
    }
    rng = random.Random(seed)
    battle_ids = []
    for number in range(voters * votes_each):
        voter = number % voters
        first, second = rng.sample(range(len(CROWD_MODELS)), 2)
        p = 1 / (1 + math.exp(CROWD_STRENGTHS[second] - CROWD_STRENGTHS[first]))
        draw = rng.random()
        winner = (
            Winner.TIE if draw < 0.1 else Winner.MODEL_A if draw < 0.1 + 0.9 * p else Winner.MODEL_B
        )
        battle_id = f"crowd-{number}"
        vote_on_a_battle(
            repository,
            battle_id,
            ids[CROWD_MODELS[first]],
            ids[CROWD_MODELS[second]],
            winner,
            voter_id=f"crowd-voter-{voter}",
            ip_hash=f"crowd-ip-{voter}",
        )
        battle_ids.append(battle_id)
    return CrowdVotes(ids, battle_ids)


def seed_target_fan(
    repository: ArenaRepository,
    crowd: CrowdVotes,
    votes: int,
    *,
    target: str = CROWD_MODELS[-1],
    voter_id: str = "fan-voter",
    seed: int = 12,
) -> list[str]:
    """One attacker who votes only in battles with `target`, always for it (target-only
    rigging, one identity): the battle ids of its votes."""
    rng = random.Random(seed)
    others = [name for name in CROWD_MODELS if name != target]
    battle_ids = []
    for number in range(votes):
        rival = rng.choice(others)
        target_first = rng.random() < 0.5
        pair = (target, rival) if target_first else (rival, target)
        battle_id = f"fan-{voter_id}-{number}"
        vote_on_a_battle(
            repository,
            battle_id,
            crowd.model_ids[pair[0]],
            crowd.model_ids[pair[1]],
            Winner.MODEL_A if target_first else Winner.MODEL_B,
            voter_id=voter_id,
            ip_hash=f"{voter_id}-ip",
        )
        battle_ids.append(battle_id)
    return battle_ids

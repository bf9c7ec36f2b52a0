"""/integrity counts the votes that do not count, by reason (SQLite and PostgreSQL)."""

from __future__ import annotations

from glassarena.storage.database import Database
from glassarena.storage.integrity import IntegrityStore
from glassarena.storage.repository import ArenaRepository
from glassarena.vocabulary import Winner
from vote_seeding import vote_on_a_battle

LEAK = "this battle revealed a model's identity, so it does not count"


def test_uncounted_votes_are_grouped_by_reason_without_their_detail(
    database: Database, repository: ArenaRepository
) -> None:
    a, b = (
        repository.ensure_version(name, "scripted", {"name": name}, f"fp-{name}").version_id
        for name in ("model-a", "model-b")
    )
    reasons = [
        None,
        None,
        "named mode",
        f"{LEAK} (answer A names itself: Claude)",
        f"{LEAK} (the prompt asks the model who it is: who are you)",
        "named mode",
        f"{LEAK} (answer B names itself: Gemini)",
    ]
    for number, reason in enumerate(reasons):
        vote_on_a_battle(
            repository,
            f"b{number}",
            a,
            b,
            Winner.MODEL_A,
            counted=reason is None,
            not_counted_reason=reason or "",
        )
    assert IntegrityStore(database).uncounted_votes() == {LEAK: 3, "named mode": 2}


def test_an_arena_where_every_vote_counts_has_no_uncounted_reasons(database: Database) -> None:
    assert IntegrityStore(database).uncounted_votes() == {}

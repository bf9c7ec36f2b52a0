"""Realised sampling shares from the database: per organization and model, per window.

Shares are of model appearances (a battle appears once for each of its two models)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from scripted_arena import MODEL_NAMES, ScriptedProvider, make_service

from glassarena.arena.integrity import realised_shares, sampling_windows
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import BattleRequest
from glassarena.battles.record import Winner
from glassarena.storage.database import Database
from glassarena.storage.integrity import IntegrityStore
from glassarena.storage.schema import BattleRow

ORGANIZATIONS = {MODEL_NAMES[0]: "lab-one", MODEL_NAMES[1]: "lab-one", MODEL_NAMES[2]: "lab-two"}


async def test_shares_count_anonymous_battles_and_counted_votes_per_window(
    database: Database,
) -> None:
    providers = {name: ScriptedProvider(f"S{i}") for i, name in enumerate(MODEL_NAMES)}
    service = make_service(
        database,
        providers,
        rate_limits=RateLimits(battles_per_minute_per_voter=99),
        organizations=ORGANIZATIONS,
    )
    voter = service.voter("shares", "198.51.100.20")
    battle_ids = []
    for _ in range(6):
        live = await service.start(voter, BattleRequest(prompt="Hi."))
        async for _ in live.events():
            pass
        battle_ids.append(live.battle_id)
    for battle_id in battle_ids[:4]:
        service.vote(voter, battle_id, Winner.MODEL_A)
    named = await service.start(
        voter, BattleRequest(mode="named", prompt="Hi.", models=MODEL_NAMES[:2])
    )
    async for _ in named.events():
        pass  # chosen by the voter, not by the policy: not part of the shares
    with database.engine.begin() as connection:
        connection.execute(
            sa.update(BattleRow)
            .where(BattleRow.public_id == battle_ids[0])
            .values(created_at=datetime.now(UTC) - timedelta(days=10))
        )

    shares = realised_shares(
        IntegrityStore(database).version_activities(sampling_windows(datetime.now(UTC)))
    )

    everything = shares["all"]
    assert (everything["appearances"], everything["counted_vote_appearances"]) == (12, 8)
    assert sum(row["battles"] for row in everything["models"]) == 12  # two sides each
    assert sum(row["battle_share"] for row in everything["models"]) == pytest.approx(1.0)
    assert sum(row["vote_share"] for row in everything["organizations"]) == pytest.approx(1.0)
    organizations = {row["organization"]: row for row in everything["organizations"]}
    models = {row["model"]: row for row in everything["models"]}
    assert set(organizations) <= {"lab-one", "lab-two"}
    assert organizations["lab-one"]["battles"] == sum(
        models[name]["battles"] for name in MODEL_NAMES[:2] if name in models
    )
    assert (shares["30d"]["appearances"], shares["7d"]["appearances"]) == (12, 10)
    assert shares["7d"]["counted_vote_appearances"] == 6


async def test_a_model_without_an_organization_counts_as_unknown(database: Database) -> None:
    providers = {name: ScriptedProvider(f"S{i}") for i, name in enumerate(MODEL_NAMES[:2])}
    service = make_service(database, providers, organizations={MODEL_NAMES[0]: "lab-one"})
    voter = service.voter("unknown", "198.51.100.21")
    live = await service.start(voter, BattleRequest(prompt="Hi."))
    async for _ in live.events():
        pass
    shares = realised_shares(
        IntegrityStore(database).version_activities(sampling_windows(datetime.now(UTC)))
    )
    organizations = {row["organization"]: row["battles"] for row in shares["all"]["organizations"]}
    assert organizations == {"lab-one": 1, "unknown": 1}

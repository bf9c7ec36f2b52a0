"""Why people voted: reasons after a decisive vote, on SQLite and PostgreSQL.

Each refusal below was a request the endpoint would otherwise have stored: reasons for a
battle without a vote (they would have been shown and taken before the vote), for someone
else's battle, for a tie, and a second set overwriting the first.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from scripted_arena import make_service

from glassarena.arena.errors import (
    InvalidRequest,
    NotFound,
    RateLimited,
    ReasonsAlreadyGiven,
    ReasonsBeforeVote,
    ReasonsEmpty,
    ReasonsWithoutAPick,
)
from glassarena.arena.export import exported_battles
from glassarena.arena.leaderboard_refresher import battle_table
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.arena.vote_reasons import MAX_NOTE_CHARS, clean_note, summarise
from glassarena.arena.voter import Voter
from glassarena.leaderboard import compute_leaderboard
from glassarena.storage.database import Database
from glassarena.storage.vote_reasons import VoteReasonStore
from glassarena.vocabulary import VoteReason, Winner


async def _finished_battle(service: ArenaService, voter: Voter) -> str:
    live = await service.start(voter, BattleRequest(prompt="Why is the sky blue?"))
    async for _ in live.events():
        pass
    return live.battle_id


async def test_reasons_are_stored_with_a_decisive_vote(
    service: ArenaService, voter: Voter, database: Database
) -> None:
    battle_id = await _finished_battle(service, voter)
    reveal = service.vote(voter, battle_id, Winner.MODEL_B)
    given = service.give_reasons(
        voter, battle_id, ["shorter", "correct", "correct"], "  Got it\nright ‮ first "
    )
    assert given.reasons == (VoteReason.CORRECT, VoteReason.SHORTER)
    assert given.note == "Got it right first"
    store = VoteReasonStore(database)
    assert store.of_battles()[battle_id] == given
    winner = reveal.models["b"]
    [summary] = summarise(store.of_counted_wins("text")).values()
    assert summary.model == winner.name
    assert summary.counts == {VoteReason.CORRECT: 1, VoteReason.SHORTER: 1}
    assert (summary.votes, summary.notes) == (1, 1)
    assert summary.to_json()["reasons"]["clearer"] == 0


async def test_reasons_before_the_vote_are_refused(service: ArenaService, voter: Voter) -> None:
    battle_id = await _finished_battle(service, voter)
    with pytest.raises(ReasonsBeforeVote):
        service.give_reasons(voter, battle_id, ["correct"], None)
    service.vote(voter, battle_id, Winner.MODEL_A)
    assert service.give_reasons(voter, battle_id, ["correct"], None).reasons


async def test_reasons_for_someone_elses_battle_look_like_a_missing_battle(
    service: ArenaService, voter: Voter
) -> None:
    battle_id = await _finished_battle(service, voter)
    service.vote(voter, battle_id, Winner.MODEL_A)
    stranger = service.voter("someone-else", "198.51.100.9")
    with pytest.raises(NotFound):
        service.give_reasons(stranger, battle_id, ["correct"], None)
    with pytest.raises(NotFound):
        service.give_reasons(voter, "no-such-battle", ["correct"], None)


async def test_reasons_are_given_once(
    service: ArenaService, voter: Voter, database: Database
) -> None:
    battle_id = await _finished_battle(service, voter)
    service.vote(voter, battle_id, Winner.MODEL_A)
    service.give_reasons(voter, battle_id, ["clearer"], None)
    with pytest.raises(ReasonsAlreadyGiven):
        service.give_reasons(voter, battle_id, ["safer"], "changed my mind")
    assert VoteReasonStore(database).of_battles()[battle_id].reasons == (VoteReason.CLEARER,)


async def test_a_tie_takes_no_reasons(service: ArenaService, voter: Voter) -> None:
    battle_id = await _finished_battle(service, voter)
    service.vote(voter, battle_id, Winner.TIE)
    with pytest.raises(ReasonsWithoutAPick):
        service.give_reasons(voter, battle_id, ["correct"], None)


async def test_bad_reasons_are_clear_errors(service: ArenaService, voter: Voter) -> None:
    battle_id = await _finished_battle(service, voter)
    service.vote(voter, battle_id, Winner.MODEL_A)
    with pytest.raises(InvalidRequest, match="'funnier' is not one of correct"):
        service.give_reasons(voter, battle_id, ["funnier"], None)
    with pytest.raises(InvalidRequest, match=f"the limit is {MAX_NOTE_CHARS}"):
        service.give_reasons(voter, battle_id, [], "x" * (MAX_NOTE_CHARS + 1))
    with pytest.raises(ReasonsEmpty):
        service.give_reasons(voter, battle_id, [], " \u200b\n ")
    # None of the refusals stored anything: the reasons can still be given.
    assert service.give_reasons(voter, battle_id, [], "fine").note == "fine"


def test_notes_lose_control_and_format_characters() -> None:
    assert clean_note("a\u202eb\u200bc\x00d\te") == "abcd e"
    assert (
        clean_note("<script>alert(1)</script>") == "<script>alert(1)</script>"
    )  # escaped on output
    assert clean_note("   ") is None


async def test_refused_reasons_are_charged_like_refused_votes(
    database: Database, providers
) -> None:
    limits = RateLimits(refused_votes_per_minute_per_voter=3)
    service = make_service(database, providers, rate_limits=limits)
    voter = service.voter("prober", "192.0.2.44")
    battle_id = await _finished_battle(service, voter)
    for _ in range(3):
        with pytest.raises(ReasonsBeforeVote):
            service.give_reasons(voter, battle_id, ["correct"], None)
    with pytest.raises(RateLimited, match="refused votes"):
        service.give_reasons(voter, battle_id, ["correct"], None)


async def test_reasons_change_neither_the_vote_log_nor_the_board(
    database: Database, providers
) -> None:
    limits = RateLimits(battles_per_minute_per_voter=100, votes_per_minute_per_voter=100)
    service = make_service(database, providers, rate_limits=limits)
    voter = service.voter("voter-r", "192.0.2.45")
    battles = []
    for number in range(12):
        battle_id = await _finished_battle(service, voter)
        service.vote(voter, battle_id, [Winner.MODEL_A, Winner.MODEL_B, Winner.TIE][number % 3])
        battles.append((battle_id, number % 3 != 2))

    def log() -> list[tuple[int, str]]:
        with database.engine.connect() as connection:
            query = sa.text("SELECT position, entry_hash FROM vote_log ORDER BY position")
            return [tuple(row) for row in connection.execute(query)]

    def board() -> list[tuple[str, float, float | None, float | None]]:
        table = battle_table(service.repository.counted_votes(["text"]))
        return [(r.model, r.rating, r.lower, r.upper) for r in compute_leaderboard(table).rows]

    log_before, board_before = log(), board()
    for battle_id, decisive in battles:
        if decisive:
            service.give_reasons(voter, battle_id, ["correct", "better_style"], "because")
    assert log() == log_before
    assert board() == board_before
    exported = exported_battles(service.repository, vote_reasons=VoteReasonStore(database))
    with_reasons = exported[exported["vote_reasons"].map(len) > 0]
    assert len(with_reasons) == 8
    assert set(with_reasons["vote_reason_note"]) == {"because"}
    ties = exported[exported["winner"] == "tie"]
    assert ties["vote_reason_note"].isna().all() and ties["vote_reasons"].map(len).eq(0).all()

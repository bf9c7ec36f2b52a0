"""A voter's own board from their own counted votes, on SQLite and PostgreSQL."""

from __future__ import annotations

from scripted_arena import make_service

from glassarena.arena.personal_board import personal_board
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.arena.voter import Voter
from glassarena.storage.database import Database
from glassarena.storage.personal_votes import OwnVote, PersonalVotes
from glassarena.vocabulary import Winner

PUBLIC = {"alpha-model": 1100.0, "beta-model": 1000.0, "gamma-model": 900.0}


async def _battle(service: ArenaService, voter: Voter, mode: str = "anonymous") -> str:
    request = (
        BattleRequest(prompt="Hi?")
        if mode == "anonymous"
        else BattleRequest(mode="named", prompt="Hi?", models=("alpha-model", "beta-model"))
    )
    live = await service.start(voter, request)
    async for _ in live.events():
        pass
    return live.battle_id


async def test_only_the_voters_own_counted_votes_enter(database: Database, providers) -> None:
    limits = RateLimits(battles_per_minute_per_voter=100, votes_per_minute_per_voter=100)
    service = make_service(database, providers, rate_limits=limits)
    me, other = service.voter("me", "192.0.2.1"), service.voter("other", "192.0.2.2")
    for _ in range(10):
        service.vote(me, await _battle(service, me), Winner.MODEL_A)
    service.vote(other, await _battle(service, other), Winner.MODEL_B)
    service.vote(me, await _battle(service, me, "named"), Winner.MODEL_B)  # never counted
    await _battle(service, me)  # not voted: nothing of it may enter
    own = PersonalVotes(database).of_voter("me", "text")
    assert len(own) == 10 and {vote.winner for vote in own} == {Winner.MODEL_A}
    assert PersonalVotes(database).of_voter("me", "webdev") == []
    assert len(PersonalVotes(database).of_voter("other", "text")) == 1


def test_ten_votes_reorder_the_board_the_voter_disagrees_with() -> None:
    votes = [OwnVote("gamma-model", "alpha-model", Winner.MODEL_A)] * 10
    board = personal_board("text", PUBLIC, votes)
    assert board.rows[0].model == "gamma-model"
    assert board.votes == 10 and board.left_out == 0
    assert board.rank_correlation is not None and board.rank_correlation < 1.0
    beta = next(row for row in board.rows if row.model == "beta-model")
    assert (beta.rating, beta.public_rank, beta.votes) == (1000.0, 2, 0)


def test_without_votes_it_is_the_public_board_and_unknown_models_are_left_out() -> None:
    stranger = [OwnVote("alpha-model", "newcomer", Winner.MODEL_B)]
    board = personal_board("text", PUBLIC, stranger)
    assert [(row.model, row.rating) for row in board.rows] == list(PUBLIC.items())
    assert (board.votes, board.left_out, board.rank_correlation) == (0, 1, 1.0)
    assert board.to_json()["rows"][0]["public_rank"] == 1

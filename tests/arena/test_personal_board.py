"""A voter's own board from their own counted votes, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from scripted_arena import make_service

from glassarena.arena.personal_board import category_counts, category_mix_board, personal_board
from glassarena.arena.ratelimit import RateLimits
from glassarena.arena.service import ArenaService, BattleRequest
from glassarena.arena.voter import Voter
from glassarena.ratings.errors import RatingError
from glassarena.ratings.personal import mixed_ratings
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


# -- the public category boards re-weighted by the voter's own mix of categories ------------


def test_mixed_ratings_are_the_weighted_mean_of_the_boards_a_model_is_on() -> None:
    ratings = np.array([[1200.0, 1000.0, np.nan], [1000.0, 1100.0, 900.0]])
    mixed = mixed_ratings(ratings, np.array([0.75, 0.25]))
    assert mixed[0] == pytest.approx(0.75 * 1200 + 0.25 * 1000)
    assert mixed[1] == pytest.approx(0.75 * 1000 + 0.25 * 1100)
    assert mixed[2] == pytest.approx(900.0)  # only on the second board: not pulled to zero
    assert np.isnan(mixed_ratings(ratings, np.array([1.0, 0.0]))[2])
    with pytest.raises(RatingError):
        mixed_ratings(ratings, np.array([1.0, -0.5]))


def test_the_mix_weights_each_category_by_its_share_of_the_voters_tags() -> None:
    coding = {"categories": {"coding": True, "hard_prompts": True, "language_en": True}}
    poem = {"categories": {"creative_writing": True, "language_fr": True}}
    untagged = {"categories": {"language_en": True}}
    counts, tagged = category_counts([coding, coding, poem, untagged, None])
    assert counts == {"coding": 2, "hard_prompts": 2, "creative_writing": 1}
    assert tagged == 3
    boards = {
        "coding": {"alpha-model": 1200.0, "beta-model": 1000.0},
        "creative_writing": {"alpha-model": 900.0, "beta-model": 1100.0, "gamma-model": 950.0},
    }
    mix = category_mix_board(boards, counts, PUBLIC, tagged)
    assert mix is not None
    # hard_prompts has no public board yet: left out, the others renormalised (2 : 1).
    assert mix.weights == (("coding", 2 / 3), ("creative_writing", 1 / 3))
    assert mix.unrated == ("hard_prompts",)
    rows = {row.model: row for row in mix.rows}
    assert rows["alpha-model"].rating == pytest.approx(2 / 3 * 1200 + 1 / 3 * 900)
    assert rows["beta-model"].rating == pytest.approx(2 / 3 * 1000 + 1 / 3 * 1100)
    assert rows["gamma-model"].rating == pytest.approx(950.0)
    assert [row.model for row in mix.rows] == ["alpha-model", "beta-model", "gamma-model"]
    assert (rows["gamma-model"].public_rank, rows["gamma-model"].rank) == (3, 3)
    assert mix.to_json()["weights"] == {"coding": 2 / 3, "creative_writing": 1 / 3}
    assert category_mix_board(boards, {"math": 4}, PUBLIC, 4) is None


async def test_the_mix_reads_only_the_voters_counted_text_votes(
    database: Database, providers
) -> None:
    limits = RateLimits(battles_per_minute_per_voter=100, votes_per_minute_per_voter=100)
    service = make_service(database, providers, rate_limits=limits)
    me, other = service.voter("me", "192.0.2.1"), service.voter("other", "192.0.2.2")
    coding = "Write a Python function that merges two sorted lists."
    for prompt in (coding, coding, "Schreib ein Gedicht über den Herbst."):
        live = await service.start(me, BattleRequest(prompt=prompt))
        async for _ in live.events():
            pass
        service.vote(me, live.battle_id, Winner.MODEL_A)
    live = await service.start(other, BattleRequest(prompt=coding))
    async for _ in live.events():
        pass
    service.vote(other, live.battle_id, Winner.MODEL_A)
    await _battle(service, me)  # not voted: not part of the mix
    counts, tagged = category_counts(PersonalVotes(database).prompt_tags("me"))
    assert (counts["coding"], counts["creative_writing"], tagged) == (2, 1, 3)

"""A voter's own board (arena/personal_board.py), for the voter behind the cookie only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from glassarena.arena.leaderboard_refresher import LeaderboardRefresher
from glassarena.arena.personal_board import (
    CategoryMix,
    PersonalBoard,
    category_counts,
    category_mix_board,
    personal_board,
)
from glassarena.storage.personal_votes import PersonalVotes
from glassarena.vocabulary import BattleKind, PromptCategory
from glassarena.web.dependencies import ServiceDependency, VoterDependency
from glassarena.web.errors import error_response
from glassarena.web.leaderboard_view import category_label
from glassarena.web.templating import templates

router = APIRouter()
CategoryQuery = Annotated[str | None, Query(max_length=50)]


@dataclass(frozen=True, slots=True)
class NoBoard:
    status: int
    code: str
    message: str


async def _board(
    request: Request, service: ServiceDependency, voter: VoterDependency, category: str
) -> PersonalBoard | NoBoard:
    """The voter's board, or why there is none."""
    leaderboards: LeaderboardRefresher = request.app.state.leaderboards
    if category not in leaderboards.categories:
        known = ", ".join(leaderboards.categories)
        return NoBoard(
            404, "unknown_category", f"Unknown category {category!r}; choose one of {known}."
        )
    snapshot = leaderboards.snapshot(category)
    if snapshot is None or snapshot.leaderboard is None:
        return NoBoard(
            409,
            "no_public_board",
            "There is no public board to compare with yet; please come back after more votes.",
        )
    public = {row["model"]: float(row["rating"]) for row in snapshot.leaderboard["rows"]}
    votes = await asyncio.to_thread(
        PersonalVotes(service.repository.database).of_voter, voter.voter_id, category
    )
    return personal_board(category, public, votes)


def _ratings(leaderboards: LeaderboardRefresher, category: str) -> dict[str, float] | None:
    snapshot = leaderboards.snapshot(category)
    if snapshot is None or snapshot.leaderboard is None:
        return None
    return {row["model"]: float(row["rating"]) for row in snapshot.leaderboard["rows"]}


async def _category_mix(
    request: Request, service: ServiceDependency, voter: VoterDependency, category: str
) -> CategoryMix | None:
    """The public prompt-category boards weighted by the voter's own mix of categories
    (arena/personal_board.py), shown with the text board they are part of."""
    leaderboards: LeaderboardRefresher = request.app.state.leaderboards
    public = _ratings(leaderboards, category)
    if category != BattleKind.TEXT.category or public is None:
        return None
    boards = {
        str(name): ratings
        for name in PromptCategory
        if name in leaderboards.categories and (ratings := _ratings(leaderboards, name))
    }
    tags = await asyncio.to_thread(
        PersonalVotes(service.repository.database).prompt_tags, voter.voter_id
    )
    counts, tagged = category_counts(tags)
    return category_mix_board(boards, counts, public, tagged)


def _category(request: Request, category: str | None) -> str:
    leaderboards: LeaderboardRefresher = request.app.state.leaderboards
    return category or leaderboards.categories[0]


@router.get("/me/board.json", name="personal_board_json")
async def personal_board_json(
    request: Request,
    service: ServiceDependency,
    voter: VoterDependency,
    category: CategoryQuery = None,
) -> Response:
    chosen = _category(request, category)
    board = await _board(request, service, voter, chosen)
    if isinstance(board, NoBoard):
        return error_response(board.status, board.code, board.message)
    mix = await _category_mix(request, service, voter, chosen)
    body = {**board.to_json(), "category_mix": mix.to_json() if mix is not None else None}
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


@router.get("/me/board", response_class=HTMLResponse, name="personal_board_page")
async def personal_board_page(
    request: Request,
    service: ServiceDependency,
    voter: VoterDependency,
    category: CategoryQuery = None,
) -> HTMLResponse:
    chosen = _category(request, category)
    board = await _board(request, service, voter, chosen)
    leaderboards: LeaderboardRefresher = request.app.state.leaderboards
    context: dict[str, Any] = {
        "active": "personal_board_page",
        "categories": [(name, category_label(name)) for name in leaderboards.categories],
        "category": chosen,
        "board": board if isinstance(board, PersonalBoard) else None,
        "empty_reason": board.message if isinstance(board, NoBoard) else None,
        "mix": await _category_mix(request, service, voter, chosen),
        "category_label": category_label,
    }
    status = board.status if isinstance(board, NoBoard) and board.status == 404 else 200
    response = templates.TemplateResponse(
        request, "personal_board.html", context, status_code=status
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response

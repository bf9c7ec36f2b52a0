"""The leaderboard: an HTML page, its JSON and CSV forms, and its figures.

Everything is served from the snapshot the background refresher computed last, so a page
view costs the same with a thousand votes or a million.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from glassarena.arena.config import ArenaConfig
from glassarena.arena.integrity import IntegrityState
from glassarena.arena.leaderboard_refresher import LeaderboardRefresher, LeaderboardSnapshot
from glassarena.leaderboard import Leaderboard
from glassarena.leaderboard_render import render_csv
from glassarena.vocabulary import Theme
from glassarena.web.apps_that_run import run_columns, run_shares_for, run_shares_json
from glassarena.web.board_filters import WEIGHTS_CHOICES, BoardFilter, rank_spread, weights_of
from glassarena.web.errors import error_response
from glassarena.web.leaderboard_view import PLOT_NAMES, PlotCache, category_label
from glassarena.web.standing_view import (
    integrity_state,
    row_standing,
    standing_columns,
    standings_json,
)
from glassarena.web.templating import templates
from glassarena.web.vote_reasons_view import reason_summaries_for, reason_summaries_json

router = APIRouter()
THEME_NAMES = frozenset(theme.value for theme in Theme)
_plots = PlotCache()
NOT_READY = "The leaderboard is being computed; please try again in a few seconds."


async def refresher(request: Request) -> LeaderboardRefresher:
    leaderboards: LeaderboardRefresher = request.app.state.leaderboards
    return leaderboards


RefresherDependency = Annotated[LeaderboardRefresher, Depends(refresher)]


class LeaderboardQuery:
    def __init__(
        self,
        leaderboards: RefresherDependency,
        category: Annotated[str | None, Query(max_length=50)] = None,
        style: Annotated[str | None, Query(max_length=10)] = None,
    ) -> None:
        self.categories = leaderboards.categories
        self.category = category or self.categories[0]
        self.style_control = style in ("on", "1", "true", "yes")
        self.snapshot = (
            leaderboards.snapshot(self.category, self.style_control)
            if self.category in self.categories
            else None
        )

    @property
    def known_category(self) -> bool:
        return self.category in self.categories

    def unknown_category_message(self) -> str:
        return f"Unknown category {self.category!r}; choose one of {', '.join(self.categories)}."

    def query_string(self) -> str:
        parameters = {"category": self.category}
        if self.style_control:
            parameters["style"] = "on"
        return urlencode(parameters)


QueryDependency = Annotated[LeaderboardQuery, Depends()]


@router.get("/leaderboard", response_class=HTMLResponse, name="leaderboard_page")
async def leaderboard_page(
    request: Request,
    query: QueryDependency,
    provisional: Annotated[str | None, Query(max_length=10)] = None,
    retired: Annotated[str | None, Query(max_length=10)] = None,
    organization: Annotated[str | None, Query(max_length=100)] = None,
    weights: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    snapshot = query.snapshot
    board = snapshot.leaderboard if snapshot else None
    state = await integrity_state(request)
    choices = (("provisional", provisional), ("retired", retired))
    hidden = {status for status, choice in choices if choice == "hide"}
    all_rows = _described_rows(state, board["rows"] if board else [])
    chosen = BoardFilter.from_query(organization, weights, since)
    hidden_by_filter = sum(not chosen.keeps(row) for row in all_rows)
    rows = [row for row in all_rows if chosen.keeps(row)]
    if not query.known_category:
        empty_reason = query.unknown_category_message()
    elif snapshot is None:
        empty_reason = NOT_READY
    elif (rows and all(row["status"] in hidden for row in rows)) or (hidden_by_filter and not rows):
        empty_reason = "Every model on this board is hidden by the filters above."
    else:
        empty_reason = snapshot.message or "No counted votes yet."
    context: dict[str, Any] = {
        "active": "leaderboard_page",
        "categories": [(name, category_label(name)) for name in query.categories],
        "category": query.category,
        "style_control": query.style_control,
        "query": query.query_string(),
        "rows": [row for row in rows if row["status"] not in hidden],
        "hidden_statuses": sorted(hidden),
        "hidden_count": sum(row["status"] in hidden for row in rows),
        "organizations": sorted({row["organization"] for row in all_rows}),
        "weights_choices": WEIGHTS_CHOICES,
        "board_filter": chosen,
        "filtered_out": hidden_by_filter,
        "variants": standings_json(state, all_rows)["variants_per_organization"],
        "standings_pending": not state.ready,
        "provisional_rules": request.app.state.config.integrity.provisional,
        "style": board["style"] if board else [],
        "level": 0.95,
        "total_votes": snapshot.votes if snapshot else 0,
        "updated": _updated(snapshot),
        "log_head": snapshot.log_head if snapshot else None,
        "log_position": snapshot.watermark if snapshot else 0,
        "empty_reason": empty_reason,
        # Wins, ties and losses per model: the board of an arena too young for ratings.
        "record": (snapshot.record or []) if snapshot else [],
        "apps_that_run": await run_shares_for(request, query.category),
        "practice_sets": _practice_sets(request, query.category),
        "reason_summaries": await reason_summaries_for(request, query.category),
    }
    status = 404 if not query.known_category else 200
    return templates.TemplateResponse(request, "leaderboard.html", context, status_code=status)


def _described_rows(
    state: IntegrityState, board_rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The board's rows with what the filters and columns read: standing, weights, spread."""
    return [
        {
            **row,
            **row_standing(state, row["model"]),
            "weights": weights_of(state, row["model"]),
            "rank_spread": rank_spread(row, board_rows),
        }
        for row in board_rows
    ]


def _practice_sets(request: Request, category: str) -> list[str]:
    """The public recorded sets, whose votes the recorded board never ranks."""
    if category != "recorded":
        return []
    config: ArenaConfig = request.app.state.config
    return [recorded.name for recorded in config.recorded_sets if recorded.public]


def _updated(snapshot: LeaderboardSnapshot | None) -> str | None:
    if snapshot is None:
        return None
    return snapshot.computed_at[:19].replace("T", " ") + " UTC"


def _unavailable(query: LeaderboardQuery) -> JSONResponse | None:
    if not query.known_category:
        return error_response(404, "unknown_category", query.unknown_category_message())
    if query.snapshot is None:
        return error_response(503, "not_ready", NOT_READY, headers={"Retry-After": "5"})
    return None


@router.get("/leaderboard.json", name="leaderboard_json")
async def leaderboard_json(
    request: Request,
    query: QueryDependency,
    organization: Annotated[str | None, Query(max_length=100)] = None,
    weights: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The snapshot as computed (verifiable against the vote log, so never filtered), with
    each model's standing; chosen filters add `filter`, naming the models they keep."""
    if (problem := _unavailable(query)) is not None:
        return problem
    assert query.snapshot is not None
    body = query.snapshot.to_dict()
    if (shares := await run_shares_for(request, query.category)) is not None:
        body["apps_that_run"] = run_shares_json(shares)
    body["vote_reasons"] = reason_summaries_json(
        await reason_summaries_for(request, query.category)
    )
    if query.snapshot.leaderboard is not None:
        state = await integrity_state(request)
        rows = query.snapshot.leaderboard["rows"]
        body["standings"] = standings_json(state, rows)
        chosen = BoardFilter.from_query(organization, weights, since)
        if chosen.active:
            kept = [row["model"] for row in _described_rows(state, rows) if chosen.keeps(row)]
            body["filter"] = {**chosen.to_json(), "models": kept}
    return JSONResponse(body)


@router.get("/leaderboard.csv", name="leaderboard_csv")
async def leaderboard_csv(request: Request, query: QueryDependency) -> Response:
    if (problem := _unavailable(query)) is not None:
        return problem
    assert query.snapshot is not None
    if query.snapshot.leaderboard is None:
        return error_response(409, "no_leaderboard", query.snapshot.message or NOT_READY)
    filename = f"leaderboard-{query.category}{'-style' if query.style_control else ''}.csv"
    board = Leaderboard.from_dict(query.snapshot.leaderboard)
    shares = await run_shares_for(request, query.category)
    extra = run_columns(shares) if shares is not None else {}
    extra.update(
        standing_columns(await integrity_state(request), [row.model for row in board.rows])
    )
    table = render_csv(board, extra)
    return Response(
        table,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/leaderboard/plots/{name}.svg", name="leaderboard_plot")
async def leaderboard_plot(
    name: str, query: QueryDependency, theme: str = Theme.LIGHT.value
) -> Response:
    if name not in PLOT_NAMES:
        return error_response(
            404, "unknown_plot", f"Unknown figure {name!r}; choose one of {', '.join(PLOT_NAMES)}."
        )
    if theme not in THEME_NAMES:
        themes = ", ".join(Theme)
        return error_response(
            400, "unknown_theme", f"Unknown theme {theme!r}; choose one of {themes}."
        )
    if (problem := _unavailable(query)) is not None:
        return problem
    snapshot = query.snapshot
    assert snapshot is not None
    if snapshot.leaderboard is None:
        return error_response(409, "no_leaderboard", snapshot.message or NOT_READY)
    figure = await asyncio.to_thread(_plots.figure, snapshot, name, Theme(theme))
    return Response(figure, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})

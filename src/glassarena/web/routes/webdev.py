"""WebDev battles on the web: the page, the stored execution checks and their screenshots.

The app documents are served by `glassarena.webdev.sandbox.sandbox_app`, mounted by
`create_app` at the sandbox policy's path and exempt from the arena page's headers (its
CSP would block the app's inline scripts and its `frame-ancestors 'none'` the embedding).

The checks are read from the database, so they survive a reload and any worker answers.
They are shown only once the battle is revealed, since they could sway the vote.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from glassarena.arena.errors import ArenaError, NotFound
from glassarena.arena.reveal import BattleState
from glassarena.arena.service import ArenaService
from glassarena.arena.voter import Voter
from glassarena.vocabulary import WebdevStack
from glassarena.web.dependencies import ServiceDependency, VoterDependency
from glassarena.web.routes.battles import MAX_BATTLE_ID_CHARS
from glassarena.web.templating import templates
from glassarena.webdev.checks import WebdevChecks

router = APIRouter()
# Turn numbers are stored in INTEGER columns: a larger number in a query overflows the
# database (SQLite and PostgreSQL alike) and failed with a 500 instead of a 422.
MAX_TURN_NUMBER = 2**31 - 1


class ChecksNotYetVisible(ArenaError):
    status = 409
    message = "The execution checks are shown after your vote."


@router.get("/webdev", response_class=HTMLResponse, name="webdev_page")
async def webdev_page(request: Request, service: ServiceDependency) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "webdev.html",
        {
            "active": "webdev_page",
            "max_prompt_chars": service.limits.max_prompt_chars,
            "webdev_stacks": [(stack.value, stack.label) for stack in WebdevStack],
            "webdev_stack": service.webdev_stack.value,
        },
    )


@router.get("/api/battles/{battle_id}/checks", name="webdev_checks")
async def webdev_checks(
    battle_id: str, request: Request, service: ServiceDependency, voter: VoterDependency
) -> dict[str, Any]:
    """Each turn's execution checks by side (None: not checked yet), once revealed."""
    state = await _revealed_state(service, voter, battle_id)
    return {"battle_id": state.battle_id, "turns": await _turn_checks(request, state)}


@router.get("/webdev/battles/{battle_id}", response_class=HTMLResponse, name="webdev_battle_checks")
async def webdev_battle_checks(
    battle_id: str, request: Request, service: ServiceDependency, voter: VoterDependency
) -> HTMLResponse:
    """The revealed battle with each app's stored check and screenshot: a page to come back to."""
    state = await _revealed_state(service, voter, battle_id)
    return templates.TemplateResponse(
        request,
        "webdev_checks.html",
        {
            "active": "webdev_page",
            "state": state,
            "turns": await _turn_checks(request, state),
            "stack_label": state.webdev_stack.label if state.webdev_stack else None,
        },
    )


@router.get(
    "/api/battles/{battle_id}/checks/{turn}/{side}/screenshot.png",
    name="webdev_check_screenshot",
)
async def webdev_check_screenshot(
    battle_id: str,
    turn: Annotated[int, Path(ge=0, le=MAX_TURN_NUMBER)],
    side: Literal["a", "b"],
    request: Request,
    service: ServiceDependency,
    voter: VoterDependency,
) -> Response:
    state = await _revealed_state(service, voter, battle_id)
    checks: WebdevChecks = request.app.state.webdev_checks
    png = await asyncio.to_thread(checks.store.screenshot, state.battle_id, turn, side)
    if png is None:
        raise NotFound("This app has no screenshot.")
    return Response(
        png, media_type="image/png", headers={"cache-control": "private, max-age=86400"}
    )


async def _revealed_state(service: ArenaService, voter: Voter, battle_id: str) -> BattleState:
    state = await asyncio.to_thread(service.battle_state, voter, battle_id[:MAX_BATTLE_ID_CHARS])
    if state.reveal is None:
        raise ChecksNotYetVisible()
    return state


async def _turn_checks(request: Request, state: BattleState) -> list[dict[str, Any]]:
    checks: WebdevChecks = request.app.state.webdev_checks
    stored = await checks.for_battle(state.battle_id)
    turns = []
    for turn in state.turns:
        by_side: dict[str, dict[str, Any] | None] = {}
        for side in turn.answers:
            check = stored.get((turn.turn, side))
            record = check.to_json() if check is not None else None
            if record is not None and check is not None and check.stack is not None:
                record["stack_label"] = WebdevStack(check.stack).label
            if check is not None and record is not None and check.has_screenshot:
                record["screenshot"] = str(
                    request.url_for(
                        "webdev_check_screenshot",
                        battle_id=state.battle_id,
                        turn=str(turn.turn),
                        side=side,
                    ).path
                )
            by_side[side] = record
        turns.append({"turn": turn.turn, "checks": by_side})
    return turns

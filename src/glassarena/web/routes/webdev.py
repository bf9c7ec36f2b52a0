"""WebDev battles on the web: the page, the sandboxed app documents, and the check results.

The app documents are served by `glassarena.webdev.sandbox.sandbox_app`, mounted by
`create_app` at the sandbox policy's path and exempt from the arena page's headers (its
CSP would block the app's inline scripts and its `frame-ancestors 'none'` the embedding).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from glassarena.arena.errors import ArenaError
from glassarena.web.dependencies import ServiceDependency, VoterDependency
from glassarena.web.routes.battles import MAX_BATTLE_ID_CHARS
from glassarena.web.templating import templates
from glassarena.webdev.previews import WebdevPreviews

router = APIRouter()


class ChecksNotYetVisible(ArenaError):
    status = 409
    message = "The execution checks are shown after your vote."


@router.get("/webdev", response_class=HTMLResponse, name="webdev_page")
async def webdev_page(request: Request, service: ServiceDependency) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "webdev.html",
        {"active": "webdev_page", "max_prompt_chars": service.limits.max_prompt_chars},
    )


@router.get("/api/battles/{battle_id}/checks", name="webdev_checks")
async def webdev_checks(
    battle_id: str, request: Request, service: ServiceDependency, voter: VoterDependency
) -> dict[str, Any]:
    """Each turn's execution checks; only after the vote, since they could sway it."""
    state = await asyncio.to_thread(service.battle_state, voter, battle_id[:MAX_BATTLE_ID_CHARS])
    if state.reveal is None:
        raise ChecksNotYetVisible()
    previews: WebdevPreviews = request.app.state.webdev_previews
    turns = [
        {"turn": turn.turn, "checks": await previews.checks(state.battle_id, turn.turn)}
        for turn in state.turns
    ]
    return {"battle_id": state.battle_id, "turns": turns}

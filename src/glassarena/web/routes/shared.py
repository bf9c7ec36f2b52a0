"""Share links: the voter asks for one after the vote; anybody can open it (read-only)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.exceptions import HTTPException

from glassarena.arena.errors import NotFound
from glassarena.web.dependencies import ServiceDependency, VoterDependency
from glassarena.web.rendering import render_markdown
from glassarena.web.routes.battles import MAX_BATTLE_ID_CHARS
from glassarena.web.templating import templates

router = APIRouter()
MAX_TOKEN_CHARS = 64


@router.post("/api/battles/{battle_id}/share", name="share_battle")
async def share_battle(
    battle_id: str, request: Request, service: ServiceDependency, voter: VoterDependency
) -> dict[str, Any]:
    token = await asyncio.to_thread(service.share, voter, battle_id[:MAX_BATTLE_ID_CHARS])
    return {"path": str(request.app.url_path_for("shared_battle_page", token=token))}


@router.get("/shared/{token}", response_class=HTMLResponse, name="shared_battle_page")
async def shared_battle_page(
    token: str, request: Request, service: ServiceDependency
) -> HTMLResponse:
    try:
        shared = await asyncio.to_thread(service.shared_battle, token[:MAX_TOKEN_CHARS])
    except NotFound:
        raise HTTPException(404, "There is no shared battle at this address.") from None
    # Answers are Markdown, rendered and sanitised as in the live battle (web/rendering.py).
    answers = [
        {side: Markup(render_markdown(answer.text)) for side, answer in turn.answers.items()}
        for turn in shared.turns
    ]
    response = templates.TemplateResponse(
        request,
        "shared_battle.html",
        {"active": None, "battle": shared, "answers": answers},
    )
    # Shared on purpose by its voter, but not for search engines to collect.
    response.headers["X-Robots-Tag"] = "noindex"
    return response

"""The battle pages. They carry no model data before a vote: the anonymous pages are the
same bytes for everyone, and names only ever arrive in a reveal."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from glassarena.arena.config import ArenaConfig
from glassarena.arena.votes import PRACTICE_REASON
from glassarena.web.dependencies import ServiceDependency
from glassarena.web.templating import templates

router = APIRouter()
LLMFAO_DIR = Path(str(importlib.resources.files("glassarena").joinpath("data/llmfao")))


def _page(request: Request, template: str, active: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"active": active, **context})


@router.get("/", response_class=HTMLResponse, name="arena_page")
async def arena_page(request: Request, service: ServiceDependency) -> HTMLResponse:
    return _page(
        request, "arena.html", "arena_page", max_prompt_chars=service.limits.max_prompt_chars
    )


@router.get("/recorded", response_class=HTMLResponse, name="recorded_page")
async def recorded_page(request: Request) -> HTMLResponse:
    config: ArenaConfig = request.app.state.config
    return _page(
        request,
        "recorded.html",
        "recorded_page",
        **recorded_credits(config),
        **practice_note(config),
    )


@router.get("/side-by-side", response_class=HTMLResponse, name="side_by_side_page")
async def side_by_side_page(request: Request, service: ServiceDependency) -> HTMLResponse:
    return _page(
        request,
        "side_by_side.html",
        "side_by_side_page",
        models=service.model_names(),
        max_prompt_chars=service.limits.max_prompt_chars,
    )


@router.get("/chat", response_class=HTMLResponse, name="chat_page")
async def chat_page(request: Request, service: ServiceDependency) -> HTMLResponse:
    return _page(
        request,
        "chat.html",
        "chat_page",
        models=service.model_names(),
        max_prompt_chars=service.limits.max_prompt_chars,
    )


def practice_note(config: ArenaConfig) -> dict[str, Any]:
    """Which recorded sets give practice battles (public answers, never ranked)."""
    public = [recorded.name for recorded in config.recorded_sets if recorded.public]
    return {
        "practice_sets": public,
        "all_practice": len(public) == len(config.recorded_sets),
        "practice_reason": PRACTICE_REASON,
    }


def recorded_credits(config: ArenaConfig) -> dict[str, Any]:
    """Who to credit for the recorded answers: the shipped LLMFAO set gets its full CC BY
    credit with links; other sets show the attribution their configuration gives."""
    llmfao = LLMFAO_DIR.resolve()
    return {
        "shows_llmfao": any(s.source.resolve() == llmfao for s in config.recorded_sets),
        "other_attributions": [
            s.attribution
            for s in config.recorded_sets
            if s.attribution and s.source.resolve() != llmfao
        ],
    }

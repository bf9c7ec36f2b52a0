"""`/integrity`: what anyone needs to check the arena, starting with the published vote log."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from glassarena.arena.config import ArenaConfig
from glassarena.arena.log_export import export_lines
from glassarena.web.dependencies import ServiceDependency
from glassarena.web.templating import templates

router = APIRouter()


@router.get("/integrity/log.jsonl", name="integrity_log")
async def integrity_log(request: Request, service: ServiceDependency) -> StreamingResponse:
    """Every logged vote up to the head now, one JSON line each (docs/integrity.md)."""
    config: ArenaConfig = request.app.state.config
    lines = export_lines(service.repository, include_prompts=config.integrity.publish_prompts)
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="glassarena-vote-log.jsonl"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/integrity", response_class=HTMLResponse, name="integrity_page")
async def integrity_page(request: Request, service: ServiceDependency) -> HTMLResponse:
    head = await asyncio.to_thread(service.repository.log_head)
    return templates.TemplateResponse(
        request, "integrity.html", {"active": "integrity_page", "head": head}
    )

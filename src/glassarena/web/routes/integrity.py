"""`/integrity`: what anyone needs to check the arena, starting with the published vote log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from markupsafe import Markup

from glassarena.arena.config import ArenaConfig
from glassarena.arena.integrity import WINDOWS
from glassarena.arena.log_export import export_lines
from glassarena.web.dependencies import ServiceDependency
from glassarena.web.errors import error_response
from glassarena.web.share_chart import share_chart
from glassarena.web.standing_view import (
    PENDING_MESSAGE,
    PENDING_RETRY_SECONDS,
    integrity_state,
)
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
async def integrity_page(request: Request) -> HTMLResponse:
    state = await integrity_state(request)
    if not state.ready:
        return templates.TemplateResponse(
            request,
            "integrity.html",
            {
                "active": "integrity_page",
                "pending": True,
                "pending_message": PENDING_MESSAGE,
                "report": state.report,
            },
        )
    report = state.report
    offered = [entry for entry in report["organizations"] if entry["variants_offered_now"]]
    fair = 1 / len(offered) if offered else None
    charts = {
        window: Markup(share_chart(report["shares"][window]["organizations"], fair))
        for window, _ in WINDOWS
    }
    models = report["models"]
    return templates.TemplateResponse(
        request,
        "integrity.html",
        {
            "active": "integrity_page",
            "report": report,
            "charts": charts,
            "windows": [window for window, _ in WINDOWS],
            "fair_share": fair,
            "provisional": [model for model in models if model["status"] == "provisional"],
            "retired": [model for model in models if model["status"] == "retired"],
            "publish_prompts": request.app.state.config.integrity.publish_prompts,
        },
    )


@router.get("/integrity.json", name="integrity_json")
async def integrity_json(request: Request) -> JSONResponse:
    state = await integrity_state(request)
    if not state.ready:
        return error_response(
            503,
            "integrity_pending",
            PENDING_MESSAGE,
            headers={"Retry-After": str(PENDING_RETRY_SECONDS)},
        )
    return JSONResponse(state.report)

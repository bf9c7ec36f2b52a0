"""Assets generated at start rather than kept as files."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter
from fastapi.responses import Response

from glassarena.web.rendering import code_stylesheet

router = APIRouter()


@lru_cache(maxsize=1)
def _code_css() -> bytes:
    return code_stylesheet().encode()


@router.get("/static/code.css", name="code_css", include_in_schema=False)
async def code_css() -> Response:
    return Response(
        _code_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )

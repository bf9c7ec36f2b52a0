"""The sampling policy in force and what it realised, as JSON anyone can check.

The /integrity page shows the same figures; this is their machine-readable form.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

router = APIRouter()


@router.get("/integrity/sampling.json", name="integrity_sampling")
async def integrity_sampling(request: Request) -> dict[str, Any]:
    # The first reading of the integrity view waits for the database: kept off the event loop.
    return await asyncio.to_thread(request.app.state.arena.sampling_report)

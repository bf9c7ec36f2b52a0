"""What route handlers receive: the arena service, and the voter behind the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from glassarena.arena.service import ArenaService
from glassarena.arena.voter import Voter


async def arena_service(request: Request) -> ArenaService:
    service: ArenaService = request.app.state.service
    return service


async def current_voter(request: Request) -> Voter:
    service: ArenaService = request.app.state.service
    # request.client is the peer address, or the forwarded one when uvicorn trusts the proxy.
    ip = request.client.host if request.client else "unknown"
    return service.voter(request.state.voter_id, ip)


ServiceDependency = Annotated[ArenaService, Depends(arena_service)]
VoterDependency = Annotated[Voter, Depends(current_voter)]

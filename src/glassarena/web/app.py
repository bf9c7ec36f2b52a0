"""The arena's web application.

`create_app(settings)` builds it; `create_app_from_environment()` is the factory uvicorn
workers import by name (`glassarena serve` passes the settings through the environment).
The arena itself (models, database, rate limits) is built when the app starts and closed
when it stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from glassarena.web.errors import install_error_handlers
from glassarena.web.routes import assets, battles, leaderboard, pages
from glassarena.web.security import SecurityHeadersMiddleware
from glassarena.web.settings import WebSettings
from glassarena.web.voter_cookie import VoterCookieMiddleware

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: WebSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from glassarena.arena.bootstrap import build_arena
        from glassarena.arena.config import load_config

        config = load_config(settings.config_path)
        arena = build_arena(
            config,
            settings.database_url,
            settings.redis_url,
            secret_key=settings.secret_key,
            leaderboard_interval_seconds=settings.leaderboard_interval_seconds,
        )
        await arena.start()
        app.state.config = config
        app.state.service = arena.service
        app.state.leaderboards = arena.leaderboards
        try:
            yield
        finally:
            await arena.close()

    app = FastAPI(
        title="glassarena",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.include_router(assets.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(battles.router)
    app.include_router(leaderboard.router)
    app.add_middleware(VoterCookieMiddleware, secret_key=settings.secret_key)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def create_app_from_environment() -> FastAPI:
    return create_app(WebSettings.from_environment())

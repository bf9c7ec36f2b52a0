"""The arena's web application.

`create_app(settings)` builds it; `create_app_from_environment()` is the factory uvicorn
workers import by name (`glassarena serve` passes the settings through the environment).
The arena itself (models, database, rate limits) is built when the app starts and closed
when it stops.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from glassarena.web.errors import install_error_handlers
from glassarena.web.routes import assets, battles, integrity, leaderboard, pages, webdev
from glassarena.web.security import SecurityHeadersMiddleware
from glassarena.web.settings import WebSettings
from glassarena.web.voter_cookie import VoterCookieMiddleware
from glassarena.webdev.checks import build_checks
from glassarena.webdev.previews import build_previews
from glassarena.webdev.sandbox import sandbox_app, sandbox_policy_from_environment

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: WebSettings) -> FastAPI:
    previews = build_previews(settings.redis_url, sandbox_policy_from_environment())

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
        checks = build_checks(arena.database, chromium_for_checks(), previews.policy)
        # Every WebDev answer is checked by the server, watched or not.
        arena.service.webdev_answer_finished = checks.answer_finished
        checks.start_checking_unchecked()
        app.state.webdev_previews = previews
        app.state.webdev_checks = checks
        app.state.config = config
        app.state.service = arena.service
        app.state.leaderboards = arena.leaderboards
        app.state.integrity = arena.integrity
        try:
            yield
        finally:
            await arena.service.aclose()
            await checks.aclose()
            await previews.aclose()
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
    app.include_router(integrity.router)
    app.include_router(webdev.router)
    sandbox_path = previews.policy.path_prefix
    app.mount(sandbox_path, sandbox_app(previews.store, previews.policy), name="sandbox")
    app.add_middleware(VoterCookieMiddleware, secret_key=settings.secret_key)
    app.add_middleware(
        SecurityHeadersMiddleware,
        exempt_prefix=f"{sandbox_path}/",
        frame_sources=previews.policy.frame_sources(),
    )
    return app


def chromium_for_checks() -> str | None:
    """The Chromium that runs WebDev execution checks: $GLASSARENA_CHROMIUM, else the
    system's; None (apps are previewed but not checked) when there is none."""
    path = os.environ.get("GLASSARENA_CHROMIUM", "/usr/bin/chromium")
    return path if path and Path(path).exists() else None


def create_app_from_environment() -> FastAPI:
    return create_app(WebSettings.from_environment())

"""The arena's web application.

`create_app(settings)` builds it; `create_app_from_environment()` is the factory uvicorn
workers import by name (`glassarena serve` passes the settings through the environment).
The arena itself (models, database, rate limits) is built when the app starts and closed
when it stops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from glassarena.arena.shared_turns import node_name
from glassarena.web.access_log import AccessLogMiddleware
from glassarena.web.errors import install_error_handlers
from glassarena.web.head import HeadAsGetMiddleware
from glassarena.web.proxies import ClientAddressMiddleware, TrustedProxies
from glassarena.web.routes import (
    assets,
    battles,
    integrity,
    integrity_sampling,
    leaderboard,
    pages,
    personal,
    shared,
    webdev,
)
from glassarena.web.security import CrossSiteRequestGuard, SecurityHeadersMiddleware
from glassarena.web.settings import Settings, read_settings
from glassarena.web.voter_cookie import VoterCookieMiddleware
from glassarena.webdev.checks import build_checks
from glassarena.webdev.compiler import AppCompiler
from glassarena.webdev.previews import build_previews
from glassarena.webdev.runtimes import RuntimeFiles
from glassarena.webdev.sandbox import sandbox_app

STATIC_DIR = Path(__file__).parent / "static"
logger = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    settings = settings.completed()
    runtimes = RuntimeFiles(settings.runtimes_directory())
    chromium = settings.chromium_for_checks()
    # React apps are compiled once here, so that voters' browsers only run them.
    compiler = AppCompiler(chromium, runtimes) if chromium else None
    previews = build_previews(settings.redis_url, settings.sandbox_policy(), compiler)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from glassarena.arena.bootstrap import build_arena
        from glassarena.arena.config import load_config

        config = load_config(settings.config_path, environ=settings.environment)
        node = node_name()  # this worker, in leases and log lines shared with other nodes
        arena = build_arena(
            config,
            settings.database_url,
            settings.redis_url,
            secret_key=settings.secret(),
            leaderboard_interval_seconds=settings.leaderboard_interval_seconds,
            cache_dir=settings.cache_directory(),
            webdev_stack=settings.webdev_stack,
            tone_style=settings.tone_style_control,
            node=node,
            node_lease_seconds=settings.node_lease_seconds,
        )
        logger.info(
            "glassarena: leaderboards recomputed every %s s", arena.leaderboards.interval_seconds
        )
        await arena.start()
        checks = build_checks(
            arena.database,
            chromium,
            previews.policy,
            runtimes,
            owner=node,
            lease_s=settings.node_lease_seconds,
            compiler=compiler,
        )
        # Every WebDev answer is checked by the server, watched or not.
        arena.service.webdev_answer_finished = checks.answer_finished
        checks.start()
        app.state.webdev_previews = previews
        app.state.webdev_checks = checks
        app.state.config = config
        app.state.service = arena.service
        app.state.leaderboards = arena.leaderboards
        app.state.integrity = arena.integrity
        app.state.arena = arena
        try:
            yield
        finally:
            arena.service.webdev_answer_finished = None  # checked at the next start instead
            await checks.aclose()
            await previews.aclose()
            await arena.close()

    app = FastAPI(
        title="glassarena",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Starlette's trailing-slash redirect builds its Location from the request's Host
        # header, so anyone could make the arena redirect to a host of their choosing.
        redirect_slashes=False,
    )
    install_error_handlers(app)
    app.include_router(assets.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(battles.router)
    app.include_router(leaderboard.router)
    app.include_router(integrity.router)
    app.include_router(webdev.router)
    app.include_router(integrity_sampling.router)
    app.include_router(personal.router)
    app.include_router(shared.router)
    sandbox_path = previews.policy.path_prefix
    app.mount(sandbox_path, sandbox_app(previews.store, previews.policy, runtimes), name="sandbox")
    # Added innermost first: a request passes the client address, the access log, the
    # security headers, the cross-site guard and HEAD-as-GET before the voter cookie.
    app.add_middleware(VoterCookieMiddleware, secret_key=settings.secret())
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(CrossSiteRequestGuard)
    app.add_middleware(
        SecurityHeadersMiddleware,
        exempt_prefix=f"{sandbox_path}/",
        frame_sources=previews.policy.frame_sources(),
    )
    if settings.access_log:
        # The arena's hasher, not one with the default IPv6 grouping: the config sets it.
        app.add_middleware(AccessLogMiddleware, ip_hasher=lambda: app.state.service.ip_hasher)
    app.add_middleware(
        ClientAddressMiddleware, proxies=TrustedProxies(settings.forwarded_allow_ips)
    )
    return app


def create_app_from_environment() -> FastAPI:
    return create_app(read_settings())

"""Right after a start, before the integrity figures are computed, /integrity says so and
/integrity.json answers 503 with a Retry-After (arena/integrity.py `IntegrityState.ready`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.testclient import TestClient

from glassarena.arena.integrity import IntegrityState
from glassarena.web.app import STATIC_DIR
from glassarena.web.routes import assets, integrity, leaderboard, pages, personal, webdev
from glassarena.web.standing_view import PENDING_RETRY_SECONDS


class PendingView:
    def state(self) -> IntegrityState:
        return IntegrityState(
            report={"pending": True, "policy": {"policy": "uniform"}},
            standing={},
            variants={},
            ready=False,
        )


def _app() -> FastAPI:
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for routes in (assets, pages, leaderboard, integrity, personal, webdev):
        app.include_router(routes.router)  # the page's navigation links to them
    app.state.integrity = PendingView()
    return app


def test_the_integrity_page_and_json_say_the_figures_are_being_computed() -> None:
    with TestClient(_app()) as client:
        page = client.get("/integrity")
        assert page.status_code == 200
        assert 'data-role="integrity-pending"' in page.text
        assert "being computed" in page.text
        body = client.get("/integrity.json")
        assert body.status_code == 503
        assert body.json()["error"]["code"] == "integrity_pending"
        assert body.headers["retry-after"] == str(PENDING_RETRY_SECONDS)

"""The small things an attacker tried, each first as it went wrong, then refused:
an integer overflow (500), redirects to the request's Host, HEAD answered 405, and
state-changing requests from other sites."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import annotated_types
import httpx
import pytest
from arena_server import running_arena, sse_events, write_config
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from live_server import LiveServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from glassarena.web.routes import assets, battles, leaderboard, pages, webdev

RECORDED = {
    "name": "llmfao",
    "format": "llmfao",
    "path": "builtin:llmfao",
    "contestants": ["Claude v1", "Code Llama (13B)", "Alpaca (7B)"],
}
EVIL_HOST = "evil.example"


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("arena")
    config = write_config(directory, recorded_sets=[RECORDED])
    with running_arena(directory, config) as server:
        yield server


def _voted_battle(client: httpx.Client) -> str:
    body = client.post("/api/battles", json={"kind": "recorded"}).text
    battle_id = str(sse_events(body)[0]["battle_id"])
    assert client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"}).status_code == 200
    return battle_id


def test_a_huge_turn_number_is_a_clear_422(arena: LiveServer) -> None:
    """Turn 2**63 reached SQLite, overflowed its INTEGER and answered 500."""
    with httpx.Client(base_url=arena.url, timeout=30) as client:
        battle_id = _voted_battle(client)
        for turn in (2**63, 2**31, -1):
            response = client.get(f"/api/battles/{battle_id}/checks/{turn}/a/screenshot.png")
            assert response.status_code == 422, (turn, response.text)
            assert "turn" in response.json()["error"]["message"]
        # An ordinary turn of a battle without an app still reaches the handler.
        response = client.get(f"/api/battles/{battle_id}/checks/1/a/screenshot.png")
        assert response.status_code == 404


def _integer_parameters(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    for parameter in (*dependant.path_params, *dependant.query_params):
        if parameter.field_info.annotation is int:
            yield parameter.name, parameter.field_info
    for sub_dependant in dependant.dependencies:
        yield from _integer_parameters(sub_dependant)


def test_every_integer_path_or_query_parameter_is_bounded() -> None:
    unbounded = []
    checked = 0
    for module in (assets, battles, leaderboard, pages, webdev):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            for name, info in _integer_parameters(route.dependant):
                checked += 1
                kinds = {type(constraint) for constraint in info.metadata}
                lower = kinds & {annotated_types.Ge, annotated_types.Gt}
                upper = kinds & {annotated_types.Le, annotated_types.Lt}
                if not (lower and upper):
                    unbounded.append(f"{route.path}: {name}")
    assert checked > 0  # the screenshot's turn, at least
    assert unbounded == []


@pytest.mark.parametrize(
    "path", ["/leaderboard/", "/webdev/", "/api/battles/x/", "/sandbox/" + "a" * 43 + "/"]
)
def test_no_redirect_points_at_the_requests_host(arena: LiveServer, path: str) -> None:
    """The trailing-slash redirect answered 307 with `Location: http://evil.example/...`."""
    response = httpx.get(arena.url + path, headers={"Host": EVIL_HOST}, follow_redirects=False)
    assert EVIL_HOST not in response.headers.get("location", "")
    assert not response.is_redirect


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/", "text/html"),
        ("/leaderboard", "text/html"),
        ("/leaderboard.json", "application/json"),
        ("/static/css/app.css", "text/css"),
    ],
)
def test_head_is_answered_where_get_is(arena: LiveServer, path: str, media_type: str) -> None:
    """HEAD / answered 405."""
    get = httpx.get(arena.url + path)
    head = httpx.head(arena.url + path)
    assert head.status_code == get.status_code == 200
    assert head.headers["content-type"].startswith(media_type)
    assert head.content == b""


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, e.g. a WebDev app
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a preview subdomain of the arena's own domain
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://{host}"},
    ],
)
def test_state_changing_requests_from_other_sites_are_refused(
    arena: LiveServer, headers: dict[str, str]
) -> None:
    host = arena.url.removeprefix("http://")
    sent = {name: value.format(host=host) for name, value in headers.items()}
    with httpx.Client(base_url=arena.url, timeout=30) as client:
        battle_id = _voted_battle(client)
        for method, path, body in (
            ("POST", "/api/battles", {"kind": "recorded"}),
            ("POST", f"/api/battles/{battle_id}/vote", {"choice": "b"}),
            ("POST", f"/api/battles/{battle_id}/turns", {"prompt": "more"}),
            ("DELETE", f"/api/battles/{battle_id}", None),
        ):
            response = client.request(method, path, json=body, headers=sent)
            assert response.status_code == 403, (method, path, response.text)
            error = response.json()["error"]
            assert error["code"] == "cross_site_request"
            assert "another site" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts: no browser, no ambient cookies to abuse
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://{host}"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://{host}"},  # a browser on plain http sends no Sec-Fetch-Site
    ],
)
def test_requests_from_the_arena_itself_or_outside_browsers_pass(
    arena: LiveServer, headers: dict[str, str]
) -> None:
    host = arena.url.removeprefix("http://")
    sent = {name: value.format(host=host) for name, value in headers.items()}
    with httpx.Client(base_url=arena.url, timeout=30) as client:
        response = client.post("/api/battles", json={"kind": "recorded"}, headers=sent)
        assert response.status_code == 200


def test_a_json_body_without_a_json_content_type_is_refused(arena: LiveServer) -> None:
    """What a cross-site `fetch` with a Blob body sends (no Content-Type, so no CORS
    preflight): FastAPI >= 0.132 refuses it, which pyproject.toml now requires."""
    response = httpx.post(arena.url + "/api/battles", content=json.dumps({"kind": "recorded"}))
    assert response.status_code == 422


@pytest.mark.browser
def test_an_attackers_page_in_a_real_browser_cannot_start_a_battle(
    arena: LiveServer, browser: Any
) -> None:
    """A page on another site (localhost, while the arena is 127.0.0.1) sends the arena the
    POST a CSRF needs: no-cors, credentials included, a simple Content-Type. Chromium marks
    it as cross-site, and the arena refuses it before it reaches a route."""

    async def attacker_page(_request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>cute cats</title>")

    attacker = Starlette(routes=[Route("/", attacker_page)])
    with LiveServer(attacker) as site:  # type: ignore[arg-type]
        page = browser.new_page()
        page.goto(site.url.replace("127.0.0.1", "localhost") + "/")
        with page.expect_response(lambda response: "/api/battles" in response.url) as caught:
            page.evaluate(
                """url => fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include',
                     headers: {'Content-Type': 'text/plain'}, body: '{"kind": "recorded"}'})""",
                arena.url + "/api/battles",
            )
        # 403 is the cross-site guard's answer (without it: 422, FastAPI's content-type check).
        assert caught.value.status == 403
        page.close()

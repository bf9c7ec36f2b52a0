"""The voter cookie: issued once, signed, HttpOnly, SameSite=Lax, and not forgeable."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from glassarena.web.security import SecurityHeadersMiddleware
from glassarena.web.voter_cookie import COOKIE_NAME, VoterCookieMiddleware


def _app() -> Starlette:
    async def whoami(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.voter_id)

    app = Starlette(routes=[Route("/", whoami)])
    app.add_middleware(VoterCookieMiddleware, secret_key="k" * 32)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def test_cookie_is_issued_once_and_keeps_the_voter() -> None:
    with TestClient(_app()) as client:
        first = client.get("/")
        header = first.headers["set-cookie"]
        assert header.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
        second = client.get("/")
        assert "set-cookie" not in second.headers
        assert second.text == first.text


def test_forged_cookie_gets_a_fresh_identity() -> None:
    with TestClient(_app()) as client:
        client.cookies.set(COOKIE_NAME, "someone-else.forged-signature")
        response = client.get("/")
        assert response.text != "someone-else"
        assert "set-cookie" in response.headers


def test_security_headers_on_every_response() -> None:
    with TestClient(_app()) as client:
        headers = client.get("/").headers
    policy = headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_a_verified_cookie_does_not_vouch_for_a_tampered_one() -> None:
    """Verified cookies are remembered by their exact header; any change is checked again."""
    with TestClient(_app()) as client:
        voter = client.get("/").text
        signed = client.cookies[COOKIE_NAME]
        assert [client.get("/").text for _ in range(3)] == [voter] * 3  # from the memory
        client.cookies.clear()
        client.cookies.set(COOKIE_NAME, signed[:-2] + ("AA" if signed[-2:] != "AA" else "BB"))
        response = client.get("/")
        assert response.text != voter and "set-cookie" in response.headers

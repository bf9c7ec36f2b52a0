"""The pseudonymous voter id, kept in a signed cookie.

Plain ASGI middleware so every response, streamed ones included, can carry the cookie the
first time a browser shows up. The id is random and says nothing about the person; the
signature stops anyone from picking someone else's id.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from itsdangerous import BadSignature, Signer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glassarena.arena.voter import new_voter_id

COOKIE_NAME = "glassarena_voter"
COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600
# Cookie headers already verified, to their voter ids: parsing the header and checking its
# signature was a large part of a vote request's time. Emptied when full.
MOST_VERIFIED_KEPT = 50_000


class VoterCookieMiddleware:
    """Puts the voter id into `request.state.voter_id`, issuing a new cookie when needed."""

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        self.app = app
        self.signer = Signer(secret_key, salt="glassarena.voter")
        self._verified: dict[bytes, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        voter_id = self._read(scope)
        issue_cookie = voter_id is None
        if voter_id is None:
            voter_id = new_voter_id()
        scope.setdefault("state", {})["voter_id"] = voter_id
        if not issue_cookie:
            await self.app(scope, receive, send)
            return
        cookie = self._cookie_header(voter_id, secure=scope.get("scheme") == "https")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _read(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name != b"cookie":
                continue
            if (known := self._verified.get(value)) is not None:
                return known
            morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE_NAME)
            if morsel is None:
                continue
            try:
                voter_id = self.signer.unsign(morsel.value).decode()
            except BadSignature:
                return None
            if len(self._verified) >= MOST_VERIFIED_KEPT:
                self._verified.clear()
            self._verified[value] = voter_id
            return voter_id
        return None

    def _cookie_header(self, voter_id: str, secure: bool) -> bytes:
        signed = self.signer.sign(voter_id).decode()
        attributes = [
            f"{COOKIE_NAME}={signed}",
            "Path=/",
            f"Max-Age={COOKIE_MAX_AGE_SECONDS}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if secure:
            attributes.append("Secure")
        return "; ".join(attributes).encode()

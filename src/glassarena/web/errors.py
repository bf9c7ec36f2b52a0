"""Errors as JSON the browser can show as is: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException

from glassarena.arena.errors import ArenaError, RateLimited
from glassarena.storage.errors import StorageError

logger = logging.getLogger(__name__)
# What a user is told when a service the arena depends on is away; the operator's log line
# says which and why.
SERVICE_AWAY = "The arena cannot reach its {what} right now; please try again in a moment."


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


async def _arena_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ArenaError)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
    return error_response(error.status, _snake_case(type(error).__name__), error.message, headers)


def describe_validation_errors(error: RequestValidationError) -> str:
    """One sentence per problem, each naming the field: `prompt: ...; choice: ...`."""
    problems = []
    for detail in error.errors():
        location = ".".join(str(part) for part in detail.get("loc", ()) if part != "body")
        problems.append(f"{location or 'request body'}: {detail.get('msg', 'is not valid')}")
    return "Invalid request — " + "; ".join(problems) + "."


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(422, "invalid_request", describe_validation_errors(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if _wants_page(request):
        from glassarena.web.templating import templates

        title = "Page not found" if error.status_code == 404 else "Something went wrong"
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": title, "message": str(error.detail), "active": None},
            status_code=error.status_code,
        )
    return error_response(error.status_code, "http_error", str(error.detail), headers=error.headers)


def _wants_page(request: Request) -> bool:
    """A browser navigating to a page, rather than a script calling the API."""
    accepts_html = "text/html" in request.headers.get("accept", "")
    return accepts_html and not request.url.path.startswith(("/api/", "/static/"))


async def _redis_error(request: Request, error: Exception) -> Response:
    logger.error("Redis unreachable during %s %s: %s", request.method, request.url.path, error)
    return _service_away(request, "shared store (Redis)")


async def _storage_error(request: Request, error: Exception) -> Response:
    logger.error("database unreachable during %s %s: %s", request.method, request.url.path, error)
    return _service_away(request, "database")


def _service_away(request: Request, what: str) -> Response:
    message = SERVICE_AWAY.format(what=what)
    headers = {"Retry-After": "5"}
    if _wants_page(request):
        from glassarena.web.templating import templates

        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": "Temporarily unavailable", "message": message, "active": None},
            status_code=503,
            headers=headers,
        )
    return error_response(503, "service_unavailable", message, headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ArenaError, _arena_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    # Errors no route turned into an ArenaError: still a 503 the user can read, not a 500.
    app.add_exception_handler(RedisError, _redis_error)
    app.add_exception_handler(StorageError, _storage_error)

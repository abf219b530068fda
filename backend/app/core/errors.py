"""Typed domain errors and the one handler that turns them into `{"error", "detail"}` bodies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ErrorBody(BaseModel):
    error: str
    detail: str


class DomainError(Exception):
    status_code = 400
    kind = "BadRequest"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotFound(DomainError):
    status_code = 404
    kind = "NotFound"


class Conflict(DomainError):
    status_code = 409
    kind = "Conflict"


class Unauthorized(DomainError):
    status_code = 401
    kind = "Unauthorized"

    def __init__(
        self, detail: str = "Sign in first: send 'Authorization: Bearer <token>'."
    ) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status_code = 403
    kind = "Forbidden"


class InvalidInput(DomainError):
    status_code = 422
    kind = "InvalidInput"


class TooManyRequests(DomainError):
    status_code = 429
    kind = "TooManyRequests"


class Unavailable(DomainError):
    status_code = 503
    kind = "Unavailable"


def responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry for a route, so OpenAPI lists the errors it can answer."""
    return {e.status_code: {"model": ErrorBody, "description": e.kind} for e in errors}


AUTH = (Unauthorized,)
ADMIN = (Unauthorized, Forbidden)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(
        {"error": exc.kind, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)

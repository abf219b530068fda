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
    assert isinstance(exc, DomainError)  # nosec B101 # type narrowing for mypy; the invariant holds by construction
    return JSONResponse(
        {"error": exc.kind, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
    )


INT64_MAX = 2**63 - 1


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """A number too large for the database (found by fuzzing: it used to answer 500).

    An id in the path that large names nothing: 404. Elsewhere it is invalid input, answered in
    FastAPI's own 422 shape, which every operation with parameters already declares.
    """
    for name, raw in request.path_params.items():
        value = raw if isinstance(raw, int) else int(raw) if str(raw).lstrip("-").isdigit() else 0
        if abs(value) > INT64_MAX:
            return JSONResponse(
                {"error": NotFound.kind, "detail": f"No object has the {name} {value}."},
                status_code=404,
            )
    msg = "A number in the request is out of range (at most 2**63 - 1)."
    route = request.scope.get("route")
    declared = getattr(route, "responses", None) or {}
    if declared.get(422, {}).get("model") is ErrorBody:  # the route answers 422 as InvalidInput
        return JSONResponse({"error": InvalidInput.kind, "detail": msg}, status_code=422)
    return JSONResponse(
        {
            "detail": [
                {
                    "loc": ["query"],
                    "msg": msg,
                    "type": "value_error",
                }
            ]
        },
        status_code=422,
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {
            "error": Unavailable.kind,
            "detail": "The database is unreachable or overloaded; try again in a few seconds "
            "(GET /health tells more).",
        },
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    from sqlalchemy.exc import InterfaceError, OperationalError

    if "out of range" in str(exc) or isinstance(getattr(exc, "orig", None), OverflowError):
        return await _out_of_range(request, exc)
    if isinstance(exc, OperationalError | InterfaceError) or getattr(
        exc, "connection_invalidated", False
    ):
        return await _unavailable(request, exc)
    raise exc


def install_error_handlers(app: FastAPI) -> None:
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DBAPIError, _database_error)
    # No pooled connection free in time, or the server refused/dropped the connection.
    app.add_exception_handler(PoolTimeout, _unavailable)
    app.add_exception_handler(ConnectionError, _unavailable)

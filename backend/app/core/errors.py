"""Typed domain errors and the handlers that give every error one body: `{"error", "detail"}`.

Validation errors add `"fields": {"<path>": "<sentence>"}` so a form can show each message
next to its field; unknown routes, wrong methods and malformed JSON answer the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.limits import clip
from app.core.validation import fields_of, summary

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    error: str = Field(description="The kind of error, e.g. NotFound or InvalidInput.")
    detail: str = Field(description="A sentence saying what went wrong and what to do.")
    fields: dict[str, str] | None = Field(
        default=None,
        description='Per wrong field its problem, e.g. {"config.port": "must be an integer '
        'between 1 and 65535"}; only on validation errors.',
    )


def error_json(kind: str, detail: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": kind, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


class DomainError(Exception):
    status_code = 400
    kind = "BadRequest"

    def __init__(
        self,
        detail: str,
        headers: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.fields = fields


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


class TwoFactorRequired(Unauthorized):
    """The password was right; the account also needs its two-factor code."""

    kind = "TwoFactorRequired"

    def __init__(self) -> None:
        super().__init__(
            "This account has two-factor sign-in: enter the 6-digit code from your "
            "authenticator app, or one of your recovery codes."
        )


class Forbidden(DomainError):
    status_code = 403
    kind = "Forbidden"


class InvalidInput(DomainError):
    """Input a form can correct; `fields` maps field paths to what is wrong with each."""

    status_code = 422
    kind = "InvalidInput"

    def __init__(self, detail: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(detail, fields=fields)


class TooManyRequests(DomainError):
    status_code = 429
    kind = "TooManyRequests"


DATABASE_UNAVAILABLE = (
    "The database is not answering; Unity keeps collecting and will write when it is back. "
    "Retry in a few seconds."
)
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(DomainError):
    """The database refused, went silent or is too slow: retry later (see GET /health)."""

    status_code = 503
    kind = "DatabaseUnavailable"

    def __init__(self, detail: str = DATABASE_UNAVAILABLE) -> None:
        super().__init__(detail, {"Retry-After": str(RETRY_AFTER_SECONDS)})


class ServerError(DomainError):
    """A bug: the body says so without internals; the traceback goes to the log."""

    status_code = 500
    kind = "ServerError"

    def __init__(
        self,
        detail: str = "Unity hit an unexpected error; it is in the server log. Try again, "
        "and report it if it keeps happening.",
    ) -> None:
        super().__init__(detail)


def responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry for a route, so OpenAPI lists the errors it can answer.

    Every route that takes it reads the database, so each also lists the 503 of an outage.
    """
    kinds: tuple[type[DomainError], ...] = (*errors, DatabaseUnavailable)
    out: dict[int | str, dict[str, Any]] = {
        e.status_code: {"model": ErrorBody, "description": e.kind} for e in kinds
    }
    out[DatabaseUnavailable.status_code]["headers"] = {
        "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
    }
    return out


AUTH = (Unauthorized,)
ADMIN = (Unauthorized, Forbidden)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(
        error_json(exc.kind, exc.detail, exc.fields),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        where = (broken.get("ctx") or {}).get("error", "")
        where = clip(str(where))
        detail = "The request body is not valid JSON" + (f" ({where})" if where else "") + "."
        return JSONResponse(error_json(InvalidInput.kind, detail), status_code=422)
    fields = fields_of(errors)
    return JSONResponse(error_json(InvalidInput.kind, summary(fields), fields), status_code=422)


# Kinds for the HTTP errors Starlette raises itself (unknown route, wrong method, ...).
_HTTP_KINDS = {
    404: NotFound.kind,
    405: "MethodNotAllowed",
    401: "Unauthorized",
    413: "PayloadTooLarge",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = exc.status_code
    if code == 404:
        detail = f"Nothing at {request.url.path}; the API lives under /api/v1 (see /docs)."
    elif code == 405:
        allowed = (exc.headers or {}).get("allow") or (exc.headers or {}).get("Allow")
        detail = f"{request.method} is not allowed on {request.url.path}" + (
            f"; use {allowed}." if allowed else "."
        )
    else:
        detail = str(exc.detail)
    kind = _HTTP_KINDS.get(code, "BadRequest" if code < 500 else "ServerError")
    return JSONResponse(error_json(kind, detail), status_code=code, headers=exc.headers)


INT64_MAX = 2**63 - 1


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """A number too large for the database (found by fuzzing: it used to answer 500).

    An id in the path that large names nothing: 404. Elsewhere it is invalid input.
    """
    for name, raw in request.path_params.items():
        value = raw if isinstance(raw, int) else int(raw) if str(raw).lstrip("-").isdigit() else 0
        if abs(value) > INT64_MAX:
            return JSONResponse(
                {"error": NotFound.kind, "detail": f"No object has the {name} {value}."},
                status_code=404,
            )
    msg = "A number in the request is out of range (at most 2**63 - 1)."
    return JSONResponse(error_json(InvalidInput.kind, msg), status_code=422)


def error_response(error: DomainError) -> JSONResponse:
    return JSONResponse(
        error_json(error.kind, error.detail, error.fields),
        status_code=error.status_code,
        headers=error.headers,
    )


def unexpected(exc: BaseException) -> JSONResponse:
    """The answer to an exception nothing handled: 503 if the database is away, else a 500
    (logged with its traceback; the client gets no internals)."""
    from app.db.session import is_unavailable

    if is_unavailable(exc):
        return error_response(DatabaseUnavailable())
    log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(ServerError())


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return unexpected(exc)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if "out of range" in str(exc) or isinstance(getattr(exc, "orig", None), OverflowError):
        return await _out_of_range(request, exc)
    return unexpected(exc)


def _one_error_shape_in_openapi(app: FastAPI) -> None:
    """Document the 422 every operation with input can answer as ErrorBody, as it is sent."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.get("responses", {})
                if "HTTPValidationError" in str(answers.get("422", "")):
                    answers["422"] = {
                        "description": InvalidInput.kind,
                        "content": {"application/json": {"schema": ref}},
                    }
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI, *, postgres: bool) -> None:
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DBAPIError, _database_error)
    # No pooled connection free in time, the server refused, dropped or never answered.
    kinds: list[type[Exception]] = [PoolTimeout, OSError]
    if postgres:  # asyncpg's own errors; on SQLite the driver is never imported
        import asyncpg  # type: ignore[import-untyped]

        kinds += [asyncpg.PostgresError, asyncpg.InterfaceError]
    for kind in kinds:
        app.add_exception_handler(kind, _unavailable)
    _one_error_shape_in_openapi(app)

"""Request size limits the app enforces itself, so a 20 MB body never reaches a parser.

nginx has its own limit, but `make run` and compose's port 8000 are reachable without it.
The middleware refuses a declared Content-Length over the limit before reading anything, and
counts the bytes of a body sent without one (chunked) while it streams in, so at most the
limit plus one chunk is ever held in memory.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Input echoed back in an error body (a field name, a value) is cut to this many characters.
ECHO_MAX = 100


def clip(text: str, limit: int = ECHO_MAX) -> str:
    """`text`, or its first `limit` characters and an ellipsis: what an error may echo back."""
    return text if len(text) <= limit else text[:limit] + "…"


def human_bytes(n: int) -> str:
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def too_large_sentence(limit: int) -> str:
    return (
        f"The request body is larger than the {human_bytes(limit)} this server accepts "
        "(setting MAX_BODY_BYTES); send less data."
    )


class BodyTooLarge(HTTPException):
    """413; `sentence` replaces the general one where a route has its own, smaller limit."""

    def __init__(self, limit: int, sentence: str | None = None) -> None:
        super().__init__(413, sentence or too_large_sentence(limit))


async def read_body(request: Request, max_bytes: int, sentence: str | None = None) -> bytes:
    """The body of a route with a limit of its own, refused with BodyTooLarge past `max_bytes`:
    a declared Content-Length before anything is read, else as soon as the stream passes it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes, sentence)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BodyTooLarge(max_bytes, sentence)
    return bytes(body)


class BodyLimit:
    """Pure ASGI middleware: 413 for an HTTP request body over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised inside the route's body parsing: the error handler answers 413.
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": "PayloadTooLarge", "detail": too_large_sentence(limit)}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The client may still be sending; it should not reuse this connection.
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def json_size(value: Any) -> int:
    """The size in bytes of `value` as compact JSON (how a config is stored)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

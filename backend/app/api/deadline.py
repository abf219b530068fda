"""The request deadline: every API request answers within REQUEST_TIMEOUT_SECONDS, in JSON.

A database that goes silent (a stalled VM, a firewall dropping packets) would otherwise hold a
request until the driver gives up, and a client (nginx, a script, the UI) waits with it. At the
deadline the client gets a JSON 503 (the database is not answering: the probe says so, or nothing
from it has answered since the request began) or 504 (something else took too long) at once,
sent by a task of its own, and the route is cancelled behind it: a cleanup that hangs on a silent
database cannot hold the answer back. Routes that wait on purpose (run now, a channel test, a
plugin delete) carry `@no_deadline`.

Errors nothing else handled end here as well: a JSON 503 if the database is away, else a JSON
500 `ServerError` with no internals (the traceback goes to the log).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import DatabaseUnavailable, DomainError, error_response, unexpected

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__unity_no_deadline__"


def no_deadline(endpoint: F) -> F:
    """Exempt a route from the request deadline (it waits on purpose, within its own bound)."""
    setattr(endpoint, _MARK, True)
    return endpoint


class Timeout(DomainError):
    status_code = 504
    kind = "Timeout"


def timeout_error(seconds: float) -> Timeout:
    return Timeout(
        f"The request took longer than {seconds:g} s and was stopped; try again, or ask for "
        "less (a shorter time range, fewer series)."
    )


class DeadlineMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        seconds: float,
        database_down: Callable[[Scope, float], bool] | None = None,
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.database_down = database_down or (lambda _scope, _began: False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = answered = False
        reply: asyncio.Task[None] | None = None
        fired = False
        current = asyncio.current_task()
        assert current is not None
        began = time.monotonic()  # the probe's clock

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the deadline already answered for this request
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        def deadline() -> None:
            nonlocal answered, fired, reply
            # The router has put the matched endpoint in the scope by now.
            if getattr(scope.get("endpoint"), _MARK, False):
                return
            fired = answered = True
            down = self.database_down(scope, began)
            log.info(
                "request deadline: %s %s stopped after %gs (%s)",
                scope.get("method"),
                scope.get("path"),
                self.seconds,
                "database not answering" if down else "too slow",
            )
            if not started:  # answer now, from a task of its own: the route may not end soon
                error = DatabaseUnavailable() if down else timeout_error(self.seconds)
                reply = asyncio.ensure_future(error_response(error)(scope, receive, send))
            current.cancel()

        # A timer, not a task per request: the deadline costs next to nothing when unused.
        timer = asyncio.get_running_loop().call_later(self.seconds, deadline)
        try:
            await self.app(scope, receive, guarded_send)
            return
        except asyncio.CancelledError:
            if not fired:
                raise  # the server is stopping or the client left
            error: BaseException | None = None
        except Exception as exc:
            error = exc
        finally:
            timer.cancel()
            if fired and current.cancelling():
                current.uncancel()  # our cancel, spent: not the server's
            if reply is not None:
                await reply
        if fired:
            return
        assert error is not None
        if started:  # too late for a body of our own; the server closes the connection
            raise error
        answered = True
        await unexpected(error)(scope, receive, send)

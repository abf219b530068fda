"""The loop shape the background workers share: one-line error text, backoff, a bounded drain.

The metrics writer, the run recorder and the hub's Redis listener each retry a failing store
or connection: they report the failure the same way (`error_text`), wait the same growing
delay (`Backoff`), and stop the same way (`drain`: finish within a deadline, else cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

BACKOFF_MAX_SECONDS = 10.0


def error_text(exc: BaseException) -> str:
    """`Type: first line of the message` (at most 300 characters), for logs and /health."""
    message = str(exc)
    first = message.splitlines()[0][:300] if message else ""
    return f"{type(exc).__name__}: {first}"


class Backoff:
    """Delays that double after each failure up to a cap, and start over after a success."""

    def __init__(self, first: float = 0.5, cap: float = BACKOFF_MAX_SECONDS) -> None:
        self.first = first
        self.cap = cap
        self.delay = first

    def failed(self) -> float:
        """The delay to wait now; the next one is twice as long (up to the cap)."""
        delay, self.delay = self.delay, min(self.delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.delay = self.first


async def drain(task: asyncio.Task[Any] | None, deadline: float) -> bool:
    """Let `task` finish within `deadline` seconds, else cancel it; True if it finished."""
    if task is None:
        return True
    try:
        await asyncio.wait_for(asyncio.shield(task), deadline)
        return True
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
